// End to end: a damaged or hostile repository (index object, archive record, config) fails with one
// true line, and `check --repair` gets the user out of it without trusting what was damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, describeTree, assertSameTree, ok, oneLine, workspace } from './helpers.js';
import { compressionFrame, zstdZeros } from '../helpers/bombs.js';

async function repoWithArchive(ws: { dir: string; repo: string }, encryption = 'repokey'): Promise<string> {
  const src = join(ws.dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'a.txt'), 'alpha\n'.repeat(100));
  await writeFile(join(src, 'b.bin'), randomBytes(200_000));
  await ok(['-r', ws.repo, 'rcreate', '--encryption', encryption]);
  await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
  return src;
}

test('a damaged index object: commands fail with one line pointing at check --repair, which rebuilds it (F4)', async () => {
  const ws = await workspace();
  try {
    const src = await repoWithArchive(ws);
    const indexDir = join(ws.repo, 'index');
    const [name] = await readdir(indexDir);
    const path = join(indexDir, name!);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(path, bytes);
    // Without the local index cache (or on another machine) every open reads the damaged object.
    for (const args of [['rlist'], ['check']]) {
      const r = await cairn(['-r', ws.repo, '--no-cache', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(oneLine(r.stderr), /check --repair/);
    }
    // This machine's cache holds the copy it verified before (ADR 0051): work goes on, and check,
    // which reads every index object itself, still reports the damage.
    assert.equal((await cairn(['-r', ws.repo, 'rlist'])).code, 0);
    const checked = await cairn(['-r', ws.repo, '--json', 'check']);
    assert.notEqual(checked.code, 0, checked.stderr);
    const repaired = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--yes']);
    assert.equal(repaired.code, 0, repaired.stderr);
    const report = JSON.parse(repaired.stdout) as { repository: { repaired: { quarantined: string[] } } };
    assert.ok(report.repository.repaired.quarantined.some((k) => k.startsWith('quarantine/index-')));
    await ok(['-r', ws.repo, 'check']);
    const target = join(ws.dir, 'restored');
    await mkdir(target);
    await ok(['-r', ws.repo, 'extract', 'a1', '--target', target]);
    assertSameTree(await describeTree(target), await describeTree(src));
  } finally {
    await ws.cleanup();
  }
});

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

test('a junk archive record is skipped with a warning by rlist and prune, blocks compact from deleting, and check --repair quarantines it', async () => {
  const ws = await workspace();
  try {
    const src = await repoWithArchive(ws);
    await writeFile(join(src, 'c.bin'), randomBytes(100_000));
    await ok(['-r', ws.repo, 'create', 'a2', '.'], { cwd: src });
    await ok(['-r', ws.repo, 'delete', 'a2']); // leaves chunks only compact would free
    await writeFile(join(ws.repo, 'records', 'archive-zzz'), randomBytes(300));
    await writeFile(join(ws.repo, 'records', 'archive-=0A'), randomBytes(300)); // a name no archive can have

    const listed = await cairn(['-r', ws.repo, '--json', 'rlist']);
    assert.equal(listed.code, 1, listed.stderr);
    const warnings = listed.stderr.split('\n').filter(Boolean);
    assert.equal(warnings.length, 2, listed.stderr);
    assert.match(warnings.join('\n'), /warning: .*"zzz"/);
    assert.deepEqual((JSON.parse(listed.stdout) as { archives: { name: string }[] }).archives.map((a) => a.name), ['a1']);
    const pruned = await cairn(['-r', ws.repo, 'prune', '--keep-last', '1', '--dry-run']);
    assert.equal(pruned.code, 1, pruned.stderr);
    assert.match(pruned.stderr, /"zzz"/);
    const info = await cairn(['-r', ws.repo, '--json', 'info']);
    assert.equal(info.code, 1, info.stderr);
    assert.deepEqual((JSON.parse(info.stdout) as { archives: { name: string }[] }).archives.map((a) => a.name), ['a1']);

    const before = await filesUnder(join(ws.repo, 'data'));
    const compacted = await cairn(['-r', ws.repo, 'compact']);
    assert.equal(compacted.code, 2);
    assert.match(oneLine(compacted.stderr), /nothing was deleted/);
    assert.deepEqual(await filesUnder(join(ws.repo, 'data')), before);

    const checked = await cairn(['-r', ws.repo, '--json', 'check', '--archives-only']);
    assert.equal(checked.code, 2);
    const report = JSON.parse(checked.stdout) as { archives: { problems: { archive: string; kind: string }[] } };
    assert.deepEqual(report.archives.problems.map((p) => [p.kind, p.archive]), [['record', '\n'], ['record', 'zzz']]);
    await ok(['-r', ws.repo, 'check', '--repair', '--yes']);
    assert.deepEqual((await readdir(join(ws.repo, 'quarantine'))).sort(), ['records-archive-=0A', 'records-archive-zzz']);
    assert.equal((await ok(['-r', ws.repo, 'rlist', '--short'])).trim(), 'a1');
    await ok(['-r', ws.repo, 'compact']);
    await ok(['-r', ws.repo, 'check']);
  } finally {
    await ws.cleanup();
  }
});

test('a 33 KB record that would expand to 1 GiB is refused quickly and within bounded memory (F5)', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'authenticated']);
    const GiB = 1024 * 1024 * 1024;
    const record = Buffer.concat([Buffer.alloc(32), Buffer.from([0]), compressionFrame(2, GiB, zstdZeros(GiB))]);
    assert.ok(record.length < 40_000);
    // The child reports its peak memory on exit (kB on Linux).
    const probe = join(ws.dir, 'rss.mjs');
    const out = join(ws.dir, 'rss.txt');
    await writeFile(probe, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`);
    const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${probe}`.trim() };
    // The baseline before the record is planted: rinfo now reads every archive record for its totals.
    const baseline = await cairn(['-r', ws.repo, 'rinfo'], { env });
    assert.equal(baseline.code, 0, baseline.stderr);
    const baseKb = Number(await readFile(out, 'utf8'));
    await writeFile(join(ws.repo, 'records', 'archive-x'), record);
    const started = Date.now();
    const r = await cairn(['-r', ws.repo, 'list', 'x'], { env });
    assert.equal(r.code, 2);
    oneLine(r.stderr);
    const peakKb = Number(await readFile(out, 'utf8'));
    assert.ok(peakKb - baseKb < 150 * 1024, `peak RSS grew by ${Math.round((peakKb - baseKb) / 1024)} MiB`);
    assert.ok(Date.now() - started < 60_000);
  } finally {
    await ws.cleanup();
  }
});

test('after check --repair, what is left is reported without pointing at --repair again (F8)', async () => {
  const ws = await workspace();
  try {
    await repoWithArchive(ws);
    const segments = await filesUnder(join(ws.repo, 'data'));
    const path = segments[0]!;
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 3)] ^= 0xff;
    await writeFile(path, bytes);
    // A damaged value: a plain check reads only the log's structure, --verify-data reads it.
    const checked = await cairn(['-r', ws.repo, 'check', '--verify-data']);
    assert.equal(checked.code, 2);
    assert.match(oneLine(checked.stderr), /check --repair/);
    const repaired = await cairn(['-r', ws.repo, 'check', '--repair', '--yes']);
    assert.equal(repaired.code, 1, 'an archive lost a chunk: salvaged with zeros, a warning');
    assert.doesNotMatch(oneLine(repaired.stderr), /"cairn check --repair"/);
    const again = await cairn(['-r', ws.repo, 'check']);
    assert.equal(again.code, 1, 'the salvaged file stays marked damaged: a warning');
    assert.doesNotMatch(oneLine(again.stderr), /"cairn check --repair"/, 'no loop back to repair');
    const help = await ok(['check', '--help']);
    assert.doesNotMatch(help, /drops references/);
  } finally {
    await ws.cleanup();
  }
});
