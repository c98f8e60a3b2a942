// The files cache: a second run reads only changed and new files (counted), and a run that dies after a
// checkpoint leaves a usable checkpoint archive whose chunks the next run reuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createArchive } from '../../src/archive/create.js';
import { listArchives } from '../../src/archive/list.js';
import { ArchiveExistsError } from '../../src/archive/errors.js';
import { checkArchives } from '../../src/archive/check.js';
import { Repository } from '../../src/repository/index.js';
import { makeFixture } from './helpers/context.js';
import { PAST } from './helpers/tree.js';

async function makeFiles(root: string, n: number): Promise<void> {
  await mkdir(root, { recursive: true });
  for (let i = 0; i < n; i++) {
    const p = join(root, `f${String(i).padStart(3, '0')}`);
    await writeFile(p, randomBytes(1000 + i * 100));
    await utimes(p, PAST, PAST);
  }
}

test('an unchanged file is not read again; changed and new ones are', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await makeFiles(src, 40);
    const first = await createArchive(f.ctx, { name: 'day1', paths: [src], cacheDir: f.cacheDir });
    assert.equal(first.stats.filesRead, 40);
    await appendFile(join(src, 'f003'), 'more');
    await utimes(join(src, 'f003'), PAST + 10, PAST + 10);
    await writeFile(join(src, 'f017'), randomBytes(2000));
    await utimes(join(src, 'f017'), PAST + 20, PAST + 20);
    await writeFile(join(src, 'new'), 'new file');
    await utimes(join(src, 'new'), PAST, PAST);
    const second = await createArchive(f.ctx, { name: 'day2', paths: [src], cacheDir: f.cacheDir });
    assert.equal(second.stats.filesRead, 3);
    assert.equal(second.stats.filesUnchanged, 38);
    assert.equal(second.stats.files, 41);
    const third = await createArchive(f.ctx, { name: 'day3', paths: [src], cacheDir: f.cacheDir });
    assert.equal(third.stats.filesRead, 0);
    assert.equal(third.stats.chunks, 0, 'an unchanged tree adds no chunk, not even an item-stream chunk');
    const forced = await createArchive(f.ctx, { name: 'day4', paths: [src], cacheDir: f.cacheDir, noFilesCache: true });
    assert.equal(forced.stats.filesRead, 41);
  } finally {
    await f.cleanup();
  }
});

test('a name in use is refused before anything is written', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await makeFiles(src, 2);
    await createArchive(f.ctx, { name: 'x', paths: [src], cacheDir: f.cacheDir });
    const count = f.ctx.repository.count;
    await assert.rejects(createArchive(f.ctx, { name: 'x', paths: [src], cacheDir: f.cacheDir }), (e: unknown) => e instanceof ArchiveExistsError && e.code === 'EARCHIVE_EXISTS');
    assert.equal(f.ctx.repository.count, count);
  } finally {
    await f.cleanup();
  }
});

test('an interrupted run leaves a checkpoint archive, and the next run reuses its chunks', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await makeFiles(src, 30);
    let seen = 0;
    await assert.rejects(createArchive(f.ctx, {
      name: 'big', paths: [src], cacheDir: f.cacheDir, checkpointBytes: 10_000, noFilesCache: true,
      onProgress: () => { if (++seen === 25) throw Object.assign(new Error('killed'), { code: 'KILLED' }); },
    }), /killed/);
    // The process "dies": drop the session without committing and open the repository again.
    await f.reopen();
    const archives = await listArchives(f.ctx);
    assert.deepEqual(archives.map((a) => [a.name, a.checkpoint]), [['big.checkpoint', true]]);
    const retry = await createArchive(f.ctx, { name: 'big', paths: [src], cacheDir: f.cacheDir, noFilesCache: true });
    const total = retry.stats.original;
    // 24+ of 30 files were committed by checkpoints (every 10 kB of new data) before the kill.
    assert.ok(retry.stats.deduplicated < total / 2, `reused most data: ${retry.stats.deduplicated} of ${total} bytes new`);
    assert.deepEqual((await listArchives(f.ctx)).map((a) => a.name), ['big']);
  } finally {
    await f.cleanup();
  }
});

test('a source that does not exist is a warning; the archive is still written', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await makeFiles(src, 1);
    const result = await createArchive(f.ctx, { name: 'w', paths: [src, join(f.dir, 'gone')], cacheDir: f.cacheDir });
    assert.deepEqual(result.warnings.map((w) => w.code), ['ENOENT']);
    assert.deepEqual((await listArchives(f.ctx)).map((a) => a.name), ['w']);
  } finally {
    await f.cleanup();
  }
});

test('two create runs at once into one repository both succeed', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await makeFiles(src, 20);
    const second = { repository: await Repository.open(f.backend), codec: f.ctx.codec };
    try {
      const [a, b] = await Promise.all([
        createArchive(f.ctx, { name: 'a', paths: [src], cacheDir: join(f.dir, 'cache-a') }),
        createArchive(second, { name: 'b', paths: [src], cacheDir: join(f.dir, 'cache-b') }),
      ]);
      assert.equal(a.stats.files, 20);
      assert.equal(b.stats.files, 20);
    } finally {
      await second.repository.close();
    }
    await f.reopen();
    assert.deepEqual((await listArchives(f.ctx)).map((x) => x.name).sort(), ['a', 'b']);
    const report = await checkArchives(f.ctx, { verifyData: true });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  } finally {
    await f.cleanup();
  }
});

test('a file that vanishes during the run is a warning, not a failure', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    // More files than create keeps in flight (64), so the last one is still ahead when the first item is out.
    await makeFiles(src, 150);
    let removed = false;
    const result = await createArchive(f.ctx, {
      name: 'v', paths: [src], cacheDir: f.cacheDir,
      onProgress: () => { if (!removed) { removed = true; rmSync(join(src, 'f149')); } },
    });
    assert.deepEqual(result.warnings.map((w) => [w.code, w.path.endsWith('f149')]), [['ENOENT', true]]);
    assert.equal(result.stats.files, 149);
  } finally {
    await f.cleanup();
  }
});
