// Argon2id runs on Node's own implementation where it exists (Node 24.7+: ~4× faster than the
// WebAssembly build at the default costs, paid by every command that unlocks) and gives the same
// bytes as the WebAssembly fallback, so key files move freely between Node versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { deriveKek, kdfImplementation } from '../../src/engine/keys/kdf.js';

const hasNative = typeof (nodeCrypto as { argon2?: unknown }).argon2 === 'function';

test('the native Argon2id is used where Node has it', () => {
  assert.equal(kdfImplementation(), hasNative ? 'native' : 'wasm');
  if (process.versions.node.split('.').map(Number)[0]! >= 24) assert.equal(kdfImplementation(), 'native');
});

test('native and WebAssembly Argon2id give the same 32 bytes (NFC-normalized passphrase, several costs)', { skip: !hasNative && 'no crypto.argon2 in this Node' }, async () => {
  const cases = [
    { pass: 'correct horse', salt: Buffer.alloc(16, 1), params: { memoryKiB: 64, iterations: 1, parallelism: 1 } },
    { pass: 'Ame\u0301lie', salt: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), params: { memoryKiB: 1024, iterations: 2, parallelism: 4 } },
    { pass: 'x', salt: Buffer.alloc(16, 0xff), params: { memoryKiB: 256, iterations: 3, parallelism: 2 } },
  ];
  for (const { pass, salt, params } of cases) {
    const native = await deriveKek(pass, salt, params, 'native');
    const wasm = await deriveKek(pass, salt, params, 'wasm');
    assert.equal(native.length, 32);
    assert.deepEqual(Buffer.from(native), Buffer.from(wasm));
  }
  // NFC: the decomposed and composed spellings derive the same key.
  const p = { memoryKiB: 64, iterations: 1, parallelism: 1 };
  assert.deepEqual(Buffer.from(await deriveKek('Ame\u0301lie', Buffer.alloc(16), p)), Buffer.from(await deriveKek('Am\u00e9lie', Buffer.alloc(16), p)));
});
