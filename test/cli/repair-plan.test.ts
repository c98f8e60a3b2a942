// Issue 15 leftovers of `check --repair` (docs/adr/0057-repair-that-salvages.md), through the cairn executable:
// - an append-only repository: the archive rewrites it refuses are decided against in the plan, before any change
//   (`postponed`), the rest of the repair is carried out, and the command ends with one line saying what was left and
//   what to do (exit 2); it never fails midway with EAPPEND_ONLY;
// - a healthy repository: nothing needs repair, no question even on a terminal, exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, cairnOnTerminal, flipValueByte, ok, oneLine, segmentPuts, workspace } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Flips one byte in the value of the first PUT2 entry whose whole size passes `pick`; its segment's key. */
async function damageValue(repo: string, pick: (size: number) => boolean): Promise<string> {
  const entry = (await segmentPuts(repo)).find((p) => pick(p.size));
  if (!entry) throw new Error('no such entry');
  await flipValueByte(entry);
  return entry.segment.slice(repo.length + 1);
}

interface Plan {
  repository: { quarantine: string[] };
  archives: { records: { archive: string }[]; rewrites: unknown[]; postponed: { archive: string; files: { path: string }[] }[]; deleteChunks: string[]; zeroChunks: number };
}

test('append-only: the archive rewrite is postponed in the plan, the rest is repaired, one line says what is left; a backup of the same data then heals it', { timeout: 600_000 }, async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    const other = join(ws.dir, 'other');
    await mkdir(src);
    await mkdir(other);
    const good = Buffer.from('healthy file\n'.repeat(5000));
    const lost = randomBytes(300_000);
    const elseBytes = randomBytes(100_000);
    await writeFile(join(src, 'good.txt'), good);
    await writeFile(join(src, 'lost.bin'), lost);
    await writeFile(join(other, 'else.bin'), elseBytes);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey', '--append-only']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    await ok(['-r', ws.repo, 'create', 'b1', '.'], { cwd: other });
    await ok(['-r', ws.repo, 'create', 'c1', '.'], { cwd: other });
    // lost.bin is the only entry over 200 000 bytes (one chunk: the chunker's minimum is 512 KiB).
    const segment = await damageValue(ws.repo, (size) => size > 200_000);
    // c1's record no longer authenticates: quarantining it is allowed in an append-only repository.
    const c1 = join(ws.repo, 'records', 'archive-c1');
    const record = await readFile(c1);
    record[record.length - 5]! ^= 0x01;
    await writeFile(c1, record);
    const a1Record = await readFile(join(ws.repo, 'records', 'archive-a1'));

    const dry = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--dry-run']);
    assert.equal(dry.code, 2, dry.stderr);
    const dryPlan = (JSON.parse(dry.stdout) as { repair: { plan: Plan } }).repair.plan;
    assert.deepEqual(dryPlan.archives.postponed.map((p) => [p.archive, p.files.map((f) => f.path)]), [['a1', ['lost.bin']]]);
    assert.deepEqual(dryPlan.archives.rewrites, []);
    assert.deepEqual(dryPlan.archives.deleteChunks, []);
    assert.equal(dryPlan.archives.zeroChunks, 0);

    const repaired = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--yes']);
    assert.equal(repaired.code, 2, repaired.stderr);
    // Not EAPPEND_ONLY midway: the check's own failure, after the repair was carried out.
    const error = (JSON.parse(repaired.stderr.trim().split('\n').at(-1)!) as { error: { code: string } }).error;
    assert.equal(error.code, 'ECHECK_FAILED');
    const done = JSON.parse(repaired.stdout) as { repair: { applied: boolean; plan: Plan }; damagedFiles: number };
    assert.equal(done.repair.applied, true);
    assert.deepEqual(done.repair.plan.repository.quarantine, [segment]);
    assert.deepEqual(done.repair.plan.archives.records.map((r) => r.archive), ['c1']);
    assert.equal(done.damagedFiles, 0);
    // Carried out: the segment and c1's record are in quarantine/; a1's record is untouched.
    const quarantined = await readdir(join(ws.repo, 'quarantine'), { recursive: true });
    assert.ok(quarantined.includes('records-archive-c1'), quarantined.join(' '));
    await assert.rejects(readFile(join(ws.repo, segment)), { code: 'ENOENT' });
    assert.deepEqual(await readFile(join(ws.repo, 'records', 'archive-a1')), a1Record);
    assert.equal((await ok(['-r', ws.repo, 'rlist', '--short'])).trim().split('\n').sort().join(' '), 'a1 b1');

    // Text: one line naming the archive and what to do.
    const text = await cairn(['-r', ws.repo, 'check', '--repair', '--yes']);
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stdout, /not rewrite archive "a1" \(the repository is append-only[^\n]*\n\s+lost\.bin/);
    assert.match(oneLine(text.stderr), /append-only.*"a1".*back up the same data again/);

    // b1 whole; a1 restores its other file and fails lost.bin alone.
    const b = join(ws.dir, 'b');
    await ok(['-r', ws.repo, 'extract', 'b1', '--target', b]);
    assert.equal(sha(await readFile(join(b, 'else.bin'))), sha(elseBytes));
    const a = join(ws.dir, 'a');
    assert.equal((await cairn(['-r', ws.repo, 'extract', 'a1', '--target', a])).code, 2);
    assert.equal(sha(await readFile(join(a, 'good.txt'))), sha(good));
    await assert.rejects(readFile(join(a, 'lost.bin')), { code: 'ENOENT' });

    // What the line advises: a backup of the same data stores the lost chunk; a1 restores whole, unrewritten.
    await ok(['-r', ws.repo, 'create', 'a2', '.'], { cwd: src });
    const healed = join(ws.dir, 'healed');
    await ok(['-r', ws.repo, 'extract', 'a1', '--target', healed]);
    assert.equal(sha(await readFile(join(healed, 'lost.bin'))), sha(lost));
    assert.equal(sha(await readFile(join(healed, 'good.txt'))), sha(good));
    await ok(['-r', ws.repo, 'check', '--verify-data']);
    assert.deepEqual(await readFile(join(ws.repo, 'records', 'archive-a1')), a1Record);
  } finally {
    await ws.cleanup();
  }
});

test('a healthy repository: check --repair asks nothing, even on a terminal, says nothing needs repair, exit 0', { timeout: 300_000 }, async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    const data = randomBytes(50_000);
    await writeFile(join(src, 'f.bin'), data);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });

    // Nothing typed: a question would wait until the limit kills it.
    const onTerminal = await cairnOnTerminal(['-r', ws.repo, 'check', '--repair'], '', { limitMs: 60_000 });
    assert.equal(onTerminal.code, 0, onTerminal.stdout);
    assert.doesNotMatch(onTerminal.stdout, /Type "yes"/);
    assert.match(onTerminal.stdout, /nothing needs repair/);

    const yes = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--yes']);
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal((JSON.parse(yes.stdout) as { repair: { applied: boolean } }).repair.applied, true);
    const dry = await cairn(['-r', ws.repo, 'check', '--repair', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /nothing needs repair/);

    const target = join(ws.dir, 'restored');
    await ok(['-r', ws.repo, 'extract', 'a1', '--target', target]);
    assert.equal(sha(await readFile(join(target, 'f.bin'))), sha(data));
    await ok(['-r', ws.repo, 'check']);
  } finally {
    await ws.cleanup();
  }
});
