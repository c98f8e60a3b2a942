// find, stats (and rinfo's totals) and rename (issue 11) through the executable: --json shapes, what each number
// means (deduplicated never above original; per-archive "added" sums to the total), exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { cairn, ok, repoWithArchive, workspace } from './helpers.js';

async function twoArchives() {
  const ws = await workspace();
  const src = await repoWithArchive(ws, { name: 'first', fill: async (dir) => {
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'docs', 'notes.txt'), 'notes\n');
    await writeFile(join(dir, 'random.bin'), randomBytes(1024 * 1024));
  } });
  await writeFile(join(src, 'docs', 'later.txt'), 'later\n'.repeat(1000));
  await ok(['-r', ws.repo, 'create', 'second', '.'], { cwd: src });
  return { ws, src };
}

test('find: the archives that hold a matching path, oldest first, with size and mtime; nothing found is a warning', async () => {
  const { ws } = await twoArchives();
  try {
    const found = JSON.parse(await ok(['-r', ws.repo, '--json', 'find', 'fm:*.txt', 'docs/later.txt']));
    assert.deepEqual(found.archives.map((a: { archive: string }) => a.archive), ['first', 'second']);
    assert.deepEqual(found.archives[0].matches.map((m: { path: string }) => m.path), ['docs/notes.txt']);
    assert.deepEqual(found.archives[1].matches.map((m: { path: string; size: number }) => [m.path, m.size]), [['docs/later.txt', 6000], ['docs/notes.txt', 6]]);
    assert.equal(found.searched, 2);
    assert.ok(typeof found.archives[0].time === 'string' && typeof found.archives[0].matches[0].mtime === 'string');
    // Each item stream is read once, whatever the number of patterns: as many GETs for three patterns as for one
    // (the first run above also read the archive journal's entries, which this machine now has in its cache).
    const single = JSON.parse(await ok(['-r', ws.repo, '--json', 'find', 'fm:*.txt']));
    const three = JSON.parse(await ok(['-r', ws.repo, '--json', 'find', 'fm:*.txt', 'docs/later.txt', 'docs/notes.txt']));
    assert.equal(three.backend.requests.get, single.backend.requests.get);
    const only = JSON.parse(await ok(['-r', ws.repo, '--json', 'find', './docs/later.txt', '-a', 'sec*']));
    assert.deepEqual(only.archives.map((a: { archive: string }) => a.archive), ['second']);
    // The selection options of rlist/prune: --last/--first pick among the archives, before the search.
    const last = JSON.parse(await ok(['-r', ws.repo, '--json', 'find', 'fm:*.txt', '--last', '1']));
    assert.deepEqual(last.archives.map((a: { archive: string }) => a.archive), ['second']);
    const first = JSON.parse(await ok(['-r', ws.repo, '--json', 'find', 'fm:*.txt', '--first', '1']));
    assert.deepEqual(first.archives.map((a: { archive: string }) => a.archive), ['first']);
    assert.equal((await cairn(['-r', ws.repo, 'find', 'fm:*.txt', '--host', 'no-such-host'])).code, 1, 'nothing searched: the pattern matched nothing');
    const text = await ok(['-r', ws.repo, 'find', 'docs/notes.txt']);
    assert.match(text, /^archive first \(.*\):\n {2}-rw.* docs\/notes.txt\n/);
    const none = await cairn(['-r', ws.repo, 'find', 'nothing.here']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /pattern "nothing.here" matched nothing/);
  } finally {
    await ws.cleanup();
  }
});

test('stats and rinfo: repository size, original ≥ deduplicated, ratios, per-archive added data that sums to the total', async () => {
  const { ws } = await twoArchives();
  try {
    const s = JSON.parse(await ok(['-r', ws.repo, '--json', 'stats']));
    const r = s.repository;
    assert.equal(r.archives, 2);
    assert.equal(r.files, 5);
    // original: every file of every archive; deduplicated: each distinct chunk once.
    assert.equal(r.original, 2 * (1024 * 1024 + 6) + 6000);
    assert.equal(r.deduplicated, 1024 * 1024 + 6 + 6000);
    assert.ok(r.deduplicated <= r.original);
    assert.equal(r.dedupRatio, Math.round((r.original / r.deduplicated) * 1000) / 1000);
    assert.ok(r.compressed > 0 && r.stored >= r.compressed && r.size > r.stored, JSON.stringify(r));
    assert.deepEqual(s.archives.map((a: { name: string }) => a.name), ['first', 'second']);
    const [first, second] = s.archives;
    assert.equal(first.added.size, 1024 * 1024 + 6);
    assert.equal(second.added.size, 6000);
    assert.equal(first.added.size + second.added.size, r.deduplicated);
    assert.equal(first.added.stored + second.added.stored, r.compressed);
    assert.equal(second.original, 1024 * 1024 + 6 + 6000);
    const one = JSON.parse(await ok(['-r', ws.repo, '--json', 'stats', 'latest']));
    assert.deepEqual(one.archives, [second]);
    const info = JSON.parse(await ok(['-r', ws.repo, '--json', 'rinfo']));
    assert.deepEqual(info.totals, r);
    assert.match(await ok(['-r', ws.repo, 'rinfo']), /deduplicated .*dedup ratio/);
    const missing = await cairn(['-r', ws.repo, 'stats', 'nope']);
    assert.equal(missing.code, 2);
  } finally {
    await ws.cleanup();
  }
});

test('rename: through the executable, placeholders in the new name, refusals exit 2, and check stays clean', async () => {
  const { ws } = await twoArchives();
  try {
    const host = hostname().split('.')[0]!;
    assert.deepEqual(JSON.parse(await ok(['-r', ws.repo, '--json', 'rename', 'first', 'renamed-{hostname}'])).to, `renamed-${host}`);
    assert.deepEqual((await ok(['-r', ws.repo, 'rlist', '--short'])).split('\n').filter(Boolean), [`renamed-${host}`, 'second']);
    assert.match(await ok(['-r', ws.repo, 'list', `renamed-${host}`]), /docs\/notes.txt/);
    const exists = await cairn(['-r', ws.repo, 'rename', 'latest', 'renamed-{hostname}']);
    assert.equal(exists.code, 2);
    assert.match(exists.stderr, /already exists/);
    const gone = await cairn(['-r', ws.repo, 'rename', 'first', 'x']);
    assert.equal(gone.code, 2);
    await ok(['-r', ws.repo, 'check']);
    assert.equal((await cairn(['-r', ws.repo, 'rlist'])).code, 0);
  } finally {
    await ws.cleanup();
  }
});

test('rename in an append-only repository is refused (exit 2), the archive keeps its name', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'f'), 'f\n');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey', '--append-only']);
    await ok(['-r', ws.repo, 'create', 'a', src]);
    const run = await cairn(['-r', ws.repo, 'rename', 'a', 'b']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /append-only/);
    assert.equal(await ok(['-r', ws.repo, 'rlist', '--short']), 'a\n');
  } finally {
    await ws.cleanup();
  }
});
