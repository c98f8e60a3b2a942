/** Related keys (`rcreate --other-repo`): shared id key, own encryption key; `none` ↔ keyed refused; the other passphrase's variables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKey, createCodec, idKeyFingerprint, InvalidOptionError, keyFingerprint, openKey, PassphraseUnavailableError, readPassphrase, sameIdKey } from '../../src/engine/index.js';

const FAST = { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } };
const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

test('a related key shares id algorithm, MAC key and chunker seed, and has its own encryption key, mode and repository id', async () => {
  const { key: src } = await createKey('authenticated', 'one', { ...FAST, repositoryId: ID_A, idAlgorithm: 'blake3' });
  const { key: dst, blob } = await createKey('repokey-chacha20-poly1305', 'two', { ...FAST, repositoryId: ID_B, idKeyFrom: src });
  const reopened = await openKey(blob, 'two');
  assert.ok(sameIdKey(src, reopened));
  assert.equal(reopened.idAlgorithm, 'blake3');
  assert.equal(reopened.repositoryId, ID_B);
  assert.notDeepEqual(reopened.encryptionKey, src.encryptionKey);
  assert.notEqual(keyFingerprint(reopened), keyFingerprint(src));
  assert.equal(idKeyFingerprint(reopened), idKeyFingerprint(src));
  // Equal plaintext, equal id; each side opens only what it sealed.
  const [a, b] = await Promise.all([createCodec(src), createCodec(dst)]);
  const data = new TextEncoder().encode('the same data on both sides');
  assert.deepEqual(a.id(data), b.id(data));
  const sealed = await b.seal(b.id(data), data);
  assert.deepEqual(await b.open(b.id(data), sealed), data);

  const { key: unrelated } = await createKey('repokey-chacha20-poly1305', 'two', { ...FAST, repositoryId: ID_B });
  assert.ok(!sameIdKey(unrelated, src));
  assert.notEqual(idKeyFingerprint(unrelated), idKeyFingerprint(src));
});

test('mode none cannot be related to a keyed mode, either way; two none keys are related', async () => {
  const { key: keyed } = await createKey('repokey-aes-ocb', 'one', { ...FAST, repositoryId: ID_A });
  const { key: none } = await createKey('none', '', { repositoryId: ID_A });
  await assert.rejects(createKey('none', '', { repositoryId: ID_B, idKeyFrom: keyed }), (e: unknown) => e instanceof InvalidOptionError && e.code === 'EINVALID_OPTION');
  await assert.rejects(createKey('repokey-aes-ocb', 'two', { ...FAST, repositoryId: ID_B, idKeyFrom: none }), (e: unknown) => e instanceof InvalidOptionError && e.code === 'EINVALID_OPTION');
  const { key: none2 } = await createKey('none', '', { repositoryId: ID_B, idKeyFrom: none });
  assert.ok(sameIdKey(none, none2));
});

test('readPassphrase reads the variables it is told to (CAIRN_OTHER_PASSPHRASE, CAIRN_OTHER_PASSCOMMAND) and names them when missing', async () => {
  const variables = { passphrase: 'CAIRN_OTHER_PASSPHRASE', command: 'CAIRN_OTHER_PASSCOMMAND' };
  const notTTY = { isTTY: false, on() {}, removeListener() {}, resume() {}, pause() {} };
  assert.equal(await readPassphrase({ env: { CAIRN_PASSPHRASE: 'mine', CAIRN_OTHER_PASSPHRASE: 'other' }, variables }), 'other');
  assert.equal(await readPassphrase({ env: { CAIRN_PASSPHRASE: 'mine', CAIRN_OTHER_PASSCOMMAND: 'echo from-command' }, variables }), 'from-command');
  await assert.rejects(readPassphrase({ env: { CAIRN_PASSPHRASE: 'mine' }, variables, input: notTTY }), (e: unknown) => e instanceof PassphraseUnavailableError && /CAIRN_OTHER_PASSPHRASE/.test(e.message));
});
