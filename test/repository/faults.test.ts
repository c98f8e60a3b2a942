import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Repository } from '../../src/repository/index.js';
import { BackendError } from '../../src/store/errors.js';
import { faulty, withConcurrencyLimit, withRetry } from '../../src/store/index.js';
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
  });
}
