// The walker: deterministic byte order, exclude patterns (a folder's whole subtree), CACHEDIR.TAG,
// and a missing source as a warning rather than a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walk, archiveRootPath, type Warning } from '../../src/archive/walk.js';
import { compilePatterns } from '../../src/archive/patterns.js';

async function names(roots: string[], options: Partial<Parameters<typeof walk>[1]> = {}): Promise<{ paths: string[]; warnings: Warning[] }> {
  const warnings: Warning[] = [];
  const paths: string[] = [];
  for await (const e of walk(roots, { onWarning: (w) => warnings.push(w), ...options })) paths.push(Buffer.from(e.archivePath).toString());
  return { paths, warnings };
}

test('walk order, excludes, CACHEDIR.TAG and missing roots', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-walk-'));
  try {
    const root = join(dir, 'r');
    await mkdir(join(root, 'b/cache'), { recursive: true });
    await mkdir(join(root, 'a'), { recursive: true });
    await writeFile(join(root, 'b/cache/CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n');
    await writeFile(join(root, 'b/cache/blob'), 'x');
    await writeFile(join(root, 'a/keep.txt'), 'x');
    await writeFile(join(root, 'a/drop.tmp'), 'x');
    await writeFile(join(root, 'B'), 'x');
    const prefix = archiveRootPath(root);
    const all = await names([root]);
    assert.deepEqual(all.paths.map((p) => p.slice(prefix.length)), ['', '/B', '/a', '/a/drop.tmp', '/a/keep.txt', '/b', '/b/cache', '/b/cache/CACHEDIR.TAG', '/b/cache/blob']);
    const some = await names([root, join(dir, 'missing')], { exclude: compilePatterns(['*.tmp', `sh:${prefix}/b`]), excludeCaches: true });
    assert.deepEqual(some.paths.map((p) => p.slice(prefix.length)), ['', '/B', '/a', '/a/keep.txt']);
    assert.deepEqual(some.warnings.map((w) => w.code), ['ENOENT']);
    const caches = await names([root], { excludeCaches: true });
    assert.deepEqual(caches.paths.filter((p) => p.includes('cache')).map((p) => p.slice(prefix.length)), ['/b/cache', '/b/cache/CACHEDIR.TAG']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('archive paths of roots: no leading "/" or "../"', () => {
  assert.equal(archiveRootPath('/home/u/'), 'home/u');
  assert.equal(archiveRootPath('../../x/./y'), 'x/y');
  assert.equal(archiveRootPath('.'), '');
});

test('one-file-system skips mount points below a source', async () => {
  // /dev/pts and /dev/shm are separate mounts on Linux; /proc/mounts says which exist here.
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1])
    .filter((m) => m && /^\/dev\/[^/]+$/.test(m));
  assert.ok(mounts.length > 0, 'this test needs a mount point directly below /dev');
  const inside = (await names(['/dev'])).paths;
  const stayed = (await names(['/dev'], { oneFileSystem: true })).paths;
  for (const m of mounts) {
    assert.ok(inside.includes(m.slice(1)), `${m} is walked normally`);
    assert.ok(!stayed.some((p) => p === m.slice(1) || p.startsWith(`${m.slice(1)}/`)), `${m} is skipped`);
  }
});

test('a root given twice or inside an earlier one is walked once; another file that only shares the archive path is walked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-walk-'));
  const cwd = process.cwd();
  try {
    await mkdir(join(dir, 'w/a/sub'), { recursive: true });
    await mkdir(join(dir, 'a'), { recursive: true });
    await writeFile(join(dir, 'w/a/sub/f'), 'x');
    await writeFile(join(dir, 'a/other'), 'y');
    process.chdir(join(dir, 'w'));
    // "a/sub" inside "a", "a" again, "./a/" the same folder; "../a" is another folder whose archive path is also "a".
    const { paths } = await names(['a/sub', 'a', './a/', 'a/sub/f', '../a']);
    assert.deepEqual(paths, ['a/sub', 'a/sub/f', 'a', 'a', 'a/other']); // the second "a" is ../a
    const flat = await names(['a', 'a/sub', 'a'], { recursive: false });
    assert.deepEqual(flat.paths, ['a', 'a/sub']);
  } finally {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  }
});
