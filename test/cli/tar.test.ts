// export-tar and import-tar (issue 14) through the executable: the tar export-tar writes unpacks with GNU tar and
// bsdtar into the tree `cairn extract` restores (bytes, modes, owners, mtimes, symlinks, hard links, xattrs);
// import-tar of it gives an archive `diff` finds identical; stdin/stdout and gzip/zstd; tars made by GNU tar
// (long names, base-256 numbers, "./" names) and ustar import exactly; hostile tars store nothing (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { chown, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tarEnd, tarHeader } from '../../src/index.js';
import { assertSameTree, buildTree, cairn, cairnWithInput, describeTree, isRoot, ok, oneLine, repoWithArchive, startCairn, workspace, type Entry } from './helpers.js';

/** Runs cairn and keeps standard output as bytes. */
async function cairnBytes(args: string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const child = startCairn(args, options);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 128)));
  return { code, stdout: Buffer.concat(out), stderr };
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

interface Xattrs { setAttributeSync(p: string, n: string, v: Uint8Array): void; getAttributeSync(p: string, n: string): Buffer | null }
async function xattrAddon(): Promise<Xattrs> {
  const mod = await import('@napi-rs/xattr') as unknown as Xattrs & { default?: Xattrs };
  return mod.default ?? mod;
}

const hasZstd = Number(process.versions.node.split('.')[0]) > 22 || (process.versions.node.startsWith('22.') && Number(process.versions.node.split('.')[1]) >= 15);

/** `cairn diff A B` in JSON lines: the changes (an empty list means identical, times included). */
async function diffLines(repo: string, a: string, b: string): Promise<unknown[]> {
  const out = await ok(['-r', repo, '--json', 'diff', a, b]);
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => !('backend' in l));
}

/** `list --json` of an archive, per path, without what a tar does not carry (ctime, link ids, the sparse flag, chunk ids). */
async function listing(repo: string, name: string): Promise<Map<string, unknown>> {
  const out = await ok(['-r', repo, '--json', 'list', name]);
  const items = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'path' in l);
  return new Map(items.map(({ ctime: _c, hlid: _h, sparse: _s, healthy: _he, ...rest }) => [String(rest.path), rest]));
}

test('export-tar: GNU tar and bsdtar unpack what cairn extract restores; import-tar of it is identical by diff; stdout/stdin and gzip/zstd', async () => {
  const ws = await workspace();
  try {
    const src = await repoWithArchive(ws, { fill: async (dir) => {
      await buildTree(dir);
      // A name too long for ustar's fields, and an extended attribute.
      await mkdir(join(dir, 'l'.repeat(120)));
      await writeFile(join(dir, 'l'.repeat(120), 'n'.repeat(150)), 'long name\n');
      (await xattrAddon()).setAttributeSync(join(dir, 'text.txt'), 'user.cairn', Buffer.from([0, 1, 2, 0xff]));
    } });
    const expected = await describeTree(src);

    const extracted = join(ws.dir, 'extracted');
    await ok(['-r', ws.repo, 'extract', 'one', '--target', extracted]);
    assertSameTree(await describeTree(extracted), expected);

    const tarFile = join(ws.dir, 'out.tar');
    await ok(['-r', ws.repo, 'export-tar', 'one', tarFile]);
    for (const [tool, args] of [
      ['tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', tarFile, '-C']],
      ['bsdtar', ['--numeric-owner', '-xpf', tarFile, '-C']],
    ] as const) {
      const target = join(ws.dir, `un-${tool}`);
      await mkdir(target);
      const r = spawnSync(tool, [...args, target], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      // bsdtar reads pax names as UTF-8: the one name that is not (buildTree's) is written with its exact bytes, but
      // it says so and exits 1 (GNU tar takes it silently; an hdrcharset record would make GNU tar warn instead).
      const noise = tool === 'bsdtar' ? /^bsdtar: (Pathname can't be converted from UTF-8 to current locale\.|Error exit delayed from previous errors\.)$/ : /^$/;
      const complaints = r.stderr.split('\n').filter((l) => l !== '' && !noise.test(l));
      assert.deepEqual(complaints, [], tool);
      assert.ok(r.status === 0 || (tool === 'bsdtar' && r.status === 1), `${tool}: ${r.stderr}`);
      // Same bytes and metadata as cairn extract (mtimes to the nanosecond from the source; helpers' rounding rule).
      assertSameTree(await describeTree(target), expected);
      assert.deepEqual((await xattrAddon()).getAttributeSync(join(target, 'text.txt'), 'user.cairn'), Buffer.from([0, 1, 2, 0xff]), tool);
    }

    // import-tar of the export: diff finds nothing, times included; list shows the same items (ns mtimes, xattrs, targets).
    await ok(['-r', ws.repo, 'import-tar', 'imported', tarFile]);
    assert.deepEqual(await diffLines(ws.repo, 'one', 'imported'), []);
    assert.deepEqual(await listing(ws.repo, 'imported'), await listing(ws.repo, 'one'));
    // The imported archive restores the same tree, hard links as links.
    const again = join(ws.dir, 'again');
    await ok(['-r', ws.repo, 'extract', 'imported', '--target', again]);
    assertSameTree(await describeTree(again), expected);

    // Standard output gives the same bytes as the file; standard input imports the same archive.
    const piped = await cairnBytes(['-r', ws.repo, 'export-tar', 'one', '-']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(piped.stdout.equals(await readFile(tarFile)), 'export-tar - writes the bytes export-tar FILE writes');
    const fromStdin = await cairnWithInput(['-r', ws.repo, 'import-tar', 'from-stdin', '-'], piped.stdout);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.deepEqual(await diffLines(ws.repo, 'one', 'from-stdin'), []);

    // gzip by the extension (and readable by tar -z); import tells it by its magic.
    const gz = join(ws.dir, 'out.tar.gz');
    await ok(['-r', ws.repo, 'export-tar', 'one', gz]);
    run('gzip', ['-t', gz]);
    await ok(['-r', ws.repo, 'import-tar', 'from-gz', gz]);
    assert.deepEqual(await diffLines(ws.repo, 'one', 'from-gz'), []);
    const gzStdout = await cairnBytes(['-r', ws.repo, 'export-tar', '--tar-filter', 'gzip', 'one', '-']);
    assert.equal(gzStdout.code, 0, gzStdout.stderr);
    assert.deepEqual([...gzStdout.stdout.subarray(0, 2)], [0x1f, 0x8b]);
    const gzIn = await cairnWithInput(['-r', ws.repo, 'import-tar', 'from-gz-stdin', '-'], gzStdout.stdout);
    assert.equal(gzIn.code, 0, gzIn.stderr);
    assert.deepEqual(await diffLines(ws.repo, 'one', 'from-gz-stdin'), []);

    // zstd: on a runtime with it, by the extension and readable by zstd(1); on Node 20 one line, exit 2, no file.
    const zst = join(ws.dir, 'out.tar.zst');
    const z = await cairn(['-r', ws.repo, '--json', 'export-tar', 'one', zst]);
    if (hasZstd) {
      assert.equal(z.code, 0, z.stderr);
      run('zstd', ['-t', zst]);
      await ok(['-r', ws.repo, 'import-tar', 'from-zst', zst]);
      assert.deepEqual(await diffLines(ws.repo, 'one', 'from-zst'), []);
    } else {
      assert.equal(z.code, 2);
      assert.equal((JSON.parse(oneLine(z.stderr)) as { error: { code: string } }).error.code, 'EZSTD_UNAVAILABLE');
      await assert.rejects(stat(zst));
      // A .tar.zst made elsewhere cannot be imported either: the same one line, no archive.
      run('zstd', ['-q', tarFile, '-o', zst]);
      const imported = await cairn(['-r', ws.repo, '--json', 'import-tar', 'from-zst', zst]);
      assert.equal(imported.code, 2);
      assert.equal((JSON.parse(oneLine(imported.stderr)) as { error: { code: string } }).error.code, 'EZSTD_UNAVAILABLE');
    }

    // An existing FILE is never replaced; nothing else is left in its folder.
    const again2 = await cairn(['-r', ws.repo, '--json', 'export-tar', 'one', tarFile]);
    assert.equal(again2.code, 2);
    assert.equal((JSON.parse(oneLine(again2.stderr)) as { error: { code: string } }).error.code, 'EUSAGE');
  } finally {
    await ws.cleanup();
  }
});

test('export-tar takes extract\'s patterns, --exclude and --strip-components', async () => {
  const ws = await workspace();
  try {
    await repoWithArchive(ws, { encryption: 'none' });
    const viaExtract = join(ws.dir, 'extracted');
    await ok(['-r', ws.repo, 'extract', 'one', 'sub', '--exclude', '*.md', '--strip-components', '1', '--target', viaExtract]);
    const tarFile = join(ws.dir, 'sub.tar');
    await ok(['-r', ws.repo, 'export-tar', 'one', tarFile, 'sub', '--exclude', '*.md', '--strip-components', '1']);
    const viaTar = join(ws.dir, 'untar');
    await mkdir(viaTar);
    run('tar', ['--numeric-owner', '-xpf', tarFile, '-C', viaTar]);
    const got = await describeTree(viaTar);
    assert.ok(got.has('deep') && !got.has('deep/ünïcødé ✓.md'), [...got.keys()].join(', '));
    assertSameTree(got, await describeTree(viaExtract));
    // A pattern that matches nothing: exit 2 and no file.
    const none = await cairn(['-r', ws.repo, 'export-tar', 'one', join(ws.dir, 'none.tar'), 'no/such']);
    assert.equal(none.code, 2);
    await assert.rejects(stat(join(ws.dir, 'none.tar')));
    // A folder that does not exist: one line, exit 2.
    const nowhere = await cairn(['-r', ws.repo, '--json', 'export-tar', 'one', join(ws.dir, 'no-such-folder', 'x.tar')]);
    assert.equal(nowhere.code, 2);
    assert.equal((JSON.parse(oneLine(nowhere.stderr)) as { error: { code: string } }).error.code, 'EUSAGE');
    // The tar is the user's alone (it holds the backup's contents), and complete: nothing else is left beside it.
    assert.equal((await stat(tarFile)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(ws.dir)).filter((n) => n.startsWith('.')), []);
  } finally {
    await ws.cleanup();
  }
});

test('import-tar reads tars made by GNU tar (gnu format: long names, base-256 numbers, "./" names, hard links), pax and ustar', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(join(src, 'a'.repeat(90), 'b'.repeat(90)), { recursive: true });
    await writeFile(join(src, 'a'.repeat(90), 'b'.repeat(90), `${'c'.repeat(120)}.txt`), 'deep and long\n');
    await writeFile(join(src, 'short.txt'), 'short\n');
    await writeFile(join(src, 'old.txt'), 'before 1970\n');
    // GNU format writes a negative time (and, as root, a uid over 2^21) in base-256.
    await utimes(join(src, 'old.txt'), -1_000_000_000, -1_000_000_000);
    if (isRoot) await chown(join(src, 'short.txt'), 3_000_000, 3_000_001);
    // Every item type (hard links, symlinks, a FIFO, a device as root, a sparse file, a name that is not UTF-8).
    await mkdir(join(src, 'tree'));
    await buildTree(join(src, 'tree'));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'none']);
    const expected = await describeTree(src);
    for (const format of ['gnu', 'pax']) {
      const file = join(ws.dir, `${format}.tar`);
      run('tar', [`--format=${format}`, '-cf', file, '-C', src, '.']);
      await ok(['-r', ws.repo, 'import-tar', format, file]);
      const target = join(ws.dir, `restored-${format}`);
      await ok(['-r', ws.repo, 'extract', format, '--target', target, '--numeric-ids']);
      const got = await describeTree(target);
      // ustar and gnu keep whole seconds only.
      const seconds = (m: Map<string, Entry>) => new Map([...m].map(([k, e]) => [k, { ...e, mtimeNs: format === 'pax' ? e.mtimeNs : e.mtimeNs / 1_000_000_000n }]));
      if (format === 'pax') assertSameTree(got, expected);
      else assert.deepEqual(seconds(got), seconds(expected));
    }
    // ustar (names that fit its fields), made by GNU tar and by bsdtar.
    const small = join(ws.dir, 'small');
    await mkdir(join(small, 'dir'), { recursive: true });
    await writeFile(join(small, 'dir', 'f.txt'), 'ustar\n');
    const smallExpected = await describeTree(small);
    for (const [label, cmd, args] of [['gnu-ustar', 'tar', ['--format=ustar', '-cf']], ['bsd-ustar', 'bsdtar', ['--format', 'ustar', '-cf']]] as const) {
      const file = join(ws.dir, `${label}.tar`);
      run(cmd, [...args, file, '-C', small, 'dir']);
      await ok(['-r', ws.repo, 'import-tar', label, file]);
      const target = join(ws.dir, `restored-${label}`);
      await ok(['-r', ws.repo, 'extract', label, '--target', target, '--numeric-ids']);
      const seconds = (m: Map<string, Entry>) => new Map([...m].map(([k, e]) => [k, { ...e, mtimeNs: e.mtimeNs / 1_000_000_000n }]));
      assert.deepEqual(seconds(await describeTree(target)), seconds(smallExpected));
    }
  } finally {
    await ws.cleanup();
  }
});

/** One member: a header from cairn's own writer, then `patch` on the ustar block, checksum recomputed. */
function member(path: string, body: Buffer, patch?: (ustar: Buffer) => void, type: 'file' | 'hardlink' = 'file', linkname?: string): Buffer {
  const header = Buffer.from(tarHeader({ path: Buffer.from(path), type, mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0n, linkname: linkname === undefined ? undefined : Buffer.from(linkname) }));
  const ustar = header.subarray(header.length - 512);
  if (patch) { patch(ustar); checksum(ustar); }
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

function checksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

/** A raw header block of type `flag` carrying `body` (pax 'x', GNU 'L'). */
function rawMember(flag: string, body: Buffer, size = body.length): Buffer {
  const block = Buffer.alloc(512);
  block.write('././@LongLink', 0);
  block.write('0000644\0', 100);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write(flag, 156);
  block.write('ustar\x0000', 257, 'latin1');
  checksum(block);
  return Buffer.concat([block, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

test('import-tar refuses hostile tars: one line, exit 2, no archive', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'none']);
    const end = Buffer.from(tarEnd());
    const good = member('ok.txt', Buffer.from('fine\n'));
    const cases: [string, Buffer][] = [
      ['size larger than the data', Buffer.concat([member('big', Buffer.from('x'), (b) => b.write('77777777777\0', 124, 'latin1')), end])],
      ['negative base-256 size', Buffer.concat([member('neg', Buffer.alloc(0), (b) => { b.fill(0xff, 124, 136); }), end])],
      ['base-256 size past 2^53', Buffer.concat([member('huge', Buffer.alloc(0), (b) => { b.fill(0, 124, 136); b[124] = 0x80; b[126] = 0x01; }), end])],
      ['not a number', Buffer.concat([member('nan', Buffer.alloc(0), (b) => b.write('0000x644', 100, 'latin1')), end])],
      ['dot-dot name', Buffer.concat([good, member('a/../../evil', Buffer.from('x')), end])],
      ['absolute name', Buffer.concat([member('/tmp/evil', Buffer.from('x'), (b) => b.write('/tmp/evil\0', 0, 'latin1')), end])],
      ['dot-dot in a pax path', Buffer.concat([rawMember('x', Buffer.from('20 path=../../evil1\n')), member('innocent', Buffer.from('x')), end])],
      ['dot-dot in a GNU long name', Buffer.concat([rawMember('L', Buffer.from('../evil\0')), member('innocent', Buffer.from('x')), end])],
      ['NUL in a pax path', Buffer.concat([rawMember('x', Buffer.from('16 path=a\0b.txt\n')), member('innocent', Buffer.from('x')), end])],
      ['pax record longer than its header', Buffer.concat([rawMember('x', Buffer.from('99 path=x\n')), good, end])],
      ['pax header past the limit', Buffer.concat([rawMember('x', Buffer.alloc(0), 64 * 1024 * 1024), end])],
      ['bad checksum', Buffer.concat([(() => { const m = member('c', Buffer.from('x')); m[0] ^= 1; return m; })(), end])],
      ['truncated', good.subarray(0, 600)],
      ['no end blocks', good],
      ['hard link to nothing', Buffer.concat([good, member('link', Buffer.alloc(0), undefined, 'hardlink', 'missing.txt'), end])],
      ['not a tar', Buffer.from('hello, this is not a tar file at all'.repeat(40))],
    ];
    for (const [label, bytes] of cases) {
      const r = await cairnWithInput(['-r', ws.repo, '--json', 'import-tar', 'hostile', '-'], bytes);
      assert.equal(r.code, 2, `${label}: ${r.stderr}`);
      assert.equal((JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error.code, 'ETAR_INVALID', label);
    }
    // The same hostile name from a file, in text: one line.
    const file = join(ws.dir, 'evil.tar');
    await writeFile(file, cases[4][1]);
    const text = await cairn(['-r', ws.repo, 'import-tar', 'hostile', file]);
    assert.equal(text.code, 2);
    assert.match(oneLine(text.stderr), /^cairn: /);
    // Nothing was committed as an archive; a good tar still imports under the same name.
    assert.equal((await ok(['-r', ws.repo, 'rlist'])).trim(), '');
    await cairnWithInput(['-r', ws.repo, 'import-tar', 'hostile', '-'], Buffer.concat([good, end])).then((r) => assert.equal(r.code, 0, r.stderr));
    assert.match(await ok(['-r', ws.repo, 'rlist']), /hostile/);
  } finally {
    await ws.cleanup();
  }
});

test('SIGINT while import-tar waits on an idle pipe (mid-member and between members): exit 130, lock released, no archive', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'none']);
    const locks = async (): Promise<string[]> => (await readdir(join(ws.repo, 'locks')).catch(() => [])).filter((n) => !n.startsWith('.'));
    const whole = member('small.txt', Buffer.from('done\n'));
    const big = member('big.bin', Buffer.alloc(8 << 20, 7));
    // The stream stops (the pipe stays open) inside a member's contents, then right after a whole member.
    for (const sent of [big.subarray(0, 2 << 20), whole]) {
      const child = startCairn(['-r', ws.repo, 'import-tar', 'stopped', '-'], { stdin: 'pipe' });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.stdout!.resume();
      child.stdin!.on('error', () => undefined);
      const closed = once(child, 'close');
      child.stdin!.write(sent);
      for (let i = 0; i < 1200 && (await locks()).length === 0; i++) await sleep(50);
      await sleep(500);
      child.kill('SIGINT');
      const [code] = await closed as [number | null];
      child.stdin!.destroy();
      assert.equal(code, 130, stderr);
      assert.deepEqual(await locks(), []);
      assert.equal((await ok(['-r', ws.repo, 'rlist'])).trim(), '');
    }
  } finally {
    await ws.cleanup();
  }
});
