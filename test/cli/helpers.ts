/**
 * Helpers of the end-to-end tests: run the real `cairn` executable, build a tree with every item
 * type, and describe a tree exactly (type, mode, owner, size, content hash, mtime ns, links).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readFile, readdir, readlink, rm, symlink, link, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairnNodeFlags } from '../helpers/node-flags.js';

export const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const PASSPHRASE = 'correct horse battery staple';

export interface Run { code: number; stdout: string; stderr: string }

/**
 * Node arguments that run the executable: the built one when CAIRN_TEST_BUILT=1, else the TypeScript source through
 * tsx; with the Node flags of its first line, as an installed `cairn` runs.
 */
export function command(): string[] {
  const flags = cairnNodeFlags();
  return process.env.CAIRN_TEST_BUILT === '1' ? [...flags, join(root, 'dist/src/cli/main.js')] : [...flags, '--import', import.meta.resolve('tsx'), join(root, 'src/cli/main.ts')];
}

/** Starts `cairn ARGS`; the caller waits or kills. Standard input is empty unless `stdin: 'pipe'`. */
export function startCairn(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {}): ChildProcess {
  return spawn(process.execPath, [...command(), ...args], { cwd: options.cwd ?? root, env: { ...baseEnv(), ...options.env }, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
}

/**
 * Runs `cairn ARGS` to completion. With `limitMs`, a command still running after that long is
 * killed (SIGKILL) and says so on stderr: a hang fails the test instead of stalling it.
 * `elapsed` is the wall time in ms.
 */
export async function cairn(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; limitMs?: number } = {}): Promise<Run & { elapsed: number }> {
  const child = startCairn(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const started = Date.now();
  const limit = options.limitMs;
  const timer = limit === undefined ? undefined : setTimeout(() => { stderr += `\n(killed: still running after ${limit} ms)`; child.kill('SIGKILL'); }, limit);
  const code = await new Promise<number>((done) => child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1))));
  clearTimeout(timer);
  return { code, stdout, stderr, elapsed: Date.now() - started };
}

/** Runs and insists on exit 0, returning stdout (the stderr is shown on failure). */
export async function ok(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await cairn(args, options);
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

let cacheRoot: string | undefined;
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_PASSPHRASE: PASSPHRASE };
  delete env.CAIRN_REPO;
  delete env.CAIRN_PASSCOMMAND;
  delete env.CAIRN_KEY_FILE;
  delete env.CAIRN_SECURITY_DIR;
  delete env.CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK;
  if (cacheRoot) {
    env.XDG_CACHE_HOME = cacheRoot;
    // Key files and the local security state of the test's repositories stay in its workspace.
    env.XDG_CONFIG_HOME = join(cacheRoot, '..', 'config');
  }
  return env;
}

/** A temp folder for one test (repository, sources, targets, files cache); `cleanup()` removes it. */
export async function workspace(): Promise<{ dir: string; repo: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-cli-e2e-'));
  cacheRoot = join(dir, 'cache');
  return { dir, repo: join(dir, 'repo'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const isRoot = process.getuid?.() === 0;

/** Builds a tree with every item type cairn stores; returns the names it made. */
export async function buildTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub', 'deep'), { recursive: true });
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'text.txt'), 'hello cairn\n'.repeat(1000));
  await writeFile(join(dir, 'random.bin'), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(join(dir, 'sub', 'deep', 'ünïcødé ✓.md'), 'unicode name\n');
  await writeFile(Buffer.concat([Buffer.from(join(dir, 'sub') + '/'), Buffer.from([0x6e, 0xff, 0xfe, 0x2e, 0x62])]), 'not UTF-8 name');
  await chmod(join(dir, 'text.txt'), 0o640);
  await chmod(join(dir, 'sub'), 0o750);
  await symlink('text.txt', join(dir, 'link-relative'));
  await symlink('/nonexistent/target', join(dir, 'link-dangling'));
  await writeFile(join(dir, 'hard-a'), 'linked contents\n');
  await link(join(dir, 'hard-a'), join(dir, 'sub', 'hard-b'));
  spawnSync('mkfifo', [join(dir, 'fifo')]);
  if (isRoot) spawnSync('mknod', [join(dir, 'null-device'), 'c', '1', '3']);
  // A sparse file: 8 MiB hole, then data, then another hole.
  const sparse = await open(join(dir, 'sparse.img'), 'w');
  await sparse.write(Buffer.from('data in the middle'), 0, 18, 8 * 1024 * 1024);
  await sparse.truncate(16 * 1024 * 1024);
  await sparse.close();
  await utimes(join(dir, 'text.txt'), new Date('2020-02-29T12:34:56.789Z'), new Date('2021-03-04T05:06:07.891Z'));
}

/**
 * The common start of an archive test in workspace `ws`: a source folder `ws.dir/src` filled by
 * `fill` (default: buildTree's every item type), a repository `ws.repo` (`--encryption`, default
 * repokey) and one archive `name` (default `one`) of it made from inside the folder (paths `./…`).
 * Returns the source folder.
 */
export async function repoWithArchive(ws: { dir: string; repo: string }, options: { encryption?: string; name?: string; fill?: (src: string) => Promise<void> } = {}): Promise<string> {
  const src = join(ws.dir, 'src');
  await mkdir(src);
  await (options.fill ?? buildTree)(src);
  await ok(['-r', ws.repo, 'rcreate', '--encryption', options.encryption ?? 'repokey']);
  await ok(['-r', ws.repo, 'create', options.name ?? 'one', '.'], { cwd: src });
  return src;
}

export interface Entry { type: string; mode: number; uid: number; gid: number; size: number; mtimeNs: bigint; sha?: string; target?: string; rdev?: number; inodeGroup?: string }

/**
 * Everything a restore must reproduce, by relative path (raw bytes as latin1 keys).
 */
export async function describeTree(dir: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const inodes = new Map<bigint, string>();
  const visit = async (path: Buffer): Promise<void> => {
    for (const name of (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare)) {
      const full = Buffer.concat([path, Buffer.from('/'), name]);
      const st = await lstat(full, { bigint: true });
      const rel = relative(dir, full.toString('latin1'));
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'chardev' : 'other';
      const entry: Entry = { type, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: type === 'file' ? Number(st.size) : 0, mtimeNs: type === 'symlink' ? 0n : st.mtimeNs };
      if (type === 'file') {
        entry.sha = createHash('sha256').update(await readFile(full)).digest('hex');
        if (st.nlink > 1n) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, rel);
          entry.inodeGroup = inodes.get(st.ino);
        }
      }
      if (type === 'symlink') entry.target = (await readlink(full, { encoding: 'buffer' })).toString('latin1');
      if (type === 'chardev') entry.rdev = Number(st.rdev);
      out.set(rel, entry);
      if (type === 'dir') await visit(full);
    }
  };
  await visit(Buffer.from(dir));
  return out;
}

/** Allocated bytes of a file (to see that a sparse file stayed sparse). */
export async function allocatedBytes(path: string): Promise<number> {
  return Number((await lstat(path)).blocks) * 512;
}

/** The last line of stderr, and that it is the only one. */
export function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}: ${stderr}`);
  return lines[0]!;
}

/**
 * Asserts that `restored` reproduces `source` exactly, except that modification times may differ
 * by at most 0.5 µs: Node's utimes() takes a double of seconds (and libuv before 1.52, Node 20's, keeps
 * whole microseconds), so a restore cannot set every nanosecond (the archive keeps them; the round-trip
 * test checks that through `list`).
 */
export function assertSameTree(restored: Map<string, Entry>, source: Map<string, Entry>): void {
  const near = (a: bigint, b: bigint) => (a > b ? a - b : b - a) <= 500n;
  const strip = (m: Map<string, Entry>, other: Map<string, Entry>) => new Map([...m].map(([k, e]) => {
    const o = other.get(k);
    return [k, { ...e, mtimeNs: o && near(o.mtimeNs, e.mtimeNs) ? o.mtimeNs : e.mtimeNs }];
  }));
  assert.deepEqual(strip(restored, source), source);
}

/** Runs `cairn ARGS` with `input` written to its standard input (a pipe), to completion. */
export async function cairnWithInput(args: string[], input: AsyncIterable<Uint8Array> | Uint8Array, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const child = spawn(process.execPath, [...command(), ...args], { cwd: options.cwd ?? root, env: { ...baseEnv(), ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.on('error', () => undefined); // a command that fails early closes its end
  const closed = new Promise<number>((done) => child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1))));
  const chunks = input instanceof Uint8Array ? [input] : input;
  for await (const chunk of chunks) if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
  child.stdin.end();
  return { code: await closed, stdout, stderr };
}

/** Starts `cairn ARGS` on a pseudo-terminal (util-linux `script`); write to its stdin to type, e.g. "\x03" for Ctrl-C. */
export function startOnTerminal(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // `exec`: cairn is the shell's only child and gets the terminal's signals alone. Without it a non-interactive dash
  // (script's shell when SHELL is unset, as in CI) dies of the Ctrl-C itself and script reports 130 whatever cairn did.
  const line = ['exec', ...[process.execPath, ...command(), ...args].map(quote)].join(' ');
  return spawn('script', ['-qec', line, '/dev/null'], { cwd: options.cwd ?? root, env: { ...baseEnv(), ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Runs `cairn ARGS` on a pseudo-terminal (util-linux `script`): standard input, output and error are
 * a TTY, and `typed` is what the user types. Output of both streams arrives mixed, in `stdout`.
 */
export async function cairnOnTerminal(args: string[], typed: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; limitMs?: number } = {}): Promise<Run> {
  const child = startOnTerminal(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin!.on('error', () => undefined);
  child.stdin!.write(typed);
  // A hang fails with what the terminal showed so far instead of stalling the test (default 120 s).
  const limit = options.limitMs ?? 120_000;
  const timer = setTimeout(() => { stdout += `\n(killed: still running after ${limit} ms)`; child.kill('SIGKILL'); }, limit);
  // script passes its exit status through (-e); stdin stays open until then, as a terminal's would.
  const code = await new Promise<number>((done) => child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1))));
  clearTimeout(timer);
  child.stdin!.destroy();
  return { code, stdout, stderr };
}

/** One PUT2 entry of a segment, read from the layout of docs/format/repository.md (src/repository/segment-format.ts). */
export interface SegmentPut { segment: string; offset: number; size: number; id: string }

/**
 * Every PUT2 entry of every segment of the fs repository at `repo`, parsed by the test itself (not through the code
 * under test): `crc32 u32 | size u32 | tag u8 | id [32] | xxh64 u64 | value`, tag 3 = PUT2.
 */
export async function segmentPuts(repo: string): Promise<SegmentPut[]> {
  const out: SegmentPut[] = [];
  for (const e of await readdir(join(repo, 'data'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    const segment = join(e.parentPath, e.name);
    const bytes = await readFile(segment);
    for (let offset = 0; offset + 9 <= bytes.length;) {
      const size = bytes.readUInt32LE(offset + 4);
      assert.ok(size >= 9 && offset + size <= bytes.length, `${segment}@${offset}: the test's segment parser lost its way`);
      if (bytes[offset + 8] === 3) out.push({ segment, offset, size, id: bytes.subarray(offset + 9, offset + 41).toString('hex') });
      offset += size;
    }
  }
  return out;
}

/** Flips one byte in the middle of the value of `entry` (its 49-byte header stays intact). */
export async function flipValueByte(entry: SegmentPut): Promise<void> {
  const bytes = await readFile(entry.segment);
  bytes[entry.offset + 49 + Math.floor((entry.size - 49) / 2)]! ^= 0x01;
  await writeFile(entry.segment, bytes);
}
