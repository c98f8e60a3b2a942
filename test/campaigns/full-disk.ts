/**
 * The full-disk campaign (issue 15): cairn on small tmpfs file systems that this test mounts (as
 * root) and fills. Four scenarios, each through the real `cairn` executable:
 *   - repository during `create`: exit 2, one line, code ENO_SPACE; nothing committed, no temp
 *     file left, `check` clean, every earlier archive restores exactly;
 *   - repository during `compact`: the same (the rewrite of a half-dead segment cannot be stored);
 *   - cache folder during `create`: the archive is stored and restores exactly; the files cache
 *     and index cache that cannot be saved are warnings (exit 1), never a failed backup;
 *   - restore target during `extract`: exit 2, one line, code ETARGET_FULL naming the file that did
 *     not fit; no partial or temporary file is left; every file that is there is complete.
 * After each, space is freed (the file system is remounted larger, or a filler removed) and the
 * same command succeeds (exit 0) with exact results.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSameTree, cairn, describeTree, workspace, type Entry } from '../cli/helpers.js';

export interface Scenario { name: string; problems: string[] }

const MiB = 1024 * 1024;

/** Why this machine cannot run the campaign (not root, mount refused), or undefined when it can. */
export function missingCapability(): string | undefined {
  if (process.getuid?.() !== 0) return 'the full-disk test mounts tmpfs file systems: run it as root';
  const probe = spawnSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r'], { encoding: 'utf8' });
  if (probe.status !== 0) return `mounting a tmpfs was refused: ${(probe.stderr || '').trim().split('\n')[0]}`;
  return undefined;
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}
const mount = (dir: string, bytes: number) => sh('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir]);
const grow = (dir: string, bytes: number) => sh('mount', ['-o', `remount,size=${bytes}`, dir]);
const umount = (dir: string) => spawnSync('umount', [dir]);

/** Bytes still free on the file system of `dir`. */
function free(dir: string): number {
  const r = spawnSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\n').pop());
}

/** Fills the file system of `dir` with a filler file until `leave` bytes are free; returns its path. */
async function fill(dir: string, leave: number): Promise<string> {
  const path = join(dir, 'filler');
  await writeFile(path, Buffer.alloc(Math.max(0, free(dir) - leave)));
  return path;
}

/** Every file below `dir` whose name marks a write in progress (cairn's temporary names). */
async function temporaries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (/^\.(tmp-|cairn-tmp-)|\.tmp$/.test(e.name)) out.push(join(e.parentPath, e.name));
  }
  return out;
}

/** The `{"error": {code}}` of a `--json` run's standard error, or undefined. */
function errorCode(stderr: string): string | undefined {
  const line = stderr.trim().split('\n').pop() ?? '';
  try {
    return (JSON.parse(line) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

export async function runFullDisk(log: (line: string) => void = () => undefined): Promise<Scenario[]> {
  const ws = await workspace();
  const mounts: string[] = [];
  const disk = async (name: string, bytes: number) => {
    const dir = join(ws.dir, name);
    await mkdir(dir, { recursive: true });
    mount(dir, bytes);
    mounts.push(dir);
    return dir;
  };
  const source = async (name: string, files: Record<string, number>) => {
    const dir = join(ws.dir, 'src', name);
    await mkdir(dir, { recursive: true });
    for (const [f, size] of Object.entries(files)) await writeFile(join(dir, f), randomBytes(size));
    return { dir, tree: await describeTree(dir) };
  };
  /** Restores `name` into a fresh folder and compares; a problem text or undefined. */
  const restores = async (repo: string, name: string, tree: Map<string, Entry>, env?: NodeJS.ProcessEnv) => {
    const target = await mkdtemp(join(ws.dir, 'restore-'));
    try {
      const r = await cairn(['-r', repo, 'extract', name], { cwd: target, env });
      if (r.code !== 0) return `extract ${name}: exit ${r.code}: ${r.stderr.trim()}`;
      assertSameTree(await describeTree(target), tree);
      return undefined;
    } catch (err) {
      return `extract ${name}: ${String(err).slice(0, 300)}`;
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  };
  /** Exit 2, one line on stderr, the error code. */
  const fails = (problems: string[], what: string, r: { code: number; stderr: string }, code: string) => {
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    if (r.code !== 2) problems.push(`${what}: exit ${r.code}, expected 2: ${r.stderr.trim()}`);
    if (lines.length !== 1) problems.push(`${what}: ${lines.length} lines on stderr, expected one: ${r.stderr.trim()}`);
    if (errorCode(r.stderr) !== code) problems.push(`${what}: error code ${errorCode(r.stderr)}, expected ${code}: ${r.stderr.trim()}`);
  };
  const checks = async (problems: string[], repo: string, what: string, env?: NodeJS.ProcessEnv) => {
    const r = await cairn(['-r', repo, 'check'], { env });
    if (r.code !== 0) problems.push(`${what}: check exit ${r.code}: ${r.stderr.trim()}`);
  };
  const ok = async (problems: string[], what: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const r = await cairn(args, options);
    if (r.code !== 0) problems.push(`${what}: exit ${r.code}: ${r.stderr.trim()}`);
    return r;
  };
  const names = async (repo: string, env?: NodeJS.ProcessEnv) => (JSON.parse((await cairn(['-r', repo, '--json', 'rlist'], { env })).stdout) as { archives: { name: string }[] }).archives.map((a) => a.name);

  const results: Scenario[] = [];
  try {
    {
      const problems: string[] = [];
      const dir = await disk('repo-create', 24 * MiB);
      const repo = join(dir, 'repo');
      const small = await source('small', { 'a.bin': 4 * MiB, 'b.txt': 1000 });
      const big = await source('big', { 'c.bin': 12 * MiB, 'd.bin': 12 * MiB });
      await ok(problems, 'rcreate', ['-r', repo, 'rcreate', '--encryption', 'repokey']);
      await ok(problems, 'create of the first archive', ['-r', repo, 'create', 'first', '.'], { cwd: small.dir });
      const before = free(dir);
      fails(problems, 'create on a full repository disk', await cairn(['-r', repo, '--json', 'create', 'big', '.'], { cwd: big.dir }), 'ENO_SPACE');
      if (free(dir) < before - 256 * 1024) problems.push(`the failed create left ${before - free(dir)} bytes behind`);
      const left = await temporaries(repo);
      if (left.length) problems.push(`temporary files left: ${left.join(', ')}`);
      await checks(problems, repo, 'after the failed create');
      const listed = await names(repo);
      if (listed.join() !== 'first') problems.push(`archives after the failed create: ${listed.join()}`);
      const p = await restores(repo, 'first', small.tree);
      if (p) problems.push(p);
      grow(dir, 64 * MiB);
      await ok(problems, 'create after space was freed', ['-r', repo, 'create', 'big', '.'], { cwd: big.dir });
      for (const [n, s] of [['first', small], ['big', big]] as const) {
        const q = await restores(repo, n, s.tree);
        if (q) problems.push(q);
      }
      await checks(problems, repo, 'at the end');
      results.push({ name: 'repository full during create', problems });
      log(`repository full during create: ${problems.length ? problems.join('; ') : 'ok'}`);
    }
    {
      const problems: string[] = [];
      const dir = await disk('repo-compact', 48 * MiB);
      const repo = join(dir, 'repo');
      // One segment holds kept.bin and gone.bin; once "both" is deleted, compact must rewrite kept.bin.
      const both = await source('both', { 'kept.bin': 8 * MiB, 'gone.bin': 8 * MiB });
      const kept = join(ws.dir, 'src', 'kept');
      await mkdir(kept, { recursive: true });
      sh('cp', ['-p', join(both.dir, 'kept.bin'), join(kept, 'kept.bin')]);
      const keptTree = await describeTree(kept);
      await ok(problems, 'rcreate', ['-r', repo, 'rcreate', '--encryption', 'repokey']);
      await ok(problems, 'create of both', ['-r', repo, 'create', 'both', '.'], { cwd: both.dir });
      await ok(problems, 'create of kept', ['-r', repo, 'create', 'kept', '.'], { cwd: kept });
      await ok(problems, 'delete', ['-r', repo, 'delete', 'both']);
      const filler = await fill(dir, 1 * MiB);
      fails(problems, 'compact on a full repository disk', await cairn(['-r', repo, '--json', 'compact']), 'ENO_SPACE');
      const left = await temporaries(repo);
      if (left.length) problems.push(`temporary files left: ${left.join(', ')}`);
      await checks(problems, repo, 'after the failed compact');
      const p = await restores(repo, 'kept', keptTree);
      if (p) problems.push(p);
      await rm(filler);
      const segments = async () => (await readdir(join(repo, 'data'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).reduce(async (n, e) => (await n) + (await stat(join(e.parentPath, e.name))).size, Promise.resolve(0));
      const stored = await segments();
      await ok(problems, 'compact after space was freed', ['-r', repo, 'compact']);
      if (await segments() > stored - 7 * MiB) problems.push(`compact after space was freed did not free gone.bin (${stored} → ${await segments()} bytes)`);
      await checks(problems, repo, 'at the end');
      const q = await restores(repo, 'kept', keptTree);
      if (q) problems.push(q);
      results.push({ name: 'repository full during compact', problems });
      log(`repository full during compact: ${problems.length ? problems.join('; ') : 'ok'}`);
    }
    {
      const problems: string[] = [];
      const cache = await disk('cache', 1 * MiB);
      const repo = join(ws.dir, 'repo-cache');
      const env = { XDG_CACHE_HOME: cache };
      // Many small files: a files cache of ~100 KiB, more than the 16 KiB left free.
      const files: Record<string, number> = {};
      for (let i = 0; i < 800; i++) files[`f${i}`] = 100 + i;
      const src = await source('many', files);
      await ok(problems, 'rcreate', ['-r', repo, 'rcreate', '--encryption', 'repokey'], { env });
      const filler = await fill(cache, 16 * 1024);
      const r = await cairn(['-r', repo, 'create', 'one', '.'], { cwd: src.dir, env });
      if (r.code !== 1) problems.push(`create with a full cache folder: exit ${r.code}, expected 1 (warnings): ${r.stderr.trim()}`);
      // Warnings only: the files cache (named by its path) and the index cache that could not be saved.
      const lines = r.stderr.trim().split('\n').filter(Boolean);
      if (lines.some((l) => !l.startsWith('cairn: warning: ')) || !lines.some((l) => l.includes(join(cache, 'cairn')))) problems.push(`create with a full cache folder: expected warnings about the cache folder, got: ${r.stderr.trim()}`);
      const left = await temporaries(cache);
      if (left.length) problems.push(`temporary files left in the cache folder: ${left.join(', ')}`);
      // Still full: check and extract work (the index cache that cannot be saved is a warning).
      const checked = await cairn(['-r', repo, 'check'], { env });
      if (checked.code > 1) problems.push(`check with a full cache folder: exit ${checked.code}: ${checked.stderr.trim()}`);
      const target = await mkdtemp(join(ws.dir, 'restore-'));
      const x = await cairn(['-r', repo, 'extract', 'one'], { cwd: target, env });
      if (x.code > 1) problems.push(`extract with a full cache folder: exit ${x.code}: ${x.stderr.trim()}`);
      try {
        assertSameTree(await describeTree(target), src.tree);
      } catch (err) {
        problems.push(`the archive made with a full cache folder: ${String(err).slice(0, 300)}`);
      }
      await rm(filler);
      const again = await ok(problems, 'create after space was freed', ['-r', repo, '--json', 'create', 'two', '.'], { cwd: src.dir, env });
      if (again.stderr.trim()) problems.push(`create after space was freed printed: ${again.stderr.trim()}`);
      await checks(problems, repo, 'after space was freed', env);
      const third = JSON.parse((await ok(problems, 'a third create', ['-r', repo, '--json', 'create', 'three', '.'], { cwd: src.dir, env })).stdout || '{}') as { stats?: { filesRead?: number } };
      if (third.stats?.filesRead !== 0) problems.push(`the files cache saved after space was freed was not used: ${third.stats?.filesRead} files read`);
      results.push({ name: 'cache folder full during create', problems });
      log(`cache folder full during create: ${problems.length ? problems.join('; ') : 'ok'}`);
    }
    {
      const problems: string[] = [];
      const target = await disk('target', 8 * MiB);
      const repo = join(ws.dir, 'repo-target');
      const src = await source('restore', { 'a-small.txt': 2000, 'b-mid.bin': 3 * MiB, 'c-big.bin': 10 * MiB, 'd-after.txt': 500 });
      await ok(problems, 'rcreate', ['-r', repo, 'rcreate', '--encryption', 'repokey']);
      await ok(problems, 'create', ['-r', repo, 'create', 'one', '.'], { cwd: src.dir });
      const r = await cairn(['-r', repo, '--json', 'extract', 'one'], { cwd: target });
      fails(problems, 'extract into a full target', r, 'ETARGET_FULL');
      const left = await temporaries(target);
      if (left.length) problems.push(`temporary files left in the target: ${left.join(', ')}`);
      // What is there is complete: each file restored has the source's size and bytes.
      const restored = await describeTree(target);
      for (const [path, e] of restored) {
        const want = src.tree.get(path);
        if (!want) problems.push(`unexpected ${path} in the target`);
        else if (e.type === 'file' && e.sha !== want.sha) problems.push(`${path} was left partly restored (${e.size} of ${want.size} bytes)`);
      }
      if (restored.has('c-big.bin')) problems.push('c-big.bin (10 MiB) cannot fit in 8 MiB, yet it is there');
      grow(target, 32 * MiB);
      for (const e of await readdir(target)) await rm(join(target, e), { recursive: true, force: true });
      await ok(problems, 'extract after space was freed', ['-r', repo, 'extract', 'one'], { cwd: target });
      try {
        assertSameTree(await describeTree(target), src.tree);
      } catch (err) {
        problems.push(`restore after space was freed: ${String(err).slice(0, 300)}`);
      }
      results.push({ name: 'restore target full during extract', problems });
      log(`restore target full during extract: ${problems.length ? problems.join('; ') : 'ok'}`);
    }
    return results;
  } finally {
    for (const m of mounts.reverse()) umount(m);
    await ws.cleanup();
  }
}
