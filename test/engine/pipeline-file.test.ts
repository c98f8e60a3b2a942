/** Pipeline with a FileSource: a one-chunk file is read, id'd and sealed by a worker with the same result as a stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCodec, createKey, createPipeline, type PipelineChunk } from '../../src/engine/index.js';
import { FileSource, WorkerPool } from '../../src/engine/pipeline/index.js';
import type { FileResult } from '../../src/engine/pipeline/protocol.js';
import { parseCompression } from '../../src/engine/compress/index.js';
import { randomish } from './data.js';

const SIZES = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };
const FAST = { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } };

async function collect(it: AsyncIterable<PipelineChunk>): Promise<PipelineChunk[]> {
  const out: PipelineChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

test('FileSource: small, empty, larger-than-one-chunk and known files; a replaced file is ECHANGED', async () => {
  const { key } = await createKey('repokey-aes-ocb', 'pw', FAST);
  const codec = await createCodec(key);
  const dir = await mkdtemp(join(tmpdir(), 'cairn-pipeline-file-'));
  const pipeline = await createPipeline(key, { workers: 2, chunker: SIZES, segmentSize: 100_000 });
  try {
    const source = async (name: string, data: Uint8Array): Promise<FileSource> => {
      const path = join(dir, name);
      await writeFile(path, data);
      return new FileSource(Buffer.from(path), await lstat(path, { bigint: true }));
    };
    for (const size of [0, 1, 5000, SIZES.min, SIZES.min + 1, 300_000]) {
      const data = randomish(`f${size}`, size);
      const got = await collect(pipeline.run(await source(`f${size}`, data)));
      const streamed = await collect(pipeline.run([data]));
      assert.deepEqual(got.map((c) => [Buffer.from(c.id).toString('hex'), c.size]), streamed.map((c) => [Buffer.from(c.id).toString('hex'), c.size]));
      assert.equal(got.reduce((n, c) => n + c.size, 0), size);
      let at = 0;
      for (const c of got) {
        assert.ok(c.stored);
        assert.deepEqual(codec.open(c.id, c.stored), data.subarray(at, at + c.size));
        at += c.size;
      }
    }
    const small = randomish('known', 2000);
    const known = await collect(pipeline.run(await source('known', small), { isKnown: () => true }));
    assert.equal(known.length, 1);
    assert.equal(known[0].stored, undefined);
    // Grown since the walk (still small): the size hint is stale, the content is what is read.
    const grown = await source('grown', randomish('g1', 100));
    await writeFile(join(dir, 'grown'), randomish('g2', 30_000));
    assert.equal((await collect(pipeline.run(grown))).reduce((n, c) => n + c.size, 0), 30_000);
    const replaced = await source('replaced', small);
    await writeFile(join(dir, 'other'), small);
    await rename(join(dir, 'other'), join(dir, 'replaced'));
    await assert.rejects(collect(pipeline.run(replaced)), (err: NodeJS.ErrnoException) => err.code === 'ECHANGED');
    const gone = await source('gone', small);
    await rm(join(dir, 'gone'));
    await assert.rejects(collect(pipeline.run(gone)), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  } finally {
    await pipeline.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('small-file tasks of one turn travel to the workers in one message each, and every answer is its own file\'s', async () => {
  const { key } = await createKey('repokey-aes-ocb', 'pw', FAST);
  const codec = await createCodec(key);
  const dir = await mkdtemp(join(tmpdir(), 'cairn-pipeline-batch-'));
  const pool = await WorkerPool.start(2, { key, compression: parseCompression('lz4') });
  try {
    const files: { path: Buffer; data: Uint8Array; ino: bigint; dev: bigint }[] = [];
    for (let i = 0; i < 100; i++) {
      const path = join(dir, `s${i}`);
      const data = randomish(`s${i}`, 20 + i * 7);
      await writeFile(path, data);
      const st = await lstat(path, { bigint: true });
      files.push({ path: Buffer.from(path), data, ino: st.ino, dev: st.dev });
    }
    const before = pool.messages;
    const results = (await Promise.all(files.map((f) => pool.request({ type: 'file', path: f.path, dev: f.dev, ino: f.ino, size: f.data.length, limit: SIZES.min, seal: true })))) as FileResult[];
    assert.ok(pool.messages - before <= 2, `${pool.messages - before} messages for 100 files on 2 workers`);
    results.forEach((r, i) => {
      assert.equal(r.size, files[i].data.length);
      assert.deepEqual(r.id, codec.id(files[i].data));
      assert.deepEqual(codec.open(r.id!, r.stored!), files[i].data);
    });
    // A failing task in a batch fails alone.
    const missing = pool.request({ type: 'file', path: Buffer.from(join(dir, 'nope')), dev: 0n, ino: 0n, size: 1, limit: SIZES.min, seal: true }) as Promise<FileResult>;
    const fine = pool.request({ type: 'file', path: files[0].path, dev: files[0].dev, ino: files[0].ino, size: files[0].data.length, limit: SIZES.min, seal: true }) as Promise<FileResult>;
    assert.equal((await missing).error, 'ENOENT');
    assert.deepEqual((await fine).id, codec.id(files[0].data));
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});
