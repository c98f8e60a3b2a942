// The chunk reader opens on worker threads exactly what the codec opens on this thread: byte-exact
// plaintexts in order, and the codec's errors (by class and code) for tampered or misnamed chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChunkReader, createCodec, createKey, IntegrityError, WorkerFailedError, type KeyMaterial } from '../../src/engine/index.js';
import { randomish, textish } from './data.js';

const FAST = { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } };

async function material(): Promise<KeyMaterial> {
  return (await createKey('repokey-aes-ocb', 'pw', FAST)).key;
}

test('openMany returns every plaintext byte-exact and in order, across workers, with transferred inputs', async () => {
  const key = await material();
  const codec = await createCodec(key, { compression: 'zstd,3' });
  const plains = [textish('a', 300_000), randomish('b', 70_000), new Uint8Array(0), textish('c', 5), randomish('d', 1_000_000)];
  const ids = plains.map((p) => codec.id(p));
  const reader = await createChunkReader(key, { workers: 2 });
  try {
    const batches = await Promise.all([0, 1, 2].map(() => {
      const stored = plains.map((p, i) => codec.seal(ids[i], p));
      return reader.openMany(ids, stored);
    }));
    for (const got of batches) {
      assert.equal(got.length, plains.length);
      got.forEach((g, i) => assert.deepEqual(Buffer.from(g), Buffer.from(plains[i])));
    }
    // Views into one shared buffer (as Repository.getMany returns) are copied, not detached.
    const sealed = plains.map((p, i) => codec.seal(ids[i], p));
    const shared = Buffer.concat(sealed);
    let at = 0;
    const views = sealed.map((s) => { const v = shared.subarray(at, at + s.length); at += s.length; return v; });
    const got = await reader.openMany(ids, views);
    got.forEach((g, i) => assert.deepEqual(Buffer.from(g), Buffer.from(plains[i])));
    assert.equal(shared.length, at, 'the shared buffer is still usable');
  } finally {
    await reader.close();
  }
});

test('a tampered chunk or a chunk under another id rejects with IntegrityError; a closed reader with WorkerFailedError', async () => {
  const key = await material();
  const codec = await createCodec(key);
  const a = textish('x', 10_000);
  const b = textish('y', 10_000);
  const [idA, idB] = [codec.id(a), codec.id(b)];
  const reader = await createChunkReader(key, { workers: 1 });
  try {
    const tampered = codec.seal(idA, a);
    tampered[tampered.length - 20] ^= 1;
    await assert.rejects(reader.openMany([idB, idA], [codec.seal(idB, b), tampered]), (e) => e instanceof IntegrityError && e.code === 'ECHUNK_INTEGRITY');
    await assert.rejects(reader.openMany([idB], [codec.seal(idA, a)]), (e) => e instanceof IntegrityError && e.code === 'ECHUNK_INTEGRITY');
    // The worker survives a failed batch.
    assert.deepEqual(Buffer.from((await reader.openMany([idA], [codec.seal(idA, a)]))[0]), Buffer.from(a));
  } finally {
    await reader.close();
  }
  await assert.rejects(reader.openMany([idA], [codec.seal(idA, a)]), (e) => e instanceof WorkerFailedError && e.code === 'EWORKER_FAILED');
});
