// The files cache on its own: what it answers, what it keeps across a save and a load (and from a file
// in the layout the module header documents), what it drops, and what an entry costs in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Encoder } from '@msgpack/msgpack';
import { FilesCache } from '../../src/archive/files-cache.js';
import type { ChunkRef } from '../../src/archive/item.js';

const path = (n: number): Uint8Array => Buffer.from(`folder ${n % 97}/file ${n}.txt`);
const stat = (size: number, mtimeNs: bigint, ino: bigint): BigIntStats => ({ size: BigInt(size), mtimeNs, ino }) as BigIntStats;
const refs = (n: number, seed: number): ChunkRef[] => Array.from({ length: n }, (_, i) => ({ id: createHash('sha256').update(`${seed}/${i}`).digest(), size: 1000 + seed + i }));
const plain = (list: ChunkRef[] | undefined) => list?.map((c) => ({ id: Buffer.from(c.id).toString('hex'), size: c.size }));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-files-cache-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a hit needs the same size, mtime and inode; knows() answers for any entry of the path', async () => {
  await withDir(async (dir) => {
    const cache = await FilesCache.load(dir);
    const chunks = refs(3, 1);
    cache.remember(path(1), stat(3003, 1_700_000_000_123_456_789n, 42n), chunks);
    assert.deepEqual(plain(cache.lookup(path(1), stat(3003, 1_700_000_000_123_456_789n, 42n))), plain(chunks));
    assert.equal(cache.lookup(path(1), stat(3004, 1_700_000_000_123_456_789n, 42n)), undefined);
    assert.equal(cache.lookup(path(1), stat(3003, 1_700_000_000_123_456_788n, 42n)), undefined);
    assert.equal(cache.lookup(path(1), stat(3003, 1_700_000_000_123_456_789n, 43n)), undefined);
    assert.equal(cache.lookup(path(2), stat(3003, 1_700_000_000_123_456_789n, 42n)), undefined);
    assert.equal(cache.knows(path(1)), true);
    assert.equal(cache.knows(path(2)), false);
    // Ids handed out are copies: changing one changes nothing stored.
    cache.lookup(path(1), stat(3003, 1_700_000_000_123_456_789n, 42n))![0].id.fill(0);
    assert.deepEqual(plain(cache.lookup(path(1), stat(3003, 1_700_000_000_123_456_789n, 42n))), plain(chunks));
  });
});

test('thousands of entries, replaced by longer and shorter lists, survive a save and a load', async () => {
  await withDir(async (dir) => {
    const cache = await FilesCache.load(dir);
    const n = 5000;
    // Inodes above 2^63, mtimes before 1970 and sizes above 2^32 too.
    const st = (i: number) => stat(i * 2 ** 21 + 7, BigInt(i - 2500) * 1_000_000_007n, 2n ** 64n - 1n - BigInt(i));
    for (let i = 0; i < n; i++) cache.remember(path(i), st(i), refs(1 + (i % 4), i));
    for (let i = 0; i < n; i += 3) cache.remember(path(i), st(i), refs(i % 2 === 0 ? 6 : 1, i + n));
    assert.equal(cache.size, n);
    await cache.save();
    const again = await FilesCache.load(dir);
    assert.equal(again.size, n);
    for (let i = 0; i < n; i++) {
      const want = i % 3 === 0 ? refs(i % 2 === 0 ? 6 : 1, i + n) : refs(1 + (i % 4), i);
      assert.deepEqual(plain(again.lookup(path(i), st(i))), plain(want), `entry ${i}`);
    }
  });
});

test('reads a file in the documented layout; entries unseen for more than maxAge runs are dropped', async () => {
  await withDir(async (dir) => {
    const key = (p: Uint8Array) => createHash('sha256').update(p).digest().subarray(0, 16);
    const chunks = refs(2, 9);
    const rows = [
      [key(path(1)), 500, 1_600_000_000_000_000_000n, 7n, 0, chunks.map((c) => [c.id, c.size])],
      [key(path(2)), 600, 1_600_000_000_000_000_000n, 8n, 3, [[chunks[0].id, chunks[0].size]]],
    ];
    // As the cache was written before its entries became columns: one msgpack document.
    await writeFile(join(dir, 'files'), new Encoder({ useBigInt64: true }).encode([1, rows]));
    const cache = await FilesCache.load(dir, { maxAge: 3 });
    assert.deepEqual(plain(cache.lookup(path(1), stat(500, 1_600_000_000_000_000_000n, 7n))), plain(chunks));
    assert.equal(cache.knows(path(2)), true);
    await cache.save();
    // Loading made path 2's entry 4 runs old, path 1's was seen (lookup): only path 1 is kept.
    const kept = await FilesCache.load(dir, { maxAge: 3 });
    assert.equal(kept.size, 1);
    assert.equal(kept.knows(path(2)), false);
    assert.deepEqual(plain(kept.lookup(path(1), stat(500, 1_600_000_000_000_000_000n, 7n))), plain(chunks));
  });
});

test('a damaged or foreign cache file gives an empty cache, never an error', async () => {
  await withDir(async (dir) => {
    const cache = await FilesCache.load(dir);
    for (let i = 0; i < 50; i++) cache.remember(path(i), stat(i, 1n, BigInt(i)), refs(2, i));
    await cache.save();
    const good = await readFile(join(dir, 'files'));
    assert.equal(good[7], 0x96);
    const cases: [string, Uint8Array][] = [
      ['cut short', good.subarray(0, good.length - 20)],
      // Byte 7 is the first row's array header (0x96): 0xc1 is never valid msgpack.
      ['a row header changed', Buffer.concat([good.subarray(0, 7), Buffer.from([0xc1]), good.subarray(8)])],
      // Nothing is sized by the count before the rows are read (a row takes 24 bytes at least).
      ['a row count far above the rows', Buffer.concat([Buffer.from([0x92, 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff]), good.subarray(7)])],
      ['another format', Buffer.concat([Buffer.from([0x92, 0x02]), good.subarray(2)])],
      ['an id of 31 bytes', new Encoder().encode([1, [[randomBytes(16), 1, 1, 1, 0, [[randomBytes(31), 1]]]]])],
      ['a key of 32 bytes', new Encoder().encode([1, [[randomBytes(32), 1, 1, 1, 0, []]]])],
      ['not msgpack', randomBytes(1000)],
    ];
    for (const [name, bytes] of cases) {
      await writeFile(join(dir, 'files'), bytes);
      const loaded = await FilesCache.load(dir);
      assert.equal(loaded.size, 0, name);
      assert.equal(loaded.lookup(path(1), stat(1, 1n, 1n)), undefined, name);
    }
  });
});

test('an entry of a one-chunk file costs at most 200 bytes of memory (it was ~590 as objects)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 100_000;
  const paths = Array.from({ length: n }, (_, i) => path(i));
  const cache = await FilesCache.load(join(tmpdir(), `cairn-none-${randomBytes(6).toString('hex')}`));
  for (let i = 0; i < 3; i++) gc();
  const before = process.memoryUsage();
  // Each id fresh, as a worker's answer brings it; the paths stay alive until measured (they are the walk's).
  for (let i = 0; i < n; i++) cache.remember(paths[i], stat(300, 1_700_000_000_000_000_000n + BigInt(i), BigInt(i)), [{ id: createHash('sha256').update(paths[i]).digest(), size: 300 }]);
  for (let i = 0; i < 3; i++) gc();
  const after = process.memoryUsage();
  const perEntry = (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / n;
  assert.equal(cache.size, n);
  assert.equal(paths.length, n);
  assert.ok(perEntry <= 200, `${perEntry.toFixed(0)} bytes an entry`);
  if (process.env.CAIRN_TEST_VERBOSE) console.log(`files cache: ${perEntry.toFixed(0)} bytes an entry`);
});
