// cairn mount (issue 16) through the executable, on a real FUSE mount: the mounted tree is the tree `extract` restores
// (contents, modes, owners, sizes, times to the nanosecond, symlinks, hard links), --all shows a folder per archive, a
// 4 KiB read of a large file fetches only the chunk covering it (request accounting), Ctrl-C and SIGTERM unmount and
// exit 0, and each mount error is one line with exit 2. Needs root and /dev/fuse: in CI their absence is a failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import { lstat, mkdir, open, readdir, readFile, readlink, symlink, link, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, command, describeTree, isRoot, ok, oneLine, startCairn, startOnTerminal, workspace, type Entry } from './helpers.js';

const MiB = 1024 * 1024;
const BIG_SIZE = 96 * MiB;
const problem = !isRoot ? 'not root (FUSE mounts here need root; CI runs as root)' : !existsSync('/dev/fuse') ? '/dev/fuse is missing' : undefined;

interface Mounted { child: ChildProcess; stop(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> }

/**
 * Starts `cairn mount ARGS` (the mountpoint last) and resolves once it says it is mounted, or fails with what it
 * printed. A mount that does not come up, or does not end after its signal, is killed and unmounted, failing the test
 * instead of stalling it.
 */
async function mount(args: string[]): Promise<Mounted> {
  const dir = args.at(-1)!;
  const child = startCairn(['--json', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const kill = (): void => {
    child.kill('SIGKILL');
    spawnSync('umount', ['-l', dir]);
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { kill(); reject(new Error(`not mounted after 60 s: ${stderr}`)); }, 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('cairn: mounted')) { clearTimeout(timer); resolve(); }
    });
    void closed.then((code) => { clearTimeout(timer); reject(new Error(`cairn mount exited ${code}: ${stderr}`)); });
  });
  return {
    child,
    async stop(signal) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => { timer = setTimeout(() => { kill(); reject(new Error(`still mounted 30 s after ${signal}: ${stderr}`)); }, 30_000); });
      try {
        const code = await Promise.race([closed, late]);
        return { code, stdout, stderr };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const mounted = (dir: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);

/** A tree with files, folders, a symlink, a hard link, a FIFO and a large file that is random data, then a hole. */
async function makeSource(src: string): Promise<void> {
  await mkdir(join(src, 'docs', 'deep'), { recursive: true });
  await writeFile(join(src, 'docs', 'notes.txt'), 'notes\n'.repeat(500));
  await writeFile(join(src, 'docs', 'deep', 'ünïcødé.md'), 'unicode name\n');
  await writeFile(join(src, 'empty'), '');
  await writeFile(join(src, 'small.bin'), randomBytes(3 * MiB + 17), { mode: 0o640 });
  await symlink('docs/notes.txt', join(src, 'link'));
  await writeFile(join(src, 'hard-a'), 'linked contents\n');
  await link(join(src, 'hard-a'), join(src, 'docs', 'hard-b'));
  assert.equal(spawnSync('mkfifo', [join(src, 'docs', 'fifo')]).status, 0);
  const big = await open(join(src, 'big.img'), 'w');
  for (let at = 0; at < 32 * MiB; at += 8 * MiB) await big.write(randomBytes(8 * MiB), 0, 8 * MiB, at);
  await big.truncate(BIG_SIZE);
  await big.close();
  await utimes(join(src, 'docs', 'notes.txt'), new Date('2020-02-29T12:34:56.789Z'), new Date('2021-03-04T05:06:07.891Z'));
}

/** describeTree without hard-link groups: the mount gives each name its own inode (nlink is checked apart). */
const withoutLinkGroups = (tree: Map<string, Entry>): Map<string, Entry> => new Map([...tree].map(([k, e]) => [k, { ...e, inodeGroup: undefined }]));

if (problem) {
  if (process.env.CI === 'true') test('cairn mount can mount in CI', () => assert.fail(problem));
  else test('cairn mount: FUSE not usable here', (t) => t.skip(problem));
} else {
  // One repository for every test (archive "one" of the source tree; restored by extract); each test its own mountpoint.
  let ws: Awaited<ReturnType<typeof workspace>>;
  let src: string;
  before(async () => {
    ws = await workspace();
    src = join(ws.dir, 'src');
    await mkdir(src);
    await makeSource(src);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'one', '.'], { cwd: src });
  });
  after(() => ws.cleanup());
  const mountpoint = async (name: string): Promise<string> => {
    const dir = join(ws.dir, name);
    await mkdir(dir);
    return dir;
  };

  test('mount shows the archive exactly as extract restores it; --all has a folder per archive; Ctrl-C and SIGTERM unmount', async () => {
    const restored = join(ws.dir, 'restored');
    const mnt = await mountpoint('mnt-tree');
    await mkdir(restored);
    await ok(['-r', ws.repo, 'extract', 'one'], { cwd: restored });

    const m = await mount(['-r', ws.repo, 'mount', 'one', mnt]);
    try {
      assert.ok(mounted(mnt));
      assert.deepEqual(withoutLinkGroups(await describeTree(mnt)), withoutLinkGroups(await describeTree(restored)));
      // Times to the nanosecond, as archived (the source's own), and hard links counted.
      for (const name of ['docs/notes.txt', 'big.img', 'docs/deep']) {
        assert.equal((await lstat(join(mnt, name), { bigint: true })).mtimeNs, (await lstat(join(src, name), { bigint: true })).mtimeNs, name);
      }
      assert.equal((await lstat(join(mnt, 'hard-a'))).nlink, 2);
      assert.equal((await lstat(join(mnt, 'docs', 'hard-b'))).nlink, 2);
      assert.equal(await readlink(join(mnt, 'link')), 'docs/notes.txt');
      // Read-only: writes are refused by the kernel.
      await assert.rejects(writeFile(join(mnt, 'new'), 'x'), { code: 'EROFS' });
      await assert.rejects(writeFile(join(mnt, 'empty'), 'x'), { code: 'EROFS' });
    } finally {
      const end = await m.stop('SIGINT');
      assert.equal(end.code, 0, end.stderr);
      assert.equal(mounted(mnt), false);
      const result = JSON.parse(end.stdout) as { archives: string[]; errors: number; backend: { requests: Record<string, number>; bytesUp: number } };
      assert.deepEqual(result.archives, ['one']);
      assert.equal(result.errors, 0);
      // Read-only and without a lock: not one write to the repository.
      assert.deepEqual([result.backend.requests.put, result.backend.requests.delete, result.backend.bytesUp], [0, 0, 0]);
    }

    const other = join(ws.dir, 'src-two');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'changed\n');
    await ok(['-r', ws.repo, 'create', 'two', '.'], { cwd: other });
    const all = await mount(['-r', ws.repo, 'mount', '--all', mnt]);
    try {
      assert.deepEqual((await readdir(mnt)).sort(), ['one', 'two']);
      assert.equal(await readFile(join(mnt, 'one', 'docs', 'notes.txt'), 'utf8'), 'notes\n'.repeat(500));
      assert.equal(await readFile(join(mnt, 'two', 'notes.txt'), 'utf8'), 'changed\n');
      await assert.rejects(lstat(join(mnt, 'three')), { code: 'ENOENT' });
    } finally {
      const end = await all.stop('SIGTERM');
      assert.equal(end.code, 0, end.stderr);
      assert.equal(mounted(mnt), false);
    }
  });

  test('a 4 KiB read of a large file fetches only the chunk that covers it', async () => {
    const mnt = await mountpoint('mnt-ranged');
    const want = Buffer.alloc(4096);
    const original = await open(join(src, 'big.img'));
    await original.read(want, 0, 4096, 21 * MiB + 12345);
    await original.close();

    // The same mount twice (no local index cache): once only looking at the file, once also reading 4 KiB of it.
    const usage = async (read: boolean): Promise<{ get: number; bytesDown: number }> => {
      const m = await mount(['--no-cache', '-r', ws.repo, 'mount', 'one', mnt]);
      assert.equal((await lstat(join(mnt, 'big.img'))).size, BIG_SIZE);
      if (read) {
        const file = await open(join(mnt, 'big.img'));
        const got = Buffer.alloc(4096);
        const { bytesRead } = await file.read(got, 0, 4096, 21 * MiB + 12345);
        await file.close();
        assert.equal(bytesRead, 4096);
        assert.deepEqual(got, want);
      }
      const end = await m.stop('SIGINT');
      assert.equal(end.code, 0, end.stderr);
      const { backend } = JSON.parse(end.stdout) as { backend: { requests: { get: number }; bytesDown: number } };
      return { get: backend.requests.get, bytesDown: backend.bytesDown };
    };
    const looked = await usage(false);
    const read = await usage(true);
    const extra = { get: read.get - looked.get, bytesDown: read.bytesDown - looked.bytesDown };
    // One chunk (at most 8 MiB with the default chunker), perhaps its neighbour when the kernel's read-ahead crosses
    // into it; never the 32 MiB of data around it.
    assert.ok(extra.get >= 1 && extra.get <= 2, `extra GETs: ${extra.get}`);
    assert.ok(extra.bytesDown > 0 && extra.bytesDown <= 2 * 8 * MiB + 64 * 1024, `extra bytes down: ${extra.bytesDown}`);
  });

  test('mount errors: one line and exit 2 for a missing, busy or non-empty mountpoint, no /dev/fuse, a missing archive', async () => {
    const mnt = await mountpoint('mnt-errors');
    const refused = async (args: string[], code: string): Promise<void> => {
      const run = await cairn(['--json', '-r', ws.repo, ...args], { limitMs: 60_000 });
      assert.equal(run.code, 2, run.stderr);
      assert.equal(JSON.parse(oneLine(run.stderr)).error.code, code);
    };
    const human = await cairn(['-r', ws.repo, 'mount', 'one', join(ws.dir, 'nowhere')], { limitMs: 60_000 });
    assert.equal(human.code, 2);
    assert.match(oneLine(human.stderr), /^cairn: /);
    await refused(['mount', 'one', src], 'EMOUNTPOINT_BUSY');
    await refused(['mount', 'nothing-by-this-name', mnt], 'EARCHIVE_NOT_FOUND');
    assert.equal(mounted(mnt), false);
    const m = await mount(['-r', ws.repo, 'mount', 'one', mnt]);
    try {
      await refused(['mount', 'one', mnt], 'EMOUNTPOINT_BUSY');
    } finally {
      assert.equal((await m.stop('SIGINT')).code, 0);
    }
    // No /dev/fuse: the command runs in a mount namespace whose /dev is an empty tmpfs (but for /dev/null).
    const script = 'mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && exec "$@"';
    const node = [process.execPath, ...command()];
    const run = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...node, '--json', '-r', ws.repo, 'mount', 'one', mnt], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(JSON.parse(oneLine(run.stderr)).error.code, 'ENO_FUSE');
  });

  test('a chunk that cannot be read: that read fails with EIO, the mount goes on, a warning, exit 1', async () => {
    const mnt = await mountpoint('mnt-damaged');
    const repo = join(ws.dir, 'repo-damaged');
    await cp(ws.repo, repo, { recursive: true });
    const m = await mount(['-r', repo, 'mount', 'one', mnt]);
    // The item list is read at mount time; the file contents only when read: remove them now.
    await rm(join(repo, 'data'), { recursive: true });
    await assert.rejects(readFile(join(mnt, 'small.bin')), { code: 'EIO' });
    assert.equal((await lstat(join(mnt, 'docs', 'notes.txt'))).size, 3000);
    const end = await m.stop('SIGINT');
    assert.equal(end.code, 1, end.stderr);
    assert.match(end.stderr, /cairn: warning: \/small\.bin: .*EIO/);
    assert.equal(mounted(mnt), false);
    assert.ok((JSON.parse(end.stdout) as { errors: number }).errors >= 1);
  });

  test('--all leaves out an archive whose record cannot be read, with a warning (exit 1); the others are mounted', async () => {
    const mnt = await mountpoint('mnt-all-damaged');
    // The archive is added to the shared repository (a copy with the same id that gained journal entries would make
    // the original look rolled back to this machine), then the copy's record of "one" is damaged.
    const other = join(ws.dir, 'src-record');
    await mkdir(other, { recursive: true });
    await writeFile(join(other, 'kept.txt'), 'kept\n');
    await ok(['-r', ws.repo, 'create', 'kept', '.'], { cwd: other });
    const repo = join(ws.dir, 'repo-record');
    await cp(ws.repo, repo, { recursive: true });
    const record = join(repo, 'records', 'archive-one');
    const bytes = await readFile(record);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(record, bytes);
    const m = await mount(['-r', repo, 'mount', '--all', mnt]);
    let end: Awaited<ReturnType<Mounted['stop']>>;
    try {
      const names = await readdir(mnt);
      assert.ok(names.includes('kept') && !names.includes('one'), names.join(' '));
      assert.equal(await readFile(join(mnt, 'kept', 'kept.txt'), 'utf8'), 'kept\n');
    } finally {
      end = await m.stop('SIGINT');
    }
    assert.equal(end.code, 1, end.stderr);
    assert.match(end.stderr, /cairn: warning: skipping archive "one": its record cannot be read/);
    assert.equal(mounted(mnt), false);
  });

  test('Ctrl-C typed on the terminal unmounts and exits 0', async () => {
    const mnt = await mountpoint('mnt-terminal');
    const child = startOnTerminal(['-r', ws.repo, 'mount', 'one', mnt]);
    let screen = '';
    child.stdout!.on('data', (d: Buffer) => { screen += d.toString(); });
    const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => { child.kill('SIGKILL'); spawnSync('umount', ['-l', mnt]); }, 90_000);
    try {
      while (!screen.includes('cairn: mounted')) {
        assert.ok(child.exitCode === null, `cairn mount ended: ${screen}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await readFile(join(mnt, 'hard-a'), 'utf8'), 'linked contents\n');
      child.stdin!.write('\x03');
      assert.equal(await closed, 0, screen);
      assert.equal(mounted(mnt), false);
    } finally {
      clearTimeout(timer);
    }
  });
}
