// The library API end to end on the fs backend with the real engine (keys, codec, worker pipeline):
// init, create, list, info, diff, extract byte-exact, wrong passphrase, keyfile mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createArchive, diffArchives, extractArchive, archiveInfo, initRepository, listArchives, listItems, openRepository,
  itemJson, formatItem, openBackend, WrongPassphraseError,
} from '../../src/index.js';
import { assertSameTree, buildTree, PAST, snapshot } from './helpers/tree.js';

const kdf = { memoryKiB: 64, iterations: 1, parallelism: 1 };

test('init, create, list, info, diff and extract through the public API (fs backend, real engine)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-lib-'));
  try {
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config') };
    const url = join(dir, 'repo');
    const src = join(dir, 'src');
    await buildTree(src);
    const before = await snapshot(src);
    const repo = await initRepository(await openBackend(url), { encryption: 'repokey-aes-ocb', passphrase: 'secret words', kdf, workers: 2, env });
    let first;
    try {
      first = await createArchive(repo, { name: 'day1', paths: [src], cacheDir: join(dir, 'cache') });
      await writeFile(join(src, 'small.txt'), 'changed\n');
      await utimes(join(src, 'small.txt'), PAST + 1, PAST + 1);
      await createArchive(repo, { name: 'day2', paths: [src], cacheDir: join(dir, 'cache') });
    } finally {
      await repo.close();
    }
    assert.equal(first.stats.filesRead, 7);
    await assert.rejects(openRepository(await openBackend(url), { passphrase: 'wrong', env }), (e: unknown) => e instanceof WrongPassphraseError);
    const again = await openRepository(await openBackend(url), { passphrase: async () => 'secret words', env });
    try {
      assert.deepEqual((await listArchives(again)).map((a) => a.name), ['day1', 'day2']);
      const info = await archiveInfo(again, 'day1');
      assert.equal(info.itemCount, before.size + 1, 'the tree plus its root folder');
      const diff = await diffArchives(again, 'day1', 'day2');
      assert.deepEqual(diff.map((d) => [d.path.split('/').pop(), d.changes[0].kind]), [['small.txt', 'content']]);
      const lines = [];
      for await (const item of listItems(again, 'day1', { patterns: ['re:/link$'] })) lines.push([itemJson(item).type, formatItem(item, '{type} {path}{extra}')]);
      assert.deepEqual(lines, [['symlink', `symlink ${src.slice(1)}/link -> small.txt`]]);
      const out = join(dir, 'out');
      await extractArchive(again, 'day1', { target: out, stripComponents: src.split('/').filter(Boolean).length });
      assertSameTree(before, await snapshot(out));
    } finally {
      await again.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('keyfile mode keeps the key outside the repository', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-lib-'));
  try {
    const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') };
    const repo = await initRepository(await openBackend(join(dir, 'repo')), { encryption: 'keyfile-chacha20-poly1305', passphrase: 'pw', kdf, env, workers: 0 });
    const id = repo.repository.config.id;
    assert.equal(await repo.repository.getKeyBlob(), undefined);
    await repo.close();
    await assert.rejects(openRepository(await openBackend(join(dir, 'repo')), { passphrase: 'pw', env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'elsewhere') } }),
      (e: unknown) => (e as { code?: string }).code === 'EKEY_MISSING');
    const opened = await openRepository(await openBackend(join(dir, 'repo')), { passphrase: 'pw', env });
    assert.equal(opened.repository.config.id, id);
    await opened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('chunker sizes chosen at init are used by every later client', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-lib-'));
  try {
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'data'), randomBytes(300_000));
    const chunker = { min: 4096, avg: 16384, max: 65536 };
    const securityDir = join(dir, 'security');
    const repo = await initRepository(await openBackend(join(dir, 'repo')), { encryption: 'repokey-chacha20-poly1305', passphrase: 'pw', kdf, chunker, workers: 1, securityDir });
    const first = await createArchive(repo, { name: 'a', paths: [src], cacheDir: join(dir, 'cache') });
    await repo.close();
    assert.ok(first.stats.chunks > 5, `small chunks: ${first.stats.chunks}`);
    const again = await openRepository(await openBackend(join(dir, 'repo')), { passphrase: 'pw', workers: 1, securityDir });
    try {
      const second = await createArchive(again, { name: 'b', paths: [src], cacheDir: join(dir, 'cache'), noFilesCache: true });
      assert.equal(second.stats.chunks, 0, 'the same cuts, so nothing new');
    } finally {
      await again.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
