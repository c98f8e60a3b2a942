import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IntegrityError, Repository } from '../../src/repository/index.js';
import type { Backend } from '../../src/store/backend.js';
import { STORES, idOf, valueOf } from './helpers.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { PUT_HEADER_SIZE, TAG_PUT2 } from '../../src/repository/segment-format.js';

/** `backend` with the bytes it downloaded from segments counted. */
function countingReads(backend: Backend): { backend: Backend; bytes: number } {
  const out = { backend, bytes: 0 };
  out.backend = new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop === 'get') {
        return async (...args: Parameters<Backend['get']>) => {
          const got = await target.get(...args);
          if (args[0].startsWith('data/')) out.bytes += got.length;
          return got;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return out;
}

async function keys(backend: Backend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of backend.list(prefix)) out.push(key);
  return out;
}

async function populate(backend: Backend, n = 60): Promise<void> {
  const repo = await Repository.create(backend, { segmentSize: 8 * 1024 });
  for (let t = 0; t < 3; t++) {
    for (let i = t * (n / 3); i < (t + 1) * (n / 3); i++) await repo.put(idOf(i), valueOf(i, 700));
    await repo.commit();
  }
  await repo.close();
}

async function mutate(backend: Backend, key: string, fn: (b: Uint8Array) => Uint8Array): Promise<void> {
  await backend.put(key, fn(await backend.get(key)));
}

/** Every value either reads back exactly or fails with IntegrityError: damage is never returned as data. */
async function neverWrong(repo: Repository, n: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    try {
      assert.deepEqual(await repo.get(idOf(i)), valueOf(i, 700));
    } catch (err) {
      assert.ok(err instanceof IntegrityError && err.code === 'EINTEGRITY', String(err));
      failed++;
    }
  }
  return failed;
}

for (const store of STORES) {
  describe(`check and repair on ${store.name}`, () => {
    test('a clean repository checks clean, with crash garbage reported as uncommitted', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        await populate(backend);
        const crashed = await Repository.open(backend);
        for (let i = 100; i < 120; i++) await crashed.put(idOf(i), valueOf(i, 700));
        await crashed.close();
        const repo = await Repository.open(backend);
        const report = await repo.check();
        assert.equal(report.ok, true);
        assert.deepEqual(report.damage, []);
        assert.ok(report.uncommitted.length > 0);
        assert.ok(report.entries >= 60);
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('bit flips anywhere in segments are always detected and never returned as data', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        await populate(backend);
        const segments = await keys(backend, 'data/');
        let seed = 11;
        const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
        for (let round = 0; round < 12; round++) {
          const key = segments[rnd(segments.length)];
          const original = await backend.get(key);
          const at = rnd(original.length);
          await mutate(backend, key, (b) => { const c = b.slice(); c[at] ^= 1 << rnd(8); return c; });
          const repo = await Repository.open(backend);
          const report = await repo.check({ readData: true });
          assert.equal(report.read, 'data');
          assert.equal(report.ok, false, `flip at ${key}:${at} not detected`);
          assert.ok(report.damage.some((d) => d.key === key && d.offset !== undefined && d.offset <= at), JSON.stringify(report.damage));
          await neverWrong(repo, 60);
          await repo.close();
          await backend.put(key, original);
        }
      } finally { await s.cleanup(); }
    });

    test('a plain check reads only headers and tails, and finds every flipped header bit and a truncation', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        // Values of 64 KiB: headers lie far apart, as with file chunks.
        const big = await Repository.create(backend, { segmentSize: 512 * 1024 });
        for (let t = 0; t < 3; t++) {
          for (let i = t * 10; i < (t + 1) * 10; i++) await big.put(idOf(i), valueOf(i, 64 * 1024));
          await big.commit();
        }
        await big.close();
        const counted = countingReads(backend);
        const clean = await Repository.open(counted.backend);
        const before = counted.bytes;
        const report = await clean.check();
        await clean.close();
        assert.equal(report.read, 'structure');
        assert.deepEqual(report.damage, []);
        const total = (await Promise.all((await keys(backend, 'data/')).map(async (k) => (await backend.get(k)).length))).reduce((a, b) => a + b, 0);
        assert.ok(counted.bytes - before < total / 10, `a plain check read ${counted.bytes - before} of ${total} segment bytes`);
        // Every bit of every indexed PUT2 header: the plain check reports the segment at that entry.
        const segments = await keys(backend, 'data/');
        let seed = 7;
        const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
        for (let round = 0; round < 10; round++) {
          const key = segments[rnd(segments.length)];
          const original = await backend.get(key);
          const { entries } = scanSegment(original);
          const puts = entries.filter((e) => e.tag === TAG_PUT2);
          if (puts.length === 0) continue;
          const entry = puts[rnd(puts.length)];
          const at = entry.offset + rnd(PUT_HEADER_SIZE);
          await mutate(backend, key, (b) => { const c = b.slice(); c[at] ^= 1 << rnd(8); return c; });
          const repo = await Repository.open(backend);
          const found = await repo.check();
          assert.equal(found.ok, false, `header flip at ${key}:${at} not found by a plain check`);
          assert.ok(found.damage.some((d) => d.key === key && d.offset === entry.offset), JSON.stringify(found.damage));
          await repo.close();
          await backend.put(key, original);
        }
        const seg = segments[1];
        const original = await backend.get(seg);
        await backend.put(seg, original.subarray(0, original.length - 100));
        const repo = await Repository.open(backend);
        assert.ok((await repo.check()).damage.some((d) => d.key === seg && d.kind === 'segment'));
        await repo.close();
        await backend.put(seg, original);
      } finally { await s.cleanup(); }
    });

    test('truncated segments and damaged index objects are detected', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        await populate(backend);
        const seg = (await keys(backend, 'data/'))[1];
        const original = await backend.get(seg);
        await backend.put(seg, original.subarray(0, original.length - 100));
        let repo = await Repository.open(backend);
        let report = await repo.check();
        assert.ok(report.damage.some((d) => d.key === seg && d.kind === 'segment'));
        assert.ok(await neverWrong(repo, 60) > 0);
        await repo.close();
        await backend.put(seg, original);
        for (const damage of [(b: Uint8Array) => b.subarray(0, b.length - 3), (b: Uint8Array) => { const c = b.slice(); c[40] ^= 4; return c; }]) {
          const idx = (await keys(backend, 'index/'))[0];
          const good = await backend.get(idx);
          await backend.put(idx, damage(good));
          await assert.rejects(Repository.open(backend), (e) => e instanceof IntegrityError && e.key === idx);
          repo = await Repository.open(backend, { lock: false, readOnly: true }).catch(() => undefined) as Repository;
          assert.equal(repo, undefined);
          await backend.put(idx, good);
        }
        repo = await Repository.open(backend);
        report = await repo.check();
        assert.equal(report.ok, true);
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('repair rebuilds a lost or damaged index from segment headers and quarantines damage', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        await populate(backend);
        const idx = await keys(backend, 'index/');
        await mutate(backend, idx[0], (b) => { const c = b.slice(); c[c.length - 1] ^= 1; return c; });
        await backend.delete(idx[1]);
        const seg = (await keys(backend, 'data/'))[2];
        await mutate(backend, seg, (b) => { const c = b.slice(); c[c.length - 5] ^= 0x10; return c; });
        await assert.rejects(Repository.open(backend, { exclusive: true }), IntegrityError);
        const repo = await Repository.open(backend, { exclusive: true, skipIndex: true });
        const report = await repo.check({ repair: true });
        assert.ok(report.repaired && report.repaired.quarantined.some((k) => k.startsWith('quarantine/data-')));
        await repo.close();
        const after = await Repository.open(backend);
        const clean = await after.check();
        assert.deepEqual(clean.damage, []);
        assert.equal(after.count, 59); // the one entry whose value was flipped is gone from the index
        for (let i = 0; i < 60; i++) if (after.has(idOf(i))) assert.deepEqual(await after.get(idOf(i)), valueOf(i, 700));
        await after.close();
        assert.ok((await keys(backend, 'quarantine/')).length >= 1);
      } finally { await s.cleanup(); }
    });
  });
}
