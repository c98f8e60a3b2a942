// Issue 15 leftover: a CORRUPT chunk (its segment entry's value has one byte flipped, the header intact), not only a
// missing one, salvaged end to end through the cairn executable (run with CAIRN_TEST_BUILT=1 for the built dist/):
// a plain check does not read values (docs/cli.md, "What a check downloads") and passes, --verify-data reports the
// entry (exit 2); extract fails for that file alone with a one-line error and never writes a wrong byte; check
// --repair --yes quarantines the segment, keeps its good entries and rewrites the archive with zeros for exactly that
// chunk's range; check then warns (exit 1), list marks the file, extract gives its bytes with that range zeroed and
// every other file byte-exact; a create of the same data and another repair heal it (docs/reliability.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, flipValueByte, ok, oneLine, segmentPuts, workspace } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a corrupt chunk: --verify-data finds it, extract never writes a wrong byte, repair zeros exactly its range, a later create heals it', { timeout: 900_000 }, async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    // 12 MiB of random data: the default chunker (max 8 MiB) cuts it into at least two chunks.
    const big = randomBytes(12 * 1024 * 1024);
    const files = new Map<string, Buffer>([
      ['big.bin', big],
      ['small.txt', Buffer.from('a small healthy file\n'.repeat(200))],
      ['sub/other.bin', randomBytes(300_000)],
    ]);
    for (const [path, bytes] of files) await writeFile(join(src, path), bytes);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    const before = await segmentPuts(ws.repo);

    // big.bin's chunks are the only entries over 400 000 bytes (sub/other.bin is one chunk of 300 000 random bytes,
    // the rest is smaller); the default chunker (min 512 KiB, max 8 MiB) cuts 12 MiB into two or more. Damage the first.
    const bigEntries = before.filter((p) => p.size > 400_000);
    assert.ok(bigEntries.length >= 2, `big.bin has ${bigEntries.length} chunks`);
    const victim = bigEntries[0]!;
    await flipValueByte(victim);
    const sameSegment = before.filter((p) => p.segment === victim.segment && p.id !== victim.id);
    assert.ok(sameSegment.length > 0, 'the damaged segment holds other, good entries');

    // A plain check reads headers only (the value's digest is behind an intact header): it passes, as documented.
    const plain = await cairn(['-r', ws.repo, 'check']);
    assert.equal(plain.code, 0, plain.stderr);
    const verified = await cairn(['-r', ws.repo, '--json', 'check', '--verify-data']);
    assert.equal(verified.code, 2, verified.stderr);
    const report = JSON.parse(verified.stdout) as { repository: { damage: { kind: string; key: string; offset?: number }[] }; archives: { problems: { kind: string; path?: string; id?: string }[] } };
    assert.ok(report.repository.damage.some((d) => d.offset === victim.offset), JSON.stringify(report.repository.damage));
    assert.ok(report.archives.problems.some((p) => p.id === victim.id), JSON.stringify(report.archives.problems));
    assert.match(oneLine(verified.stderr), /check --repair/);

    // extract: that file fails alone, one line naming the damage; it is not written (no wrong byte); the rest is exact.
    const failed = join(ws.dir, 'failed');
    const broken = await cairn(['-r', ws.repo, 'extract', 'a1', '--target', failed]);
    assert.equal(broken.code, 2, broken.stderr);
    const brokenLines = broken.stderr.trim().split('\n');
    assert.ok(brokenLines.some((l) => l.includes('big.bin') && l.includes(victim.id)), broken.stderr);
    // The advice names the check that finds this damage: a plain check reads no values and passes (above).
    assert.match(brokenLines.at(-1)!, /cairn check --verify-data/);
    await assert.rejects(readFile(join(failed, 'big.bin')), { code: 'ENOENT' });
    for (const [path, bytes] of files) if (path !== 'big.bin') assert.equal(sha(await readFile(join(failed, path))), sha(bytes), path);
    assert.deepEqual((await readdir(failed, { recursive: true })).filter((n) => n.includes('.cairn-tmp')), []);

    const repaired = await cairn(['-r', ws.repo, '--json', 'check', '--repair', '--yes']);
    assert.equal(repaired.code, 1, `a file is marked damaged: a warning\n${repaired.stderr}`);
    const plan = (JSON.parse(repaired.stdout) as { repair: { applied: boolean; plan: { repository: { quarantine: string[]; rewriteEntries: number }; archives: { rewrites: { archive: string; files: { path: string; zeroed: number; zeroBytes: number }[] }[] } } } }).repair;
    assert.equal(plan.applied, true);
    const segmentKey = victim.segment.slice(ws.repo.length + 1);
    assert.deepEqual(plan.plan.repository.quarantine, [segmentKey]);
    assert.equal(plan.plan.repository.rewriteEntries, sameSegment.length);
    const rewrites = plan.plan.archives.rewrites.map((r) => [r.archive, r.files.map((f) => [f.path, f.zeroed])]);
    assert.deepEqual(rewrites, [['a1', [['big.bin', 1]]]]);
    const zeroBytes = plan.plan.archives.rewrites[0]!.files[0]!.zeroBytes;
    // The segment is in quarantine/ byte for byte as damaged, and gone from data/.
    const quarantined = await readdir(join(ws.repo, 'quarantine'), { recursive: true });
    assert.ok(quarantined.length > 0);
    await assert.rejects(readFile(victim.segment), { code: 'ENOENT' });

    assert.equal((await cairn(['-r', ws.repo, 'check'])).code, 1);
    assert.match(await ok(['-r', ws.repo, 'list', 'a1']), /big\.bin \[damaged\]$/m);

    // extract: exit 1, big.bin with exactly one run of zeros of the lost chunk's length, everything else exact.
    const target = join(ws.dir, 'restored');
    const salvaged = await cairn(['-r', ws.repo, 'extract', 'a1', '--target', target]);
    assert.equal(salvaged.code, 1, salvaged.stderr);
    const got = await readFile(join(target, 'big.bin'));
    assert.equal(got.length, big.length);
    // The lost chunk's length (its plaintext: the entry's value less the encryption and compression overhead).
    assert.ok(zeroBytes <= victim.size - 49 && zeroBytes > victim.size - 49 - 1024, `${zeroBytes} zeroed, entry of ${victim.size}`);
    let first = 0;
    while (first < got.length && got[first] === big[first]) first += 1;
    let last = got.length;
    while (last > first && got[last - 1] === big[last - 1]) last -= 1;
    assert.ok(last > first, 'the lost range is zeros, not the original bytes');
    // Some start s puts [first, last) inside one run of zeroBytes zeros (bytes at its ends may be zero in the source).
    const starts: number[] = [];
    for (let s = Math.max(0, last - zeroBytes); s <= first; s += 1) {
      const expected = Buffer.from(big);
      expected.fill(0, s, s + zeroBytes);
      if (expected.equals(got)) starts.push(s);
    }
    assert.ok(starts.length > 0, `big.bin differs over [${first}, ${last}), not one run of ${zeroBytes} zeros`);
    for (const [path, bytes] of files) if (path !== 'big.bin') assert.equal(sha(await readFile(join(target, path))), sha(bytes), path);

    // Healing: a create of the original data stores the chunk again; the new archive is healthy, the next repair
    // heals the old one (docs/reliability.md, "Chunk healing").
    await ok(['-r', ws.repo, 'create', 'a2', '.'], { cwd: src });
    const fresh = join(ws.dir, 'fresh');
    await ok(['-r', ws.repo, 'extract', 'a2', '--target', fresh]);
    for (const [path, bytes] of files) assert.equal(sha(await readFile(join(fresh, path))), sha(bytes), path);
    assert.doesNotMatch(await ok(['-r', ws.repo, 'list', 'a2']), /damaged/);
    const healed = await cairn(['-r', ws.repo, 'check', '--repair', '--yes']);
    assert.equal(healed.code, 0, healed.stderr);
    await ok(['-r', ws.repo, 'check', '--verify-data']);
    assert.doesNotMatch(await ok(['-r', ws.repo, 'list', 'a1']), /damaged/);
    const again = join(ws.dir, 'healed');
    await ok(['-r', ws.repo, 'extract', 'a1', '--target', again]);
    for (const [path, bytes] of files) assert.equal(sha(await readFile(join(again, path))), sha(bytes), path);
  } finally {
    await ws.cleanup();
  }
});
