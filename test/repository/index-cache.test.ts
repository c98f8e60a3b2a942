// The local index cache (ADR 0051): an open reads only the index objects the cache has not seen; a
// compaction elsewhere, a tampered, truncated or foreign cache all fall back to a full load.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Repository, type IndexCache } from '../../src/repository/index.js';
import type { Backend } from '../../src/store/backend.js';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { idOf, valueOf } from './helpers.js';

/** A backend that records the keys of every `get` (the thing under test is the repository, not the store). */
function recording(backend: Backend): { backend: Backend; gets: string[] } {
  const gets: string[] = [];
  const proxy = new Proxy(backend, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'get') return (key: string, range?: unknown) => { gets.push(key); return (value as Backend['get']).call(target, key, range as never); };
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { backend: proxy, gets };
}

/** A cache kept in memory (the file storage is the archive layer's, tested end to end). */
function memoryCache(key: Uint8Array = randomBytes(32)): IndexCache & { bytes?: Uint8Array; warnings: string[] } {
  const cache: IndexCache & { bytes?: Uint8Array; warnings: string[] } = {
    key, warnings: [],
    storage: { read: async () => cache.bytes, write: async (b) => { cache.bytes = b.slice(); } },
    warn: (m) => cache.warnings.push(m),
  };
  return cache;
}

async function open(backend: Backend, cache?: IndexCache, options: { exclusive?: boolean } = {}): Promise<Repository> {
  const repo = await Repository.open(backend, { skipIndex: true, ...options });
  await repo.loadIndex({ cache });
  return repo;
}

/** Stores ids `from..to-1` in one transaction. */
async function write(backend: Backend, from: number, to: number, deletes: number[] = []): Promise<void> {
  const repo = await open(backend);
  for (let i = from; i < to; i++) await repo.put(idOf(i), valueOf(i, 300));
  for (const i of deletes) await repo.delete(idOf(i));
  await repo.commit();
  await repo.close();
}

/** What an open sees: every id with its value, sorted. */
async function contents(repo: Repository): Promise<string[]> {
  const ids = [...repo.ids()];
  const values = await repo.getMany(ids);
  return ids.map((id, i) => `${Buffer.from(id).toString('hex')}:${Buffer.from(values[i]).toString('hex').slice(0, 16)}`).sort();
}

async function fullLoad(backend: Backend): Promise<string[]> {
  const repo = await open(backend);
  try { return await contents(repo); } finally { await repo.close(); }
}

const indexGets = (gets: string[]) => gets.filter((k) => k.startsWith('index/'));

describe('local index cache', () => {
  test('a second open reads no index object; new deltas alone are read and applied', async () => {
    const store = createMemoryBackend();
    await Repository.create(store).then((r) => r.close());
    for (let t = 0; t < 10; t++) await write(store, t * 50, t * 50 + 50);
    const cache = memoryCache();
    const first = recording(store);
    const a = await open(first.backend, cache);
    assert.equal(indexGets(first.gets).length, 10);
    await a.close();
    assert.ok(cache.bytes);

    const second = recording(store);
    const b = await open(second.backend, cache);
    assert.deepEqual(indexGets(second.gets), []);
    assert.deepEqual(await contents(b), await fullLoad(store));
    await b.close();

    await write(store, 1000, 1020, [3, 4]); // another client, deletes included: it sorts after every cached delta
    const third = recording(store);
    const c = await open(third.backend, cache);
    assert.equal(indexGets(third.gets).length, 1);
    assert.equal(c.has(idOf(3)), false);
    assert.deepEqual(await contents(c), await fullLoad(store));
    // Its own commit goes into the cache at close: the next open reads nothing.
    for (let i = 2000; i < 2010; i++) await c.put(idOf(i), valueOf(i, 300));
    await c.commit();
    await c.close();
    const fourth = recording(store);
    const d = await open(fourth.backend, cache);
    assert.deepEqual(indexGets(fourth.gets), []);
    assert.deepEqual(await contents(d), await fullLoad(store));
    await d.close();
    assert.deepEqual(cache.warnings, []);
  });

  test('a compaction elsewhere (another cache) is noticed: the index is loaded again, and correct', async () => {
    const store = createMemoryBackend();
    await Repository.create(store, { segmentSize: 8 * 1024 }).then((r) => r.close());
    for (let t = 0; t < 4; t++) await write(store, t * 50, t * 50 + 50);
    const cache = memoryCache();
    await (await open(store, cache)).close();
    // The other machine deletes most ids and compacts: segments are rewritten, entries move.
    const other = await open(store, memoryCache(), { exclusive: true });
    for (let i = 0; i < 200; i++) if (i % 4 !== 0) await other.delete(idOf(i));
    await other.commit();
    await other.compact({ threshold: 0.9 });
    await other.close();
    const again = recording(store);
    const repo = await open(again.backend, cache);
    assert.equal(repo.count, 50);
    assert.ok(indexGets(again.gets).some((k) => k.startsWith('index/full-')));
    assert.deepEqual(await contents(repo), await fullLoad(store));
    assert.deepEqual((await repo.check()).damage, []);
    await repo.close();
    assert.deepEqual(cache.warnings, []);
  });

  test('a tampered, truncated or foreign cache is never used: a warning, then a full load that rewrites it', async () => {
    const store = createMemoryBackend();
    await Repository.create(store).then((r) => r.close());
    for (let t = 0; t < 3; t++) await write(store, t * 40, t * 40 + 40);
    const cache = memoryCache();
    await (await open(store, cache)).close();
    const good = cache.bytes!;
    const damaged = [
      (() => { const b = good.slice(); b[b.length - 100] ^= 1; return b; })(), // an entry's location
      good.subarray(0, good.length >> 1), // a half-written file
      new Uint8Array(0),
    ];
    for (const bytes of [...damaged, 'foreign key' as const]) {
      const victim = memoryCache(bytes === 'foreign key' ? randomBytes(32) : cache.key);
      victim.bytes = bytes === 'foreign key' ? good : bytes;
      const seen = recording(store);
      const repo = await open(seen.backend, victim);
      assert.equal(victim.warnings.length, 1, String(victim.warnings));
      assert.equal(indexGets(seen.gets).length, 3);
      assert.deepEqual(await contents(repo), await fullLoad(store));
      await repo.close();
      const healed = memoryCache(victim.key);
      healed.bytes = victim.bytes;
      const later = recording(store);
      await (await open(later.backend, healed)).close();
      assert.deepEqual(indexGets(later.gets), [], 'the rebuilt cache is used next time');
      assert.deepEqual(healed.warnings, []);
    }
  });

  test('a new delta that a full load applies before cached ones, with deletes, forces a full load', async () => {
    const store = createMemoryBackend();
    await Repository.create(store).then((r) => r.close());
    await write(store, 0, 20);
    await write(store, 20, 30); // puts 25
    const cache = memoryCache();
    await (await open(store, cache)).close();
    // A writer whose clock is behind (or whose commit was taken before the cache was written) deletes 25:
    // a full load applies its delta before the one that put 25, so 25 stays.
    const now = Date.now;
    Date.now = () => now() - 3_600_000;
    try {
      await write(store, 40, 41, [25]);
    } finally {
      Date.now = now;
    }
    const expected = await fullLoad(store);
    assert.ok(expected.some((e) => e.startsWith(Buffer.from(idOf(25)).toString('hex'))));
    const seen = recording(store);
    const repo = await open(seen.backend, cache);
    assert.equal(repo.has(idOf(25)), true);
    assert.deepEqual(await contents(repo), expected);
    assert.equal(indexGets(seen.gets).length, 1 + 3, 'the new delta, then the whole index again');
    await repo.close();
  });
});
