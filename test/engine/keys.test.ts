/** Keys: every mode, wrong passphrase and corrupt blobs as typed errors, passphrase change, export/import, input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitCommand } from '../../src/engine/keys/split-command.js';
import {
  changePassphrase, createKey, describeKey, exportKey, importKey, KeyCorruptError, KeyOutdatedError, keyFingerprint, openKey, PassphraseUnavailableError,
  readPassphrase, WrongPassphraseError, InvalidOptionError, type KeyMode, type PromptInput,
} from '../../src/engine/index.js';

const FAST = { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } };
const SECRET = 'correct horse battery staple';
const MODES: KeyMode[] = ['repokey-aes-ocb', 'repokey-chacha20-poly1305', 'keyfile-aes-ocb', 'keyfile-chacha20-poly1305', 'authenticated', 'none'];

test('every mode creates a key that opens to the same material', async () => {
  for (const mode of MODES) {
    const { key, blob } = await createKey(mode, SECRET, FAST);
    assert.equal(key.mode, mode);
    assert.deepEqual(await openKey(blob, SECRET), key, mode);
    assert.equal(describeKey(blob).mode, mode);
    assert.equal(blob.length, mode === 'none' ? 228 : 244, 'documented blob size');
  }
  const { key } = await createKey('repokey-aes-ocb', SECRET, { ...FAST, idAlgorithm: 'blake3' });
  assert.equal(key.idAlgorithm, 'blake3');
  assert.equal(key.suite, 'aes-256-ocb');
});

test('Argon2id parameters are stored in the blob; the default is strong', async () => {
  const { blob } = await createKey('repokey-aes-ocb', SECRET, { kdf: { memoryKiB: 128, iterations: 2, parallelism: 2 } });
  assert.deepEqual(describeKey(blob).kdf, { memoryKiB: 128, iterations: 2, parallelism: 2 });
  const { DEFAULT_KDF } = await import('../../src/engine/index.js');
  assert.ok(DEFAULT_KDF.memoryKiB >= 64 * 1024 && DEFAULT_KDF.iterations >= 3);
});

test('a wrong passphrase is WrongPassphraseError with a one-line message and no secret', async () => {
  const { blob } = await createKey('repokey-chacha20-poly1305', SECRET, FAST);
  await assert.rejects(openKey(blob, 'Tr0ub4dor&3'), (e: unknown) => {
    assert.ok(e instanceof WrongPassphraseError);
    assert.equal(e.code, 'EWRONG_PASSPHRASE');
    assert.ok(!e.message.includes('\n') && !e.message.includes('Tr0ub4dor') && !e.message.includes(SECRET));
    return true;
  });
});

test('a corrupt key blob is KeyCorruptError, whatever byte is damaged', async () => {
  const { blob } = await createKey('keyfile-aes-ocb', SECRET, FAST);
  for (let i = 0; i < blob.length; i++) {
    const bad = new Uint8Array(blob);
    bad[i] ^= 0x40;
    await assert.rejects(openKey(bad, SECRET), (e: unknown) => e instanceof KeyCorruptError && e.code === 'EKEY_CORRUPT', `byte ${i}`);
  }
  for (const bad of [blob.subarray(0, 100), new Uint8Array(0), new Uint8Array([...blob, 0]), new TextEncoder().encode('hello world, not a key at all, ........................................................................')]) {
    await assert.rejects(openKey(bad, SECRET), (e: unknown) => e instanceof KeyCorruptError && !e.message.includes('\n'));
  }
});

test('Argon2id costs past the bounds are a corrupt key on read and refused on creation (F6)', async () => {
  const { blob } = await createKey('repokey-aes-ocb', SECRET, FAST);
  // A bucket writer rewrites the clear header and recomputes the SHA-256 trailer.
  const forge = (edit: (view: DataView, b: Uint8Array) => void): Uint8Array => {
    const b = blob.slice();
    edit(new DataView(b.buffer), b);
    b.set(createHash('sha256').update(b.subarray(0, b.length - 32)).digest(), b.length - 32);
    return b;
  };
  const hostile = [
    forge((v) => v.setUint32(15, 0xffffffff)),
    forge((v) => v.setUint32(15, 17)),
    forge((v) => v.setUint32(11, 2 * 1024 * 1024 + 1)),
    forge((_v, b) => { b[19] = 17; }),
  ];
  for (const bad of hostile) {
    const started = Date.now();
    await assert.rejects(openKey(bad, SECRET), (e: unknown) => e instanceof KeyCorruptError && e.code === 'EKEY_CORRUPT');
    assert.ok(Date.now() - started < 1000, 'refused before any key derivation');
  }
  await assert.rejects(openKey(forge((v) => v.setUint32(15, 2)), SECRET), WrongPassphraseError, 'in bounds: derived, then the AAD fails');
  await assert.rejects(createKey('repokey-aes-ocb', SECRET, { kdf: { memoryKiB: 64, iterations: 17, parallelism: 1 } }), InvalidOptionError);
  await createKey('repokey-aes-ocb', SECRET, { kdf: { memoryKiB: 128, iterations: 16, parallelism: 16 } });
});

test('empty passphrases and unknown modes are refused', async () => {
  await assert.rejects(createKey('repokey-aes-ocb', '', FAST), InvalidOptionError);
  await assert.rejects(createKey('nonsense' as KeyMode, SECRET, FAST), InvalidOptionError);
  await assert.rejects(createKey('repokey-aes-ocb', SECRET, { kdf: { memoryKiB: 1, iterations: 1, parallelism: 1 } }), InvalidOptionError);
});

test('change-passphrase keeps the key material and retires the old passphrase', async () => {
  const { key, blob } = await createKey('repokey-aes-ocb', SECRET, FAST);
  const changed = await changePassphrase(blob, SECRET, 'new passphrase ☃');
  assert.deepEqual(await openKey(changed, 'new passphrase ☃'), key);
  await assert.rejects(openKey(changed, SECRET), WrongPassphraseError);
  assert.deepEqual(describeKey(changed).kdf, FAST.kdf);
  await assert.rejects(changePassphrase(blob, 'wrong', 'x'), WrongPassphraseError);
  // NFC normalization: the same passphrase typed in decomposed form opens it.
  const nfc = await changePassphrase(blob, SECRET, 'caf\u00e9');
  assert.deepEqual(await openKey(nfc, 'cafe\u0301'), key);
});

test('export and import: text and paper forms round-trip; a paper typo names its line', async () => {
  const { key, blob } = await createKey('keyfile-chacha20-poly1305', SECRET, FAST);
  const text = exportKey(blob, 'text');
  assert.match(text, /^-----BEGIN CAIRN KEY-----\n[A-Za-z0-9+/=\n]+\n-----END CAIRN KEY-----\n$/);
  assert.deepEqual(importKey(text), blob);
  const paper = exportKey(blob, 'paper');
  assert.match(paper.split('\n')[1], /^01: ([0-9a-f]{4} ){8}[0-9a-f]{4} - [0-9a-f]{2}$/);
  assert.deepEqual(importKey(paper), blob);
  assert.deepEqual(await openKey(importKey(paper.toUpperCase().replace(/ /g, '  ')), SECRET), key);
  const lines = paper.split('\n');
  // A one-digit typo in each of line 3's eight groups. The line's check digits are 8 bits, so 1 typo in 256 keeps them
  // (the key is random: this test, trying one typo, failed once so in a CI run); the blob's own checksum then refuses
  // it without naming the line. Every typo is refused; nearly all name line 3.
  let named = 0;
  for (let group = 0; group < 8; group++) {
    const typo = [...lines];
    typo[3] = typo[3].replace(new RegExp(`^(03: (?:[0-9a-f]{4} ){${group}})([0-9a-f])`), (_, head: string, d: string) => head + (d === '0' ? '1' : '0'));
    assert.notEqual(typo[3], lines[3]);
    assert.throws(() => importKey(typo.join('\n')), (e: unknown) => {
      assert.ok(e instanceof KeyCorruptError, String(e));
      if (/line 3/.test(e.message)) named += 1;
      return true;
    });
  }
  assert.ok(named >= 6, `${named} of 8 typos named line 3`);
  assert.throws(() => importKey(lines.slice(0, 3).join('\n')), KeyCorruptError);
  assert.throws(() => importKey('-----BEGIN CAIRN KEY-----\nQUJD\n-----END CAIRN KEY-----\n'), KeyCorruptError);
});

test('readPassphrase: CAIRN_PASSPHRASE, then CAIRN_PASSCOMMAND, else a typed error without a terminal', async () => {
  assert.equal(await readPassphrase({ env: { CAIRN_PASSPHRASE: 'from env', CAIRN_PASSCOMMAND: 'echo no' } }), 'from env');
  assert.equal(await readPassphrase({ env: { CAIRN_PASSCOMMAND: 'printf "from command\\nsecond line"' } }), 'from command');
  await assert.rejects(readPassphrase({ env: { CAIRN_PASSCOMMAND: "sh -c 'echo leaked-secret; exit 3'" } }), (e: unknown) => {
    assert.ok(e instanceof PassphraseUnavailableError);
    assert.ok(!e.message.includes('leaked-secret'));
    return true;
  });
  await assert.rejects(readPassphrase({ env: {}, input: fakeTty(false) }), (e: unknown) => e instanceof PassphraseUnavailableError && e.code === 'EPASSPHRASE_UNAVAILABLE');
});

test('CAIRN_PASSCOMMAND is split into words like a shell would, but run without one', async () => {
  assert.deepEqual(splitCommand(`gpg -d  'my file' "a \\"b\\" $X" c\\ d e\\;f ''`), ['gpg', '-d', 'my file', 'a "b" $X', 'c d', 'e;f', '']);
  assert.deepEqual(splitCommand('a;b|c && d > e'), ['a;b|c', '&&', 'd', '>', 'e']);
  for (const bad of [`'open`, `"open`, 'trailing\\']) assert.equal(splitCommand(bad), undefined, bad);
  const dir = await mkdtemp(join(tmpdir(), 'cairn-passcommand-'));
  try {
    const mark = join(dir, 'mark');
    // Through a shell this would print "a" and create the file; without one it is printf's arguments.
    assert.equal(await readPassphrase({ env: { CAIRN_PASSCOMMAND: `printf %s a;touch ${mark}|cat` } }), `a;touch${mark}|cat`);
    assert.equal(await readPassphrase({ env: { CAIRN_PASSCOMMAND: `printf %s "$HOME"` } }), '$HOME');
    await assert.rejects(stat(mark), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  for (const env of [{ CAIRN_PASSCOMMAND: "printf 'x" }, { CAIRN_PASSCOMMAND: 'no-such-command-cairn' }, { CAIRN_PASSCOMMAND: 'printf ""' }, { CAIRN_PASSPHRASE: '' }]) {
    await assert.rejects(readPassphrase({ env }), (e: unknown) => e instanceof PassphraseUnavailableError && e.code === 'EPASSPHRASE_UNAVAILABLE', JSON.stringify(env));
  }
  const { blob } = await createKey('repokey-aes-ocb', SECRET, FAST);
  await assert.rejects(openKey(blob, ''), WrongPassphraseError);
});

test('readPassphrase on a terminal: raw mode (no echo), backspace, confirm, Ctrl-C', async () => {
  const out: string[] = [];
  const tty = fakeTty(true);
  const typed = readPassphrase({ env: {}, input: tty, output: { write: (t: string) => out.push(t) }, prompt: 'Passphrase: ' });
  tty.type('sekrit');
  tty.type('\u007f\u007ft\r');
  assert.equal(await typed, 'sekrt');
  assert.ok(!out.join('').includes('sek'), 'nothing typed is echoed');
  assert.deepEqual(tty.rawModes, [true, false]);
  const confirm = readPassphrase({ env: {}, input: tty, output: { write: () => true }, confirm: true });
  tty.type('one\r');
  await new Promise<void>((r) => setImmediate(r));
  tty.type('two\r');
  await assert.rejects(confirm, PassphraseUnavailableError);
  const cancelled = readPassphrase({ env: {}, input: tty, output: { write: () => true } });
  tty.type('\u0003');
  await assert.rejects(cancelled, PassphraseUnavailableError);
});

function fakeTty(isTTY: boolean): PromptInput & { type(s: string): void; rawModes: boolean[] } {
  const em = new EventEmitter();
  const rawModes: boolean[] = [];
  return {
    isTTY,
    rawModes,
    setRawMode: (m: boolean) => rawModes.push(m),
    on: (ev, fn) => em.on(ev, fn),
    removeListener: (ev, fn) => em.removeListener(ev, fn),
    resume: () => undefined,
    pause: () => undefined,
    type: (s: string) => em.emit('data', Buffer.from(s)),
  };
}

test('the repository id is sealed in the key; the fingerprint names the key material', async () => {
  const id = 'c0ffee'.padEnd(64, '0');
  const { key, blob } = await createKey('repokey-chacha20-poly1305', SECRET, { ...FAST, repositoryId: id });
  assert.equal((await openKey(blob, SECRET)).repositoryId, id);
  assert.equal((await openKey(await changePassphrase(blob, SECRET, 'other'), 'other')).repositoryId, id, 'kept by change-passphrase');
  assert.match(keyFingerprint(key), /^[0-9a-f]{32}$/);
  assert.notEqual(keyFingerprint((await createKey('repokey-chacha20-poly1305', SECRET, { ...FAST, repositoryId: id })).key), keyFingerprint(key));
  await assert.rejects(createKey('none', '', { repositoryId: 'not hex' }), InvalidOptionError);
});

test('a version 1 key blob (no repository id) is refused as KeyOutdatedError', async () => {
  // The version 1 layout of a none-mode blob: 64-byte header, 100-byte clear payload, SHA-256.
  const header = Buffer.alloc(64);
  header.write('CAIRNKEY', 0, 'latin1');
  header[8] = 1;
  header[9] = 6;
  header.writeUInt32BE(100, 60);
  const payload = Buffer.alloc(100);
  payload[0] = 1;
  payload[1] = 0;
  payload[2] = 3;
  const body = Buffer.concat([header, payload]);
  const v1 = new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
  await assert.rejects(openKey(v1, ''), (e: unknown) => e instanceof KeyOutdatedError && e.code === 'EKEY_OUTDATED');
});
