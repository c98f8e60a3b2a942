/** Chunk ids: published HMAC-SHA256 and keyed BLAKE3 vectors, and the key separation of ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIdFunction, InvalidOptionError } from '../../src/engine/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('HMAC-SHA256 id: RFC 4231 test case 2', async () => {
  const id = await createIdFunction('hmac-sha256', Buffer.from('Jefe'));
  assert.equal(hex(id(Buffer.from('what do ya want for nothing?'))), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

test('keyed BLAKE3 id: official test vector (empty input)', async () => {
  const id = await createIdFunction('blake3', Buffer.from('whats the Elvish word for friend'));
  assert.equal(hex(id(new Uint8Array(0))), '92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26');
  // The hasher is reused between calls: the second call must not depend on the first.
  assert.equal(hex(id(new Uint8Array(0))), '92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26');
});

test('ids are 32 bytes, equal for equal data, different across keys', async () => {
  const data = Buffer.from('same plaintext');
  for (const alg of ['hmac-sha256', 'blake3'] as const) {
    const a = await createIdFunction(alg, new Uint8Array(32).fill(1));
    const b = await createIdFunction(alg, new Uint8Array(32).fill(2));
    assert.equal(a(data).length, 32);
    assert.deepEqual(a(data), a(Buffer.from(data)));
    assert.notDeepEqual(a(data), b(data));
  }
  const plain = await createIdFunction('sha256', new Uint8Array(32));
  assert.equal(hex(plain(Buffer.from('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('keyed BLAKE3 needs a 32-byte key', async () => {
  await assert.rejects(createIdFunction('blake3', new Uint8Array(16)), (e: unknown) => e instanceof InvalidOptionError && e.code === 'EINVALID_OPTION');
});
