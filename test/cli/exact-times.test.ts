// Issue 15, "Restores exact to the nanosecond": a file, a folder and a symlink whose mtimes have
// nanoseconds (set by coreutils `touch -d @SEC.NNNNNNNNN`, which calls utimensat) come back from
// `cairn create` + `cairn extract` with exactly those nanoseconds (Node's utimes alone cannot: a
// double of today's seconds is exact only to ~0.24 µs). Also the fallback where koffi does not load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, workspace } from './helpers.js';
import { bindExactTimes } from '../../src/archive/exact-times.js';

const SEC = 1_700_000_000n;
const NS = 1_000_000_000n;

test('create + extract restore mtimes of a file, a folder and a symlink to the nanosecond', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(join(src, 'folder'), { recursive: true });
    await writeFile(join(src, 'folder', 'file'), 'nanoseconds\n');
    await symlink('file', join(src, 'folder', 'link'));
    const wanted = new Map([['folder/file', 123_456_789n], ['folder/link', 987_654_321n], ['folder', 555_555_555n]]);
    // Children first: touching them would change the folder's mtime again.
    for (const [path, ns] of wanted) {
      execFileSync('touch', ['-h', '-d', `@${SEC + BigInt(path.length)}.${String(ns).padStart(9, '0')}`, join(src, path)]);
    }
    for (const [path, ns] of wanted) assert.equal((await lstat(join(src, path), { bigint: true })).mtimeNs, (SEC + BigInt(path.length)) * NS + ns, `touch set ${path}`);

    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a', '.'], { cwd: src });
    const out = join(ws.dir, 'out');
    await mkdir(out);
    await ok(['-r', ws.repo, 'extract', 'a'], { cwd: out });
    for (const [path, ns] of wanted) {
      const st = await lstat(join(out, path), { bigint: true });
      assert.equal(st.mtimeNs, (SEC + BigInt(path.length)) * NS + ns, path);
    }
    // `stat` of coreutils agrees (seconds.nanoseconds).
    assert.equal(execFileSync('stat', ['-c', '%.9Y', join(out, 'folder', 'file')], { encoding: 'utf8' }).trim(), `${SEC + 11n}.123456789`);
  } finally { await ws.cleanup(); }
});

test('exact times: bound on 64-bit Linux; undefined (Node utimes fallback) where koffi does not load', () => {
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) assert.ok(bindExactTimes(), 'koffi loads here');
  assert.equal(bindExactTimes(() => { throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' }); }), undefined);
});

test('exact times: errors carry the errno code; times before 1970 keep their nanoseconds', async () => {
  const exact = bindExactTimes();
  if (!exact) return;
  const ws = await workspace();
  try {
    assert.throws(() => exact.lutimens(Buffer.from(join(ws.dir, 'missing')), 0n, 0n), { code: 'ENOENT' });
    assert.throws(() => exact.futimens(-1, 0n, 0n), { code: 'EBADF' });
    const f = join(ws.dir, 'old');
    await writeFile(f, '');
    exact.lutimens(Buffer.from(f), -1_500_000_001n, -123_456_789n);
    const st = await lstat(f, { bigint: true });
    assert.equal(st.mtimeNs, -123_456_789n);
    assert.equal(st.atimeNs, -1_500_000_001n);
  } finally { await ws.cleanup(); }
});
