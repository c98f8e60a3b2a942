// End to end through the real executable: a tree with every item type comes back byte-exact with
// its metadata; list, dry-run, strip-components; day 2 reads only the changed files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, lstat, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { allocatedBytes, buildTree, cairn, assertSameTree, describeTree, ok, oneLine, workspace } from './helpers.js';

test('round trip of every item type, byte-exact with metadata; list, dry-run, strip-components', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await buildTree(src);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const created = JSON.parse(await ok(['-r', ws.repo, '--json', 'create', 'first', '.'], { cwd: src })) as { stats: { files: number } };
    assert.ok(created.stats.files >= 7);

    const target = join(ws.dir, 'restore');
    await mkdir(target);
    await ok(['-r', ws.repo, 'extract', 'first'], { cwd: target });
    assertSameTree(await describeTree(target), await describeTree(src));
    assert.ok(await allocatedBytes(join(target, 'sparse.img')) < 1024 * 1024, 'the sparse file stays sparse');

    const lines = (await ok(['-r', ws.repo, 'list', 'first', '--json-lines'])).trim().split('\n').map((l) => JSON.parse(l) as { path: string; mtime: string });
    assert.ok(lines.some((l) => l.path === 'sub/deep/ünïcødé ✓.md'));
    // The archive keeps nanoseconds exactly, even where a restore cannot set them.
    const ns = (await lstat(join(src, 'random.bin'), { bigint: true })).mtimeNs;
    assert.equal(lines.find((l) => l.path === 'random.bin')!.mtime.replace(/^.*\.(\d{9})Z$/, '$1'), String(ns % 1_000_000_000n).padStart(9, '0'));
    assert.equal(lines.length, (await describeTree(src)).size);

    const dry = join(ws.dir, 'dry');
    await mkdir(dry);
    await ok(['-r', ws.repo, 'extract', '--dry-run', 'first'], { cwd: dry });
    assert.deepEqual(await readdir(dry), []);

    const strip = join(ws.dir, 'strip');
    await mkdir(strip);
    await ok(['-r', ws.repo, 'extract', '--strip-components', '1', 'first', 'sub/deep'], { cwd: strip });
    assert.deepEqual(await readdir(strip), ['deep']);

    const exists = await cairn(['-r', ws.repo, 'create', 'first', '.'], { cwd: src });
    assert.equal(exists.code, 2);
    oneLine(exists.stderr);
  } finally {
    await ws.cleanup();
  }
});

test('day 2 reads only the files that changed (files cache), and diff names them', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(join(src, 'many'), { recursive: true });
    // A minute old: create does not remember a file modified in the last second before it started (its
    // mtime may still change within that second), and on a quick machine rcreate alone takes less.
    const minuteAgo = new Date(Date.now() - 60_000);
    for (let i = 0; i < 200; i++) {
      await writeFile(join(src, 'many', `f${i}.txt`), `file ${i}\n`.repeat(50 + i));
      await utimes(join(src, 'many', `f${i}.txt`), minuteAgo, minuteAgo);
    }
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'day1', '.'], { cwd: src });
    await appendFile(join(src, 'many', 'f3.txt'), 'more\n');
    await writeFile(join(src, 'many', 'new.txt'), 'new file\n');
    const day2 = JSON.parse(await ok(['-r', ws.repo, '--json', 'create', 'day2', '.'], { cwd: src })) as { stats: { filesRead: number; filesUnchanged: number } };
    assert.equal(day2.stats.filesRead, 2);
    assert.equal(day2.stats.filesUnchanged, 199);
    const diff = (await ok(['-r', ws.repo, 'diff', '--json-lines', 'day1', 'day2'])).trim().split('\n').map((l) => JSON.parse(l) as { path: string });
    assert.deepEqual(diff.map((d) => d.path).sort(), ['many/f3.txt', 'many/new.txt']);
  } finally {
    await ws.cleanup();
  }
});
