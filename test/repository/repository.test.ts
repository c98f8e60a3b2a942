import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AppendOnlyError, IdNotFoundError, NotARepositoryError, Repository, RepositoryExistsError, RepositoryStateError, UnsupportedVersionError,
} from '../../src/repository/index.js';
import { AlreadyExistsError } from '../../src/store/errors.js';
import { STORES, idOf, valueOf } from './helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

for (const store of STORES) {
  describe(`repository on ${store.name}`, () => {
    test('committed values read back byte-exact after reopening; uncommitted ones vanish', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { segmentSize: 64 * 1024 });
        for (let i = 0; i < 200; i++) await repo.put(idOf(i), valueOf(i));
        assert.ok(repo.has(idOf(5)));
        assert.deepEqual(await repo.get(idOf(5)), valueOf(5)); // from this session's buffers
        await repo.commit();
        for (let i = 200; i < 250; i++) await repo.put(idOf(i), valueOf(i));
        assert.equal(repo.count, 250);
        await repo.close();
        const again = await Repository.open(s.client());
        assert.equal(again.count, 200);
        for (let i = 0; i < 200; i++) assert.deepEqual(await again.get(idOf(i)), valueOf(i));
        assert.equal(again.has(idOf(220)), false);
        await assert.rejects(again.get(idOf(220)), (e) => e instanceof IdNotFoundError && e.code === 'ENOT_FOUND_ID');
        const ids = new Set([...again.ids()].map((id) => Buffer.from(id).toString('hex')));
        assert.equal(ids.size, 200);
        assert.ok(ids.has(Buffer.from(idOf(199)).toString('hex')));
        await again.close();
      } finally { await s.cleanup(); }
    });

    test('getMany returns the values in the order asked, across segments, with uncommitted ones and repeats', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { segmentSize: 16 * 1024 });
        for (let i = 0; i < 60; i++) await repo.put(idOf(i), valueOf(i, 700 + 37 * i));
        await repo.commit();
        for (let i = 60; i < 70; i++) await repo.put(idOf(i), valueOf(i, 500));
        const order = [5, 4, 3, 61, 0, 59, 5, 20, 21, 22, 23, 69, 40];
        const got = await repo.getMany(order.map(idOf));
        assert.equal(got.length, order.length);
        order.forEach((n, k) => assert.deepEqual(got[k], valueOf(n, n >= 60 ? 500 : 700 + 37 * n)));
        await assert.rejects(repo.getMany([idOf(1), idOf(999)]), (e) => e instanceof IdNotFoundError && e.code === 'ENOT_FOUND_ID');
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('a put made while a commit is running belongs to the next transaction, not to the running one', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { segmentSize: 8192 });
        for (let i = 0; i < 20; i++) await repo.put(idOf(i), valueOf(i, 1000));
        const committing = repo.commit();
        const late = repo.put(idOf('late'), valueOf('late', 1000)); // not awaited before the commit settles
        await committing;
        await late;
        await repo.close(); // the late put was never committed
        const again = await Repository.open(s.client());
        assert.equal(again.count, 20);
        assert.equal(again.has(idOf('late')), false);
        const check = await again.check();
        assert.equal(check.ok, true);
        await again.put(idOf('late'), valueOf('late', 1000));
        const second = again.commit();
        await Promise.all([again.commit(), second]);
        await again.close();
        const third = await Repository.open(s.client());
        assert.deepEqual(await third.get(idOf('late')), valueOf('late', 1000));
        await third.close();
      } finally { await s.cleanup(); }
    });

    test('close() while a commit is running lets the commit finish: what it committed is in the index after reopening', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { segmentSize: 8192 });
        for (let i = 0; i < 20; i++) await repo.put(idOf(i), valueOf(i, 1000));
        const committing = repo.commit();
        const closing = repo.close(); // as a signal handler's close may run while the last commit uploads
        await Promise.all([committing, closing]);
        const again = await Repository.open(s.client());
        assert.equal(again.count, 20);
        for (let i = 0; i < 20; i++) assert.deepEqual(await again.get(idOf(i)), valueOf(i, 1000));
        assert.equal((await again.check()).ok, true);
        await again.close();
      } finally { await s.cleanup(); }
    });

    test('planRepair is refused while a transaction is open (its puts point into the index it would replace)', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { segmentSize: 8192 });
        await repo.put(idOf(1), valueOf(1, 1000));
        await assert.rejects(repo.planRepair(), (e) => e instanceof RepositoryStateError && e.code === 'EREPOSITORY_STATE');
        assert.deepEqual(await repo.get(idOf(1)), valueOf(1, 1000));
        await repo.commit();
        const { report } = await repo.planRepair();
        assert.equal(report.ok, true);
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('segments are cut at segmentSize and numbered per session', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        const repo = await Repository.create(backend, { segmentSize: 8192 });
        for (let i = 0; i < 40; i++) await repo.put(idOf(i), valueOf(i, 1000));
        await repo.put(idOf('big'), valueOf('big', 20000)); // larger than a segment: one of its own
        await repo.commit();
        const segs: { key: string; size: number }[] = [];
        for await (const e of backend.list('data/')) segs.push(e);
        assert.ok(segs.length >= 6);
        assert.ok(segs.every((e) => /^data\/[0-9a-f]{16}\/[0-9a-f]{8}$/.test(e.key)));
        assert.ok(segs.filter((e) => e.size > 8192).length === 1);
        assert.deepEqual(await repo.get(idOf('big')), valueOf('big', 20000));
        await repo.close();
      } finally { await s.cleanup(); }
    });

    test('delete hides an id in the transaction and after commit', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client());
        for (let i = 0; i < 10; i++) await repo.put(idOf(i), valueOf(i));
        await repo.commit();
        await repo.delete(idOf(3));
        assert.equal(repo.has(idOf(3)), false);
        assert.equal(repo.count, 9);
        await repo.put(idOf(4), valueOf('new 4'));
        await repo.commit();
        await repo.close();
        const again = await Repository.open(s.client());
        assert.equal(again.has(idOf(3)), false);
        assert.deepEqual(await again.get(idOf(4)), valueOf('new 4'));
        assert.equal(again.count, 9);
        await again.close();
      } finally { await s.cleanup(); }
    });

    test('config is written once; wrong folders and newer versions give typed errors', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        await backend.create();
        await assert.rejects(Repository.open(backend), (e) => e instanceof NotARepositoryError && e.code === 'ENOT_A_REPOSITORY');
        const repo = await Repository.create(backend, { segmentSize: 1 << 20, appendOnly: true });
        assert.equal(repo.config.version, 1);
        assert.equal(repo.config.segmentSize, 1 << 20);
        assert.equal(repo.config.appendOnly, true);
        assert.match(repo.config.id, /^[0-9a-f]{64}$/);
        await repo.close();
        await assert.rejects(Repository.create(s.client()), (e) => e instanceof RepositoryExistsError && e.code === 'EREPOSITORY_EXISTS');
        const config = JSON.parse(new TextDecoder().decode(await backend.get('config')));
        await backend.put('config', new TextEncoder().encode(JSON.stringify({ ...config, version: 3 })));
        await assert.rejects(Repository.open(backend), (e) => e instanceof UnsupportedVersionError && e.code === 'EUNSUPPORTED_VERSION' && !e.message.includes('\n'));
      } finally { await s.cleanup(); }
    });

    test('append-only refuses deletes, record removal and compaction', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client(), { appendOnly: true });
        await repo.put(idOf(1), valueOf(1));
        await repo.commit();
        await assert.rejects(repo.delete(idOf(1)), (e) => e instanceof AppendOnlyError && e.code === 'EAPPEND_ONLY');
        await repo.putRecord('archive-1', valueOf('m'));
        await assert.rejects(repo.deleteRecord('archive-1'), code('EAPPEND_ONLY'));
        await assert.rejects(repo.putRecord('archive-1', valueOf('x')), code('EAPPEND_ONLY'));
        await repo.close();
        const ex = await Repository.open(s.client(), { exclusive: true });
        await assert.rejects(ex.compact(), code('EAPPEND_ONLY'));
        assert.deepEqual(await ex.get(idOf(1)), valueOf(1));
        await ex.close();
      } finally { await s.cleanup(); }
    });

    test('records and the key blob are stored atomically, listed and deleted', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client());
        assert.equal(await repo.getKeyBlob(), undefined);
        await repo.putKeyBlob(valueOf('key'), { ifAbsent: true });
        await assert.rejects(repo.putKeyBlob(valueOf('key2'), { ifAbsent: true }), AlreadyExistsError);
        assert.deepEqual(await repo.getKeyBlob(), valueOf('key'));
        await repo.putRecord('archives/b', valueOf('b'));
        await repo.putRecord('archives/a', valueOf('a'), { ifAbsent: true });
        await assert.rejects(repo.putRecord('archives/a', valueOf('a'), { ifAbsent: true }), AlreadyExistsError);
        await repo.putRecord('other', valueOf('o'));
        const names: string[] = [];
        for await (const n of repo.listRecords('archives/')) names.push(n);
        assert.deepEqual(names, ['archives/a', 'archives/b']);
        assert.deepEqual(await repo.getRecord('archives/b'), valueOf('b'));
        await repo.deleteRecord('archives/b');
        await repo.deleteRecord('archives/b');
        assert.equal(await repo.getRecord('archives/b'), undefined);
        await repo.close();
        const ro = await Repository.open(s.client(), { readOnly: true });
        await assert.rejects(ro.put(idOf(1), valueOf(1)), RepositoryStateError);
        await assert.rejects(ro.putRecord('x', valueOf(1)), RepositoryStateError);
        await ro.close();
        await assert.rejects(ro.get(idOf(1)), RepositoryStateError);
      } finally { await s.cleanup(); }
    });

    test('two writers at once both commit and see each other after reopening', async () => {
      const s = await store.make();
      try {
        await (await Repository.create(s.client())).close();
        const [a, b] = await Promise.all([Repository.open(s.client()), Repository.open(s.client())]);
        await Promise.all([
          (async () => { for (let i = 0; i < 100; i++) await a.put(idOf(`a${i}`), valueOf(`a${i}`)); await a.commit(); })(),
          (async () => { for (let i = 0; i < 100; i++) await b.put(idOf(`b${i}`), valueOf(`b${i}`)); await b.commit(); })(),
        ]);
        await a.put(idOf('shared'), valueOf('shared'));
        await b.put(idOf('shared'), valueOf('shared'));
        await Promise.all([a.commit(), b.commit()]);
        await Promise.all([a.close(), b.close()]);
        const r = await Repository.open(s.client());
        assert.equal(r.count, 201);
        for (let i = 0; i < 100; i++) {
          assert.deepEqual(await r.get(idOf(`a${i}`)), valueOf(`a${i}`));
          assert.deepEqual(await r.get(idOf(`b${i}`)), valueOf(`b${i}`));
        }
        assert.deepEqual(await r.get(idOf('shared')), valueOf('shared'));
        await r.close();
      } finally { await s.cleanup(); }
    });
  });
}
