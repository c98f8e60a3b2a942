/** Pipeline: same chunks as the in-thread chunker in input order, dedup callback, backpressure, errors, clean close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChunker, createCodec, createKey, createPipeline, EngineError, releaseBytes, WorkerFailedError, type KeyMaterial, type PipelineChunk } from '../../src/engine/index.js';
import { randomish, textish } from './data.js';

const SIZES = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };
const FAST = { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function material(): Promise<KeyMaterial> {
  return (await createKey('repokey-aes-ocb', 'pw', FAST)).key;
}

function pieces(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

async function collect(it: AsyncIterable<PipelineChunk>): Promise<PipelineChunk[]> {
  const out: PipelineChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

test('2 workers yield the chunker\'s chunks in input order, each sealed and openable', async () => {
  const key = await material();
  const data = new Uint8Array(Buffer.concat([textish('p', 1_500_000), randomish('q', 1_500_000)]));
  const expected: Uint8Array[] = [];
  for await (const c of createChunker(key.chunkerSeed, SIZES).chunks([data])) expected.push(c);
  const codec = await createCodec(key);
  const pipeline = await createPipeline(key, { workers: 2, chunker: SIZES, segmentSize: 100_000, compression: 'zstd' });
  try {
    const got = await collect(pipeline.run(pieces(data, 77_777)));
    assert.deepEqual(got.map((c) => c.size), expected.map((c) => c.length));
    got.forEach((c, i) => {
      assert.equal(hex(c.id), hex(codec.id(expected[i])));
      assert.deepEqual(codec.open(c.id, c.stored!), expected[i]);
    });
    const dir = await mkdtemp(join(tmpdir(), 'cairn-engine-'));
    try {
      await writeFile(join(dir, 'f'), data);
      const fromFile = await collect(pipeline.run(join(dir, 'f')));
      assert.deepEqual(fromFile.map((c) => hex(c.id)), got.map((c) => hex(c.id)));
      // Stopping early closes the file: the number of open descriptors comes back to where it was.
      const fds = async () => (await readdir('/proc/self/fd')).length;
      const before = await fds();
      for await (const c of pipeline.run(join(dir, 'f'))) if (c.size > 0) break;
      assert.equal(await fds(), before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await pipeline.close();
  }
});

test('known chunks come without stored bytes; a chunk repeated in a run is sealed once, at its first occurrence', async () => {
  const key = await material();
  const block = randomish('block', 200_000);
  const data = new Uint8Array(Buffer.concat([randomish('head', 300_000), block, block, block, block]));
  const pipeline = await createPipeline(key, { workers: 2, chunker: { fixed: 100_000 } });
  try {
    const first = await collect(pipeline.run([data]));
    const knownIds = new Set([hex(first[0].id), hex(first[1].id)]);
    const calls: string[] = [];
    let active = 0;
    const second = await collect(pipeline.run([data], {
      isKnown: async (id) => {
        assert.equal(active++, 0, 'isKnown is never called concurrently');
        calls.push(hex(id));
        await new Promise<void>((r) => setTimeout(r, 1));
        active--;
        return knownIds.has(hex(id));
      },
    }));
    assert.deepEqual(second.map((c) => hex(c.id)), first.map((c) => hex(c.id)));
    assert.deepEqual(calls, first.map((c) => hex(c.id)).filter((h, i, all) => all.indexOf(h) === i), 'asked once per distinct id, in order');
    const withStored = second.map((c) => c.stored !== undefined);
    assert.deepEqual(withStored, [false, false, true, true, true, false, false, false, false, false, false]);
  } finally {
    await pipeline.close();
  }
});

test('backpressure: a consumer that stops pulling stops the pipeline within its window', async () => {
  const key = await material();
  const pipeline = await createPipeline(key, { workers: 2, chunker: { fixed: 16 * 1024 }, segmentSize: 16 * 1024, window: 4 });
  let asked = 0;
  let read = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 200; i++) {
      read++;
      yield randomish(`bp${i}`, 16 * 1024);
    }
  }
  try {
    const it = pipeline.run(source(), { isKnown: () => (asked++, false) });
    await it.next();
    await new Promise<void>((r) => setTimeout(r, 300));
    assert.ok(asked <= 6, `${asked} chunks were taken while the consumer held 1`);
    assert.ok(read <= 10, `${read} pieces were read while the consumer held 1`);
    await it.return(undefined);
  } finally {
    await pipeline.close();
  }
});

test('an error thrown in a worker rejects the run with a typed error', async () => {
  const key = await material();
  const pipeline = await createPipeline(key, { workers: 2, chunker: SIZES, fault: { kind: 'throw', afterTasks: 3 } });
  try {
    await assert.rejects(collect(pipeline.run([randomish('e', 2_000_000)])), (e: unknown) => e instanceof WorkerFailedError && e.code === 'EWORKER_FAILED');
  } finally {
    await pipeline.close();
  }
});

test('a crashing worker rejects the run and every later run; close() still ends cleanly', async () => {
  const key = await material();
  const pipeline = await createPipeline(key, { workers: 2, chunker: SIZES, fault: { kind: 'crash', afterTasks: 2 } });
  await assert.rejects(collect(pipeline.run([randomish('c', 2_000_000)])), (e: unknown) => e instanceof WorkerFailedError);
  await assert.rejects(collect(pipeline.run([randomish('d', 100_000)])), WorkerFailedError);
  await pipeline.close();
});

test('errors from the source or from isKnown reject the run; a closed pipeline refuses work', async () => {
  const key = await material();
  const pipeline = await createPipeline(key, { workers: 1, chunker: SIZES });
  await assert.rejects(collect(pipeline.run('/nonexistent/cairn/file')), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield randomish('x', 50_000);
    throw new EngineError('test-source', 'source failed');
  }
  await assert.rejects(collect(pipeline.run(broken())), (e: unknown) => e instanceof EngineError && e.code === 'test-source');
  const failing = () => Promise.reject(new EngineError('test-dedup', 'dedup failed'));
  await assert.rejects(collect(pipeline.run([randomish('y', 500_000)], { isKnown: failing })), (e: unknown) => e instanceof EngineError && e.code === 'test-dedup');
  assert.equal((await collect(pipeline.run([]))).length, 0);
  await pipeline.close();
  await assert.rejects(collect(pipeline.run([randomish('z', 50_000)])), WorkerFailedError);
});

test('an uncompressed chunk opens to a plaintext that owns its whole buffer, apart from the stored bytes (encrypted and unencrypted)', async () => {
  for (const mode of ['repokey-aes-ocb', 'none'] as const) {
    const key = (await createKey(mode, 'pw', FAST)).key;
    const codec = await createCodec(key, { compression: 'lz4' });
    // Random bytes do not compress: the frame's body is the plaintext itself.
    const plains = [randomish('u', 200_000), randomish('v', 70_000)];
    const ids = plains.map((p) => codec.id(p));
    const stored = plains.map((p, i) => codec.seal(ids[i], p));
    const pipeline = await createPipeline(key, { workers: 1 });
    try {
      for (const opened of [stored.map((s, i) => codec.open(ids[i], s)), await pipeline.open(ids, stored)]) {
        opened.forEach((p, i) => {
          assert.deepEqual(Buffer.from(p!), Buffer.from(plains[i]), mode);
          // A view into the frame (or into the stored bytes) would keep them alive, or be cloned whole on its way
          // between threads; and freeing it would empty what it shares memory with.
          assert.equal(p!.byteOffset, 0, mode);
          assert.equal(p!.byteLength, p!.buffer.byteLength, mode);
          assert.notEqual(p!.buffer, stored[i].buffer, mode);
        });
      }
      const before = Buffer.from(stored[0]);
      const opened = codec.open(ids[0], stored[0]);
      releaseBytes(opened);
      assert.deepEqual(Buffer.from(stored[0]), before, 'freeing a plaintext leaves its stored bytes');
    } finally {
      await pipeline.close();
    }
  }
});

test('open: a batch of chunks opened on the workers equals Codec.open, a bad one is undefined in its place, the inputs stay usable', async () => {
  const key = await material();
  const codec = await createCodec(key, { compression: 'zstd,3' });
  const plains = [textish('o', 300_000), randomish('r', 70_000), new Uint8Array(0), textish('s', 5)];
  const ids = plains.map((p) => codec.id(p));
  const stored = plains.map((p, i) => codec.seal(ids[i], p));
  // Chunk 1 is sealed under the id of chunk 3: its envelope is authentic but bound to another id.
  stored[1] = codec.seal(ids[3], plains[1]);
  const storedCopy = stored.map((s) => Buffer.from(s));
  const pipeline = await createPipeline(key, { workers: 2 });
  try {
    const opened = await pipeline.open(ids, stored);
    assert.equal(opened.length, 4);
    assert.deepEqual(Buffer.from(opened[0]!), Buffer.from(plains[0]));
    assert.equal(opened[1], undefined);
    assert.deepEqual(Buffer.from(opened[2]!), Buffer.alloc(0));
    assert.deepEqual(Buffer.from(opened[3]!), Buffer.from(plains[3]));
    // The caller's buffers were copied, not moved: still whole and unchanged.
    stored.forEach((s, i) => assert.deepEqual(Buffer.from(s), storedCopy[i]));
    // What the worker refused, Codec.open refuses too, with its error.
    assert.throws(() => codec.open(ids[1], stored[1]), (e: unknown) => e instanceof EngineError && e.code === 'ECHUNK_INTEGRITY');
    await assert.rejects(pipeline.open([ids[0].subarray(0, 16)], [stored[0]]), (e: unknown) => e instanceof EngineError && e.code === 'EINVALID_OPTION');
  } finally {
    await pipeline.close();
  }
  await assert.rejects(pipeline.open([ids[0]], [stored[0]]), WorkerFailedError);
});
