// Repository.create writes only into an empty store; destroy deletes only cairn's keys (every backend).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppendOnlyError, Repository, StoreNotEmptyError } from '../../src/repository/index.js';
import { isRepositoryKey } from '../../src/repository/layout.js';
import { STORES, idOf, valueOf } from './helpers.js';

const bytes = (s: string) => new TextEncoder().encode(s);

async function keys(backend: { list(p: string): AsyncIterable<{ key: string }> }): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of backend.list('')) out.push(key);
  return out;
}

for (const store of STORES) {
  describe(`repository ownership on ${store.name}`, () => {
    test('create refuses a store holding other objects and writes nothing', async () => {
      const s = await store.make();
      try {
        const backend = s.client();
        await backend.create();
        await backend.put('notes/todo.txt', bytes('mine'));
        await assert.rejects(Repository.create(backend), (e) => e instanceof StoreNotEmptyError && e.code === 'ESTORE_NOT_EMPTY');
        assert.deepEqual(await keys(backend), ['notes/todo.txt']);
      } finally { await s.cleanup(); }
    });

    test('destroy deletes every repository object and keeps the others', async () => {
      const s = await store.make();
      try {
        const repo = await Repository.create(s.client());
        await repo.put(idOf(1), valueOf(1));
        await repo.commit();
        await repo.putRecord('archive-a', bytes('record'));
        await repo.close();
        const backend = s.client();
        // Planted beside the repository (a shared bucket prefix, a folder reused by mistake).
        for (const k of ['data/mine.txt', 'index/notes', 'locks/mine', 'zz-user-file']) await backend.put(k, bytes(k));
        const ex = await Repository.open(s.client(), { exclusive: true });
        const plan = await ex.destroy({ dryRun: true });
        assert.deepEqual(plan.kept, ['data/mine.txt', 'index/notes', 'locks/mine', 'zz-user-file']);
        const report = await ex.destroy();
        await ex.close();
        assert.equal(report.deleted, plan.deleted);
        assert.deepEqual(await keys(backend), ['data/mine.txt', 'index/notes', 'locks/mine', 'zz-user-file']);
        for (const k of await keys(backend)) assert.deepEqual(await backend.get(k), bytes(k));
      } finally { await s.cleanup(); }
    });

    test('destroy is refused in append-only mode and without the exclusive lock', async () => {
      const s = await store.make();
      try {
        await (await Repository.create(s.client(), { appendOnly: true })).close();
        const ex = await Repository.open(s.client(), { exclusive: true });
        await assert.rejects(ex.destroy(), (e) => e instanceof AppendOnlyError && e.code === 'EAPPEND_ONLY');
        await ex.close();
        assert.ok((await keys(s.client())).includes('config'));
      } finally { await s.cleanup(); }
    });
  });
}

test('the key grammar matches what the repository writes and nothing else', () => {
  for (const k of ['config', 'keys/repokey', 'data/0123456789abcdef/0000000a', 'index/0123456789abcdef-0000000a', 'index/full-000000000000000f',
    'locks/exclusive', 'locks/shared-0123456789abcdef', 'records/archive-a=2Eb', 'records/settings', 'quarantine/data-0123456789abcdef-00000001',
    'quarantine/index-full-0000000000000001',
    // written since: the previous key blob (key import, change-passphrase), journal records, quarantined records
    'keys/repokey.prev', 'records/journal-0123456789abcdef-00000000', 'quarantine/records-archive-x']) assert.ok(isRepositoryKey(k), k);
  for (const k of ['file', 'config.bak', 'keys/other', 'data/x', 'data/0123456789abcdef/0000000a.txt', 'index/x', 'locks/shared-x',
    'records/a/b', 'records/', 'quarantine/x', 'Config', 'keys/repokey.prev.old', 'quarantine/records-']) assert.ok(!isRepositoryKey(k), k);
});
