import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockedError, LockLostError, Repository, lockOwner } from '../../src/repository/index.js';
import { STORES, idOf, valueOf } from './helpers.js';

for (const store of STORES) {
  describe(`locks on ${store.name}`, () => {
    test('the exclusive lock excludes writers and the other way round; close releases', async () => {
      const s = await store.make();
      try {
        const writer = await Repository.create(s.client());
        await assert.rejects(Repository.open(s.client(), { exclusive: true }), (e) => e instanceof LockedError && e.code === 'ELOCKED');
        const second = await Repository.open(s.client());
        await Promise.all([writer.close(), second.close()]);
        const ex = await Repository.open(s.client(), { exclusive: true });
        await assert.rejects(Repository.open(s.client()), LockedError);
        await assert.rejects(Repository.open(s.client(), { exclusive: true }), LockedError);
        await ex.close();
        const backend = s.client();
        const left: string[] = [];
        for await (const { key } of backend.list('locks/')) left.push(key);
        assert.deepEqual(left, []);
      } finally { await s.cleanup(); }
    });

    test('lock objects hold a host id this machine recomputes and the pid, never the host name', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client());
        const backend = s.client();
        const texts: string[] = [];
        for await (const { key } of backend.list('locks/')) texts.push(new TextDecoder().decode(await backend.get(key)));
        assert.equal(texts.length, 1);
        assert.ok(!texts[0].includes(JSON.stringify(hostname())), texts[0]);
        const lock = JSON.parse(texts[0]) as { host: string; pid: number };
        assert.deepEqual({ host: lock.host, pid: lock.pid }, lockOwner(repo.config.id));
        assert.match(lock.host, /^[0-9a-f]{16}$/);
        assert.notEqual(lockOwner('another repository').host, lock.host, 'salted per repository');
        await assert.rejects(Repository.open(s.client(), { exclusive: true }), LockedError);
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('a stale lock (by the store\'s time) is broken, and its owner stops with LockLostError at commit', async () => {
      const s = await store.make();
      try {
        const stale = await Repository.create(s.client(), { lockOptions: { staleMs: 60_000, refreshMs: 3_600_000 } });
        await stale.put(idOf(1), valueOf(1));
        // The writer stops refreshing; a second later the store last wrote its lock over staleMs ago.
        await sleep(1200);
        const ex = await Repository.open(s.client(), { exclusive: true, lockOptions: { staleMs: 1000 } });
        await ex.close();
        await assert.rejects(stale.commit(), (e) => e instanceof LockLostError && e.code === 'ELOCK_LOST');
        await stale.close();
        const r = await Repository.open(s.client());
        assert.equal(r.has(idOf(1)), false);
        await r.close();
      } finally { await s.cleanup(); }
    });

    // Issue 15: staleness is judged by the store's time, never by the time a holder wrote in its lock.
    test('a lock the store wrote just now is fresh although its holder\'s clock says an hour ago', async () => {
      const s = await store.make();
      try {
        const writer = await Repository.create(s.client(), { lockOptions: { refreshMs: 3_600_000 } });
        const backend = s.client();
        for await (const { key } of backend.list('locks/shared-')) {
          const lock = JSON.parse(new TextDecoder().decode(await backend.get(key)));
          await backend.put(key, new TextEncoder().encode(JSON.stringify({ ...lock, time: Date.now() - 3_600_000, since: Date.now() - 3_600_000 })));
        }
        await assert.rejects(Repository.open(s.client(), { exclusive: true }), (e) => e instanceof LockedError && e.code === 'ELOCKED');
        await writer.commit();
        await writer.close();
      } finally { await s.cleanup(); }
    });

    test('a lock the store wrote long ago is stale although its holder\'s clock says an hour ahead', async () => {
      const s = await store.make();
      try {
        const ex = await Repository.create(s.client(), { exclusive: true, lockOptions: { refreshMs: 3_600_000 } });
        const backend = s.client();
        const lock = JSON.parse(new TextDecoder().decode(await backend.get('locks/exclusive')));
        await backend.put('locks/exclusive', new TextEncoder().encode(JSON.stringify({ ...lock, time: Date.now() + 3_600_000 })));
        await sleep(1200);
        const writer = await Repository.open(s.client(), { lockOptions: { staleMs: 1000 } });
        await writer.close();
        const taker = await Repository.open(s.client(), { exclusive: true, lockOptions: { staleMs: 1000 } });
        await taker.close();
        await ex.close();
        const left: string[] = [];
        for await (const { key } of backend.list('locks/')) left.push(key);
        assert.deepEqual(left, [], 'no lock and no clock probe left behind');
      } finally { await s.cleanup(); }
    });

    test('a fresh exclusive lock refuses another exclusive taker (store time read through a probe, then removed)', async () => {
      const s = await store.make();
      try {
        const ex = await Repository.create(s.client(), { exclusive: true });
        await assert.rejects(Repository.open(s.client(), { exclusive: true }), (e) => e instanceof LockedError && e.code === 'ELOCKED');
        const backend = s.client();
        const left: string[] = [];
        for await (const { key } of backend.list('locks/')) left.push(key);
        assert.deepEqual(left, ['locks/exclusive']);
        await ex.close();
      } finally { await s.cleanup(); }
    });

    test('a lock is refreshed while held', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { lockOptions: { staleMs: 60_000, refreshMs: 50 } });
        const backend = s.client();
        // The store's time of the lock moves on: that is what keeps it fresh (ADR 0055).
        const timeOf = async () => {
          for await (const { modified } of backend.list('locks/shared-')) return modified;
          return 0;
        };
        const before = await timeOf();
        await sleep(1100);
        assert.ok((await timeOf()) > before);
        await repo.close();
      } finally { await s.cleanup(); }
    });
  });
}
