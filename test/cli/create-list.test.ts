// End to end (issue 11): `create --list` / `--filter` print Borg's status letters, `-v` lists what
// changed, and `create --dry-run` stores nothing: the repository and the files cache stay byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, utimes, link, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cairn, cairnOnTerminal, ok, startCairn, workspace } from './helpers.js';

/** Every file below `dir` with a hash of its contents: equal digests mean nothing changed. */
async function digest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).map((e) => join(e.parentPath, e.name)).sort();
  for (const p of entries) {
    h.update(relative(dir, p));
    try { h.update(await readFile(p)); } catch { /* a folder */ }
  }
  return h.digest('hex');
}

async function tree(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  await mkdir(join(dir, 'skip'));
  await writeFile(join(dir, 'a.txt'), 'a\n');
  await writeFile(join(dir, 'sub', 'b.txt'), 'b\n');
  await writeFile(join(dir, 'skip', 'c.txt'), 'c\n');
  await writeFile(join(dir, 'h1'), 'linked\n');
  await link(join(dir, 'h1'), join(dir, 'h2'));
  await symlink('a.txt', join(dir, 'link'));
  spawnSync('mkfifo', [join(dir, 'pipe')]);
}

test('create --list prints each item with its status letter in walk order; --filter chooses letters; -v lists what changed', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    await tree(join(ws.dir, 'src'));
    const opts = { cwd: ws.dir };
    const first = await ok(['-r', ws.repo, 'create', '--list', '--no-stats', 'one', 'src', '-e', 'src/skip'], opts);
    assert.deepEqual(first.trim().split('\n').filter((l) => !l.startsWith('fs:')), [
      'd src', 'A src/a.txt', 'A src/h1', 'h src/h2', 'f src/pipe', 's src/link', 'x src/skip', 'd src/sub', 'A src/sub/b.txt',
    ].sort((x, y) => Buffer.compare(Buffer.from(x.slice(2)), Buffer.from(y.slice(2)))));

    // Old enough for the files cache (a file changed within the last second is never trusted).
    await new Promise((r) => setTimeout(r, 1100));
    await ok(['-r', ws.repo, 'create', 'two', 'src', '-e', 'src/skip'], opts);
    await appendFile(join(ws.dir, 'src', 'a.txt'), 'more\n');
    // Changed (another mtime than the cached one) yet old enough to be trusted by the next backup:
    // a file changed within a second of a backup is read again by the following one.
    const past = new Date(Date.now() - 60_000);
    await utimes(join(ws.dir, 'src', 'a.txt'), past, past);
    const filtered = await ok(['-r', ws.repo, 'create', '--filter', 'AMUx', '--no-stats', 'three', 'src'], opts);
    assert.deepEqual(filtered.trim().split('\n').filter((l) => !l.startsWith('fs:')), [
      'M src/a.txt', 'U src/h1', 'A src/skip/c.txt', 'U src/sub/b.txt',
    ]);
    assert.match(filtered, /^U src\/sub\/b.txt$/m);

    // -v: the count of the sources on standard error, and the changed files (A, M, E) on standard output.
    await appendFile(join(ws.dir, 'src', 'sub', 'b.txt'), 'more\n');
    const verbose = await cairn(['-r', ws.repo, '-v', 'create', '--no-stats', 'four', 'src'], opts);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.deepEqual(verbose.stdout.trim().split('\n').filter((l) => !l.startsWith('fs:')), ['M src/sub/b.txt']);
    assert.match(verbose.stderr, /the sources hold 5 files/);

    // With --json the list goes to standard error; standard output stays one JSON document.
    const json = await cairn(['-r', ws.repo, '--json', 'create', '--list', 'five', 'src'], opts);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { archive: { name: string } }).archive.name, 'five');
    assert.match(json.stderr, /^U src\/a.txt$/m);

    const bad = await cairn(['-r', ws.repo, 'create', '--filter', 'AZ', 'six', 'src'], opts);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  } finally { await ws.cleanup(); }
});

test('create --dry-run lists what would be stored, writes nothing to the repository or the files cache, and takes no lock', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const src = join(ws.dir, 'src');
    await tree(src);
    await ok(['-r', ws.repo, 'create', 'base', src]);
    await writeFile(join(src, 'new.bin'), 'new file\n');
    const cache = join(ws.dir, 'cache');
    const repoBefore = await digest(ws.repo);
    const cacheBefore = await digest(cache);

    const r = await cairn(['-r', ws.repo, 'create', '-n', '--list', 'try', src]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^A .*src\/new\.bin$/m);
    assert.match(r.stdout, /would back up 6 files/);
    assert.equal(await digest(ws.repo), repoBefore, 'the repository changed');
    assert.equal(await digest(cache), cacheBefore, 'the files cache changed');
    assert.doesNotMatch(await ok(['-r', ws.repo, 'rlist']), /try/);

    const json = JSON.parse(await ok(['-r', ws.repo, '--json', 'create', '--dry-run', 'try', src])) as { dryRun?: boolean; stats: { files: number } };
    assert.equal(json.dryRun, true);
    assert.equal(json.stats.files, 6);

    // While another command holds the exclusive lock, a dry run still runs: it takes no lock.
    const holder = startCairn(['-r', ws.repo, '--limit-download', '1', 'check', '--repair', '--yes', '--verify-data'], { stdin: 'pipe' });
    const closed = new Promise((r) => holder.on('close', r));
    let held = '';
    holder.stderr!.on('data', (d: Buffer) => { held += d.toString(); });
    try {
      const lockDir = join(ws.repo, 'locks');
      for (let i = 0; i < 600 && (await readdir(lockDir).catch(() => [])).filter((n) => n.startsWith('exclusive')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok((await readdir(lockDir)).some((n) => n.startsWith('exclusive')), `the exclusive lock was not taken: ${held}`);
      const locked = await cairn(['-r', ws.repo, 'create', '-n', 'try', src]);
      assert.equal(locked.code, 0, locked.stderr);
    } finally {
      holder.kill('SIGTERM');
      await closed;
    }
  } finally { await ws.cleanup(); }
});

test('on a terminal, --list lines and warnings never share a line with the progress bar', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const src = join(ws.dir, 'src');
    await mkdir(src);
    // Files of 1 MiB uploaded at 2 MiB/s: the bar is drawn between list lines.
    for (let i = 0; i < 6; i++) await writeFile(join(src, `f${i}`), createHash('sha512').update(String(i)).digest().toString('hex').repeat(8192));
    const r = await cairnOnTerminal(['-r', ws.repo, '--limit-upload', '2MiB', 'create', '--list', '-C', 'none', 't', src], '', { env: { CAIRN_PROGRESS_FPS: '50' } });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /\| ETA /, 'the bar was drawn');
    // eslint-disable-next-line no-control-regex -- the progress line is cleared with CR + ESC[K
    const pieces = r.stdout.split(/\r\x1b\[K|\r?\n/);
    const listed = pieces.filter((p) => /src\/f\d/.test(p) && !p.includes(' | '));
    assert.equal(listed.length, 6, JSON.stringify(r.stdout));
    for (const p of pieces.filter((x) => / [AMU] .*src\/f\d$/.test(x))) assert.fail(`a list line shares the bar's line: ${JSON.stringify(p)}`);
  } finally { await ws.cleanup(); }
});
