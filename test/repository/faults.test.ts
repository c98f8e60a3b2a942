import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Repository } from '../../src/repository/index.js';
import { BackendError } from '../../src/store/errors.js';
import { CrashError, faulty, withConcurrencyLimit, withRetry } from '../../src/store/index.js';
import type { Backend } from '../../src/store/backend.js';
import { STORES, idOf, valueOf } from './helpers.js';

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 12, random: () => 0.5 };

for (const store of STORES) {
  describe(`injected faults on ${store.name}`, () => {
    test('transient failures on every kind of call: the backup completes and reads back exactly', async () => {
      const s = await store.make();
      try {
        const f = faulty(s.client(), { seed: 5, rules: [{ probability: 0.2, kind: 'transient' }, { op: 'put', probability: 0.1, kind: 'transient', when: 'after' }] });
        const backend = withRetry(f, fastRetry);
        const repo = await Repository.create(backend, { segmentSize: 16 * 1024 });
        for (let t = 0; t < 4; t++) {
          for (let i = t * 50; i < t * 50 + 50; i++) await repo.put(idOf(i), valueOf(i));
          await repo.commit();
        }
        await repo.close();
        assert.ok(f.stats.faults > 10, `only ${f.stats.faults} faults injected`);
        const r = await Repository.open(withRetry(faulty(s.client(), { seed: 9, rules: [{ op: 'get', probability: 0.3 }] }), fastRetry));
        assert.equal(r.count, 200);
        for (let i = 0; i < 200; i++) assert.deepEqual(await r.get(idOf(i)), valueOf(i));
        assert.deepEqual((await r.check()).damage, []);
        await r.close();
      } finally { await s.cleanup(); }
    });

    for (const target of ['data/', 'index/']) {
      test(`a permanent failure writing ${target}: clean error, nothing of the transaction committed`, async () => {
        const s = await store.make();
        try {
          const repo0 = await Repository.create(s.client(), { segmentSize: 8 * 1024 });
          for (let i = 0; i < 20; i++) await repo0.put(idOf(i), valueOf(i));
          await repo0.commit();
          await repo0.close();
          const f = faulty(s.client(), { rules: [{ op: 'put', key: (k) => !!k?.startsWith(target), nth: target === 'data/' ? 3 : 1, kind: 'permanent' }] });
          const repo = await Repository.open(f);
          const attempt = async () => {
            for (let i = 100; i < 160; i++) await repo.put(idOf(i), valueOf(i));
            await repo.commit();
          };
          await assert.rejects(attempt(), (e) => e instanceof BackendError && e.code === 'EBACKEND' && !e.transient);
          assert.equal(repo.has(idOf(100)), false);
          // The instance stays usable: the next transaction commits.
          await repo.put(idOf('after'), valueOf('after'));
          await repo.commit();
          await repo.close();
          const r = await Repository.open(s.client());
          assert.equal(r.count, 21);
          for (let i = 100; i < 160; i++) assert.equal(r.has(idOf(i)), false);
          for (let i = 0; i < 20; i++) assert.deepEqual(await r.get(idOf(i)), valueOf(i));
          assert.deepEqual(await r.get(idOf('after')), valueOf('after'));
          assert.deepEqual((await r.check()).damage, []);
          await r.close();
        } finally { await s.cleanup(); }
      });
    }

    test('segment uploads run several at once, within the concurrency limit', async () => {
      const s = await store.make();
      try {
        const f = faulty(s.client(), { latencyMs: 20 });
        const repo = await Repository.create(withConcurrencyLimit(f, 3), { segmentSize: 8 * 1024, maxPendingSegments: 4 });
        for (let i = 0; i < 150; i++) await repo.put(idOf(i), valueOf(i, 2000));
        await repo.commit();
        await repo.close();
        assert.ok(f.stats.maxInFlight >= 2, `max ${f.stats.maxInFlight} in flight`);
        assert.ok(f.stats.maxInFlight <= 3);
      } finally { await s.cleanup(); }
    });
  
    test('a crash at any store write of a commit leaves it all there or all absent', async () => {
      const s = await store.make();
      try {
        const base = s.client();
        const repo0 = await Repository.create(base, { segmentSize: 4096 });
        for (let i = 0; i < 5; i++) await repo0.put(idOf(i), valueOf(i, 1500));
        await repo0.commit();
        await repo0.close();
        let points = 0;
        for (let n = 1; ; n++) {
          const f = faulty(base, { rules: [{ op: 'put', key: (k) => !k?.startsWith('locks/'), nth: n, kind: 'crash' }] });
          const label = `crash${n}`;
          let crashed = false;
          try {
            const repo = await Repository.open(f);
            for (let i = 0; i < 8; i++) await repo.put(idOf(`${label}-${i}`), valueOf(`${label}-${i}`, 1500));
            await repo.delete(idOf(0));
            await repo.commit();
            await repo.close();
          } catch (err) {
            if (!(err instanceof CrashError)) throw err;
            crashed = true;
          }
          for await (const { key } of base.list('locks/')) await base.delete(key);
          const r = await Repository.open(base);
          const present = Array.from({ length: 8 }, (_, i) => r.has(idOf(`${label}-${i}`)));
          assert.ok(present.every((p) => p === present[0]), `crash point ${n}: partial transaction ${present}`);
          if (present[0]) for (let i = 0; i < 8; i++) assert.deepEqual(await r.get(idOf(`${label}-${i}`)), valueOf(`${label}-${i}`, 1500));
          assert.equal(r.has(idOf(0)), !present[0]); // the transaction's DELETE goes with it
          for (let i = 1; i < 5; i++) assert.deepEqual(await r.get(idOf(i)), valueOf(i, 1500));
          if (present[0]) { await r.put(idOf(0), valueOf(0, 1500)); await r.commit(); }
          assert.deepEqual((await r.check()).damage, []);
          await r.close();
          points = n;
          if (!crashed) break;
        }
        assert.ok(points >= 5, `only ${points} crash points`);
      } finally { await s.cleanup(); }
    });

    test('put waits (backpressure) while segment uploads lag, so memory stays bounded', async () => {
      const s = await store.make();
      try {
        const inner = s.client();
        let release!: () => void;
        const gate = new Promise<void>((r) => { release = r; });
        const slow: Backend = {
          name: inner.name, location: inner.location, capabilities: inner.capabilities,
          get: (k, r, o) => inner.get(k, r, o), delete: (k, o) => inner.delete(k, o), list: (p, o) => inner.list(p, o),
          stat: (k, o) => inner.stat(k, o), create: () => inner.create(), destroy: () => inner.destroy(), close: () => inner.close(),
          put: async (key, bytes, options) => { if (key.startsWith('data/')) await gate; return inner.put(key, bytes, options); },
        };
        const repo = await Repository.create(slow, { segmentSize: 8192, maxPendingSegments: 2 });
        let accepted = 0;
        const writing = (async () => { for (let i = 0; i < 40; i++) { await repo.put(idOf(i), valueOf(i, 2000)); accepted++; } })();
        await new Promise((r) => setTimeout(r, 100));
        // 3 entries of 2049 bytes fit a segment; with 2 sealed segments waiting the writer is held back.
        assert.ok(accepted >= 6 && accepted <= 9, `${accepted} puts accepted while uploads hang`);
        release();
        await writing;
        await repo.commit();
        assert.equal(accepted, 40);
        await repo.close();
      } finally { await s.cleanup(); }
    });
  });
}
