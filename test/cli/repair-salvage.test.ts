// Issue 15, "Repair that salvages" (docs/adr/0057-repair-that-salvages.md), through the cairn executable: a data
// chunk's segment entry is damaged; `check --repair` shows its plan (`--dry-run` writes nothing: 0 PUT, 0 DELETE,
// 0 bytes up), refuses to run unconfirmed off a terminal, then replaces the lost chunk with zeros of the same length
// and marks the file damaged; the rest of the archive and every other archive restore exactly; a later `create` of
// the same data and another repair heal the file byte for byte. An unreadable item stream moves aside, asked on a
// real terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFsBackend } from '../../backends/fs/index.js';
import { listItems, openRepository, pathText, readArchive } from '../../src/index.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { PUT_HEADER_SIZE } from '../../src/repository/segment-format.js';
import { cairn, cairnOnTerminal, ok, oneLine, PASSPHRASE, workspace } from './helpers.js';

type Ws = { dir: string; repo: string };

/** Every object of the repository with a digest of its bytes (locks left out): equal maps, nothing written. */
async function snapshot(repo: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(repo, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.parentPath.includes('locks')) continue;
    const path = join(e.parentPath, e.name);
    out.set(path, createHash('sha256').update(await readFile(path)).digest('hex'));
  }
  return out;
}

/** Chunk ids (hex) of an archive's file whose path ends in `suffix`, or of its item stream (`suffix` undefined). */
async function chunkIds(ws: Ws, archive: string, suffix?: string): Promise<string[]> {
  const opened = await openRepository(createFsBackend(ws.repo), { passphrase: PASSPHRASE, readOnly: true, lock: false, indexCache: false, securityDir: join(ws.dir, 'test-security'), workers: 0 });
  try {
    const hex = (id: Uint8Array) => Buffer.from(id).toString('hex');
    if (suffix === undefined) return (await readArchive(opened, archive)).items.map(hex);
    for await (const item of listItems(opened, archive)) if (pathText(item.path).endsWith(suffix)) return (item.chunks ?? []).map((c) => hex(c.id));
    throw new Error(`no ${suffix} in ${archive}`);
  } finally {
    await opened.close();
  }
}

/** Flips a byte in the value of the segment entry holding chunk `id` (its digest then fails). */
async function damageEntry(ws: Ws, id: string): Promise<void> {
  for (const e of await readdir(join(ws.repo, 'data'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const bytes = await readFile(path);
    const entry = scanSegment(bytes).entries.find((x) => x.id && Buffer.from(x.id).toString('hex') === id);
    if (!entry) continue;
    bytes[entry.offset + PUT_HEADER_SIZE + 3] ^= 0x55;
    await writeFile(path, bytes);
    return;
  }
  throw new Error(`chunk ${id} is in no segment`);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a lost data chunk: dry run writes nothing, repair zeros it and marks the file, the rest restores, a later create heals it', { timeout: 600_000 }, async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    const other = join(ws.dir, 'other');
    await mkdir(src);
    await mkdir(other);
    const good = Buffer.from('healthy file\n'.repeat(5000));
    const lost = randomBytes(300_000);
    await writeFile(join(src, 'good.txt'), good);
    await writeFile(join(src, 'lost.bin'), lost);
    await writeFile(join(other, 'else.bin'), randomBytes(100_000));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    await ok(['-r', ws.repo, 'create', 'b1', '.'], { cwd: other });
    const [lostId] = await chunkIds(ws, 'a1', 'lost.bin');
    await damageEntry(ws, lostId!);

    // --dry-run: the plan, and not one write (the store's own accounting, and the objects themselves).
    const before = await snapshot(ws.repo);
    const dry = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--dry-run', '--verify-data']);
    assert.equal(dry.code, 2, dry.stderr);
    const planned = JSON.parse(dry.stdout) as { repair: { applied: boolean; plan: { archives: { rewrites: { archive: string; files: { path: string; zeroed: number; zeroBytes: number }[] }[] } } }; backend: { requests: Record<string, number>; bytesUp: number } };
    assert.equal(planned.repair.applied, false);
    assert.deepEqual(planned.repair.plan.archives.rewrites.map((r) => [r.archive, r.files.map((f) => [f.path, f.zeroed, f.zeroBytes])]), [['a1', [['lost.bin', 1, lost.length]]]]);
    assert.equal(planned.backend.requests.put, 0);
    assert.equal(planned.backend.requests.delete, 0);
    assert.equal(planned.backend.bytesUp, 0);
    assert.deepEqual(await snapshot(ws.repo), before);
    const dryText = await cairn(['-r', ws.repo, 'check', '--repair', '--dry-run']);
    assert.match(dryText.stdout, /would \(nothing was changed\):[\s\S]*rewrite archive "a1"[\s\S]*lost\.bin: 1 lost chunk replaced by zeros/);

    // Not on a terminal and without --yes: one line, exit 2, nothing changed.
    const refused = await cairn(['-r', ws.repo, 'check', '--repair']);
    assert.equal(refused.code, 2);
    assert.match(oneLine(refused.stderr), /--yes.*--dry-run/);
    assert.deepEqual(await snapshot(ws.repo), before);

    const repaired = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--yes']);
    assert.equal(repaired.code, 1, `a file is marked damaged: a warning\n${repaired.stderr}`);
    assert.equal((JSON.parse(repaired.stdout) as { damagedFiles: number }).damagedFiles, 1);

    // The healthy file byte for byte, the damaged one zeros of its length, with a warning (exit 1).
    const target = join(ws.dir, 'restored');
    const extracted = await cairn(['-r', ws.repo, 'extract', 'a1', '--target', target]);
    assert.equal(extracted.code, 1, extracted.stderr);
    assert.match(oneLine(extracted.stderr), /lost\.bin: restored with zeros/);
    assert.equal(sha(await readFile(join(target, 'good.txt'))), sha(good));
    assert.deepEqual(await readFile(join(target, 'lost.bin')), Buffer.alloc(lost.length));
    const dumped = await cairn(['-r', ws.repo, 'dump', 'a1', 'lost.bin']);
    assert.equal(dumped.code, 1, dumped.stderr);
    assert.equal(dumped.stdout, '\0'.repeat(lost.length));
    assert.match(oneLine(dumped.stderr), /lost\.bin: restored with zeros/);
    // list marks it, in text and in JSON; check reports it (warning).
    const listed = await ok(['-r', ws.repo, 'list', 'a1']);
    assert.match(listed, /lost\.bin \[damaged\]$/m);
    assert.doesNotMatch(listed, /good\.txt.*damaged/);
    const lines = (await ok(['-r', ws.repo, 'list', '--json-lines', 'a1'])).trim().split('\n').map((l) => JSON.parse(l) as { path: string; damaged?: boolean });
    assert.deepEqual(lines.filter((l) => l.damaged).map((l) => l.path), ['lost.bin']);
    const checked = await cairn(['-r', ws.repo, '--json', 'check']);
    assert.equal(checked.code, 1, checked.stderr);
    assert.deepEqual((JSON.parse(checked.stdout) as { archives: { problems: { kind: string; path?: string }[] } }).archives.problems.map((p) => [p.kind, p.path]), [['damaged-file', 'lost.bin']]);
    // The archive that never used the chunk is untouched.
    const otherTarget = join(ws.dir, 'other-restored');
    await ok(['-r', ws.repo, 'extract', 'b1', '--target', otherTarget]);
    assert.deepEqual(await readFile(join(otherTarget, 'else.bin')), await readFile(join(other, 'else.bin')));

    // Healing: the same data backed up again brings the chunk back; the next repair restores the file.
    await ok(['-r', ws.repo, 'create', 'a2', '.'], { cwd: src });
    const healed = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--yes']);
    assert.equal(healed.code, 0, healed.stderr);
    const healPlan = JSON.parse(healed.stdout) as { repair: { plan: { archives: { rewrites: { archive: string; files: { path: string; healed: number; zeroBytes: number }[] }[] } } } };
    assert.deepEqual(healPlan.repair.plan.archives.rewrites.map((r) => [r.archive, r.files.map((f) => [f.path, f.healed, f.zeroBytes])]), [['a1', [['lost.bin', 1, 0]]]]);
    const again = join(ws.dir, 'healed');
    await ok(['-r', ws.repo, 'extract', 'a1', '--target', again]);
    assert.equal(sha(await readFile(join(again, 'lost.bin'))), sha(lost));
    assert.equal(sha(await readFile(join(again, 'good.txt'))), sha(good));
    assert.doesNotMatch(await ok(['-r', ws.repo, 'list', 'a1']), /damaged/);
    await ok(['-r', ws.repo, 'check']);
  } finally {
    await ws.cleanup();
  }
});

test('an unreadable item stream: on a terminal the plan is shown and asked; "no" changes nothing, "yes" moves the archive aside', { timeout: 600_000 }, async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'one.txt'), 'first archive\n');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'keep', '.'], { cwd: src });
    await writeFile(join(src, 'two.txt'), 'second archive, another item stream\n');
    await ok(['-r', ws.repo, 'create', 'broken', '.'], { cwd: src });
    const [itemsId] = await chunkIds(ws, 'broken');
    await damageEntry(ws, itemsId!);
    const before = await snapshot(ws.repo);

    const declined = await cairnOnTerminal(['-r', ws.repo, 'check', '--repair'], 'no\n');
    assert.equal(declined.code, 2, declined.stdout);
    assert.match(declined.stdout, /check --repair will:[\s\S]*move archive "broken" to quarantine\/: its item stream cannot be read/);
    assert.match(declined.stdout, /Type "yes" to confirm/);
    assert.deepEqual(await snapshot(ws.repo), before);

    const done = await cairnOnTerminal(['-r', ws.repo, 'check', '--repair'], 'yes\n');
    assert.equal(done.code, 0, done.stdout);
    assert.ok((await readdir(join(ws.repo, 'quarantine'))).includes('records-archive-broken'));
    assert.equal((await ok(['-r', ws.repo, 'rlist', '--short'])).trim(), 'keep');
    const target = join(ws.dir, 'restored');
    await ok(['-r', ws.repo, 'extract', 'keep', '--target', target]);
    assert.equal(await readFile(join(target, 'one.txt'), 'utf8'), 'first archive\n');
    await ok(['-r', ws.repo, 'check']);
  } finally {
    await ws.cleanup();
  }
});
