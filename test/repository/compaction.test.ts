import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Repository, RepositoryStateError } from '../../src/repository/index.js';
import { faulty, CrashError } from '../../src/store/index.js';
import type { Backend } from '../../src/store/backend.js';
import { STORES, idOf, valueOf } from './helpers.js';

async function keys(backend: Backend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of backend.list(prefix)) out.push(key);
  return out;
}

/** A repository with 300 values in 3 transactions, 2 of 3 ids deleted, and garbage from a crashed session. */
async function populate(backend: Backend): Promise<Set<number>> {
  const repo = await Repository.create(backend, { segmentSize: 16 * 1024 });
  for (let t = 0; t < 3; t++) {
    for (let i = t * 100; i < t * 100 + 100; i++) await repo.put(idOf(i), valueOf(i, 500));
    await repo.commit();
  }
  const live = new Set<number>();
  for (let i = 0; i < 300; i++) if (i % 3 === 0) live.add(i); else await repo.delete(idOf(i));
  await repo.commit();
  await repo.close();
  const crashed = await Repository.open(backend);
  for (let i = 1000; i < 1100; i++) await crashed.put(idOf(i), valueOf(i, 500)); // segments uploaded, never committed
  await crashed.close();
  return live;
}

async function verify(backend: Backend, live: Set<number>): Promise<void> {
  const r = await Repository.open(backend);
  assert.equal(r.count, live.size);
  for (let i = 0; i < 300; i++) {
    if (live.has(i)) assert.deepEqual(await r.get(idOf(i)), valueOf(i, 500));
    else assert.equal(r.has(idOf(i)), false);
  }
  assert.equal(r.has(idOf(1000)), false);
  const report = await r.check();
  assert.deepEqual(report.damage, []);
  await r.close();
}

for (const store of STORES) {
  describe(`compaction on ${store.name}`, () => {
    test('drops deleted entries and crash garbage, merges index deltas, keeps every live value', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        const live = await populate(backend);
        assert.ok((await keys(backend, 'index/')).length === 4);
        const repo = await Repository.open(backend, { exclusive: true });
        const report = await repo.compact();
        assert.ok(report.bytesAfter < report.bytesBefore / 2, JSON.stringify(report));
        assert.ok(report.garbage > 0 && report.entriesMoved > 0);
        assert.equal(repo.count, live.size);
        await repo.close();
        const index = await keys(backend, 'index/');
        assert.equal(index.length, 1);
        assert.match(index[0], /^index\/full-/);
        await verify(backend, live);
        const again = await Repository.open(backend, { exclusive: true });
        const second = await again.compact();
        assert.equal(second.deleted, 0);
        await again.close();
      } finally { await s.cleanup(); }
    });

    test('needs the exclusive lock and no open transaction', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client());
        await assert.rejects(repo.compact(), RepositoryStateError);
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('a crash at any store call of a compaction loses nothing', async () => {
      const s = await store.make();
      try {
        const base = s.client();
        const live = await populate(base);
        // Count the calls of a full compaction on a copy-free dry run: crash at each write or delete in turn.
        let calls = 0;
        for (let n = 1; ; n++) {
          let crashed = false;
          const f = faulty(base, { rules: [{ op: ['put', 'delete'], nth: n, kind: 'crash' }] });
          try {
            const repo = await Repository.open(f, { exclusive: true, lockOptions: { staleMs: 1 } });
            await repo.compact({ staleMs: 1 });
            await repo.close();
          } catch (err) {
            if (!(err instanceof CrashError)) throw err;
            crashed = true;
          }
          await base.delete('locks/exclusive'); // the killed compactor's lock
          await verify(base, live);
          calls = n;
          if (!crashed) break;
        }
        assert.ok(calls > 5, `only ${calls} crash points`);
      } finally { await s.cleanup(); }
    });
  });
}
