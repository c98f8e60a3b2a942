/**
 * End-to-end benchmark of cairn against borg and restic on the same generated data, interleaved in
 * one run: first backup, day-2 backup, unchanged backup, restore, full data check. For each run it
 * records wall time, CPU time (user + sys) and peak RSS of the child (GNU time), and the repository
 * size after each backup, then prints a table with the ratios cairn/peer and the goals.
 *
 *   npm run bench -- e2e                      1 GiB, all three tools
 *   CAIRN_BENCH_SIZE=64M CAIRN_BENCH_TOOLS=borg,restic npm run bench -- e2e
 *   CAIRN_BENCH_KEEP=1 keeps the temp folder; CAIRN_BENCH_JSON=FILE writes the raw figures.
 *
 * Settings are comparable on purpose: encryption on everywhere (borg repokey-blake2, restic's
 * default, cairn repokey), zstd level 3 everywhere (restic's `auto` is zstd's default level), the
 * passphrase from the environment, fresh caches per tool inside the temp folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statfsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateDataset, parseSize } from './dataset/generate.js';
import { mutateDataset } from './dataset/mutate.js';
import { runtimeInfo, runtimeLine } from '../helpers/runtime.js';

interface Measure { wall: number; cpu: number; rssMiB: number }
interface Tool {
  name: string;
  env: NodeJS.ProcessEnv;
  init(): Promise<void>;
  backup(name: string): Promise<Measure>;
  restore(name: string, target: string): Promise<Measure>;
  check(): Promise<Measure>;
  repo: string;
}

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const PASSPHRASE = 'bench-passphrase-not-secret';

/** Runs `cmd` under GNU time; rejects with the tail of stderr when it fails. */
async function timed(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; maxOkCode?: number }): Promise<Measure> {
  const timeFile = join(tmpdir(), `cairn-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const code: number = await new Promise((done) => child.on('close', (c) => done(c ?? 1)));
  const text = existsSync(timeFile) ? await readFile(timeFile, 'utf8') : '';
  await rm(timeFile, { force: true });
  // borg and cairn exit 1 on warnings (maxOkCode 1); restic has no warning code.
  if (code > (options.maxOkCode ?? 0)) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  const last = text.trim().split('\n').pop() ?? '';
  const [wall, user, sys, rss] = last.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys!, rssMiB: rss! / 1024 };
}

function borgTool(work: string, source: string): Tool {
  const repo = join(work, 'repo-borg');
  const env = { ...process.env, BORG_PASSPHRASE: PASSPHRASE, BORG_BASE_DIR: join(work, 'home-borg'), BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes' };
  const run = (args: string[], cwd = work) => timed('borg', args, { cwd, env, maxOkCode: 1 });
  return {
    name: 'borg', env, repo,
    init: async () => { await run(['init', '--encryption', 'repokey-blake2', repo]); },
    backup: (name) => run(['create', '--compression', 'zstd,3', `${repo}::${name}`, '.'], source),
    restore: (name, target) => run(['extract', `${repo}::${name}`], target),
    check: () => run(['check', '--verify-data', repo]),
  };
}

function resticTool(work: string, source: string): Tool {
  const repo = join(work, 'repo-restic');
  const env = { ...process.env, RESTIC_PASSWORD: PASSPHRASE, RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(work, 'cache-restic') };
  const run = (args: string[], cwd = work) => timed('restic', args, { cwd, env });
  return {
    name: 'restic', env, repo,
    init: async () => { await run(['init', '--repository-version', '2']); },
    backup: () => run(['backup', '--quiet', '--host', 'bench', '--compression', 'auto', '.'], source),
    restore: (_name, target) => run(['restore', 'latest', '--target', target]),
    check: () => run(['check', '--read-data']),
  };
}

function cairnTool(work: string, source: string): Tool {
  const repo = join(work, 'repo-cairn');
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  const env = { ...process.env, CAIRN_PASSPHRASE: PASSPHRASE, CAIRN_REPO: repo, XDG_CACHE_HOME: join(work, 'cache-cairn'), XDG_CONFIG_HOME: join(work, 'config-cairn') };
  const run = (args: string[], cwd = work) => timed(process.execPath, [main, ...args], { cwd, env, maxOkCode: 1 });
  return {
    name: 'cairn', env, repo,
    init: async () => { await run(['rcreate', '--encryption', 'repokey']); },
    backup: (name) => run(['create', '--compression', 'zstd,3', name, '.'], source),
    restore: (name, target) => run(['extract', name], target),
    check: () => run(['check', '--verify-data']),
  };
}

/** Apparent size of every file under `dir` (what the repository costs on a bucket). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/** path → sha256 of every regular file and symlink target, relative to `dir`. */
async function treeDigest(dir: string, base = dir, out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await treeDigest(path, base, out);
    else if (entry.isFile()) out.set(relative(base, path), createHash('sha256').update(await readFile(path)).digest('hex'));
  }
  return out;
}

/** The folder under `target` that holds the restored tree (restic keeps the absolute source path). */
async function findRestoredRoot(target: string, depth = 8): Promise<string | undefined> {
  if (existsSync(join(target, 'logs', 'app.log'))) return target;
  if (depth === 0) return undefined;
  for (const entry of await readdir(target, { withFileTypes: true })) {
    if (entry.isDirectory() && !(await lstat(join(target, entry.name))).isSymbolicLink()) {
      const found = await findRestoredRoot(join(target, entry.name), depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

type Phase = 'first backup' | 'day-2 backup' | 'unchanged backup' | 'restore' | 'check --verify-data';
type Results = Record<string, Partial<Record<Phase, Measure>> & { repoBytes?: number[] }>;

function printTable(results: Results, tools: string[]): void {
  const phases: Phase[] = ['first backup', 'day-2 backup', 'unchanged backup', 'restore', 'check --verify-data'];
  const peers = tools.filter((t) => t !== 'cairn');
  const header = ['phase', 'metric', ...tools, ...(tools.includes('cairn') ? peers.map((p) => `cairn/${p}`) : [])];
  const rows: string[][] = [header];
  const fmt = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
  const add = (phase: string, metric: string, get: (t: string) => number | undefined, digits = 1) => {
    const values = tools.map(get);
    const c = get('cairn');
    rows.push([phase, metric, ...values.map((v) => fmt(v, digits)), ...(tools.includes('cairn') ? peers.map((p) => fmt(c !== undefined && get(p) ? c / get(p)! : undefined, 2)) : [])]);
  };
  for (const phase of phases) {
    add(phase, 'wall s', (t) => results[t]?.[phase]?.wall);
    add(phase, 'cpu s', (t) => results[t]?.[phase]?.cpu);
    add(phase, 'peak RSS MiB', (t) => results[t]?.[phase]?.rssMiB, 0);
  }
  ['after first', 'after day 2', 'after unchanged'].forEach((label, i) => add('repository', `MiB ${label}`, (t) => (results[t]?.repoBytes?.[i] ?? NaN) / 2 ** 20));
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

function printGoals(results: Results): void {
  const c = results.cairn, r = results.restic, b = results.borg;
  if (!c || !r) return;
  const goal = (label: string, value: number | undefined, limit: number | undefined, factor: number) => {
    if (value === undefined || limit === undefined) return;
    console.log(`${value <= limit * factor ? 'MET   ' : 'NOT MET'} ${label}: ${value.toFixed(2)} vs ${factor}× ${limit.toFixed(2)}`);
  };
  goal('first backup wall ≤ 0.5× restic', c['first backup']?.wall, r['first backup']?.wall, 0.5);
  goal('day-2 backup wall ≤ 0.5× restic', c['day-2 backup']?.wall, r['day-2 backup']?.wall, 0.5);
  goal('unchanged backup wall ≤ 0.5× restic', c['unchanged backup']?.wall, r['unchanged backup']?.wall, 0.5);
  const fasterPeer = Math.min(r.restore?.wall ?? Infinity, b?.restore?.wall ?? Infinity);
  goal('restore wall ≤ 0.5× faster peer', c.restore?.wall, Number.isFinite(fasterPeer) ? fasterPeer : undefined, 0.5);
  goal('repository MiB ≤ restic', (c.repoBytes?.[2] ?? NaN) / 2 ** 20, (r.repoBytes?.[2] ?? NaN) / 2 ** 20, 1);
  const peak = (m: Results[string]) => Math.max(...Object.values(m).filter((v): v is Measure => typeof v === 'object' && !Array.isArray(v)).map((v) => v.rssMiB));
  goal('peak RSS ≤ restic', peak(c), peak(r), 1);
}

/** Runs the benchmark; `args` may name the tools (default borg,restic,cairn). */
export async function main(args: string[] = []): Promise<void> {
  const size = parseSize(process.env.CAIRN_BENCH_SIZE ?? '1G');
  const names = (args[0] ?? process.env.CAIRN_BENCH_TOOLS ?? 'borg,restic,cairn').split(',');
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-e2e-'));
  const source = join(work, 'source');
  try {
    if (names.includes('cairn')) {
      const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
      if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error(`npm run build did not produce dist/src/cli/main.js (exit ${build.status})`);
    }
    console.log(`generating ${(size / 2 ** 20).toFixed(0)} MiB under ${work} ...`);
    const summary = await generateDataset(source, { bytes: size });
    console.log(`day 1: ${summary.files} files, ${(summary.bytes / 2 ** 20).toFixed(0)} MiB`);
    const makers = { borg: borgTool, restic: resticTool, cairn: cairnTool } as const;
    const tools = names.map((n) => {
      if (!(n in makers)) throw new Error(`unknown tool ${n}: use borg, restic, cairn`);
      return makers[n as keyof typeof makers](work, source);
    });
    const results: Results = Object.fromEntries(tools.map((t) => [t.name, { repoBytes: [] }]));
    for (const tool of tools) await tool.init();
    // Interleaved: each phase runs every tool before the next phase, in a rotating order.
    const phase = async (label: Phase, index: number, run: (t: Tool) => Promise<Measure>, after?: (t: Tool) => Promise<void>) => {
      const order = tools.map((_, i) => tools[(i + index) % tools.length]!);
      for (const tool of order) {
        const m = await run(tool);
        results[tool.name]![label] = m;
        console.log(`  ${label.padEnd(20)} ${tool.name.padEnd(7)} wall ${m.wall.toFixed(1)} s  cpu ${m.cpu.toFixed(1)} s  rss ${m.rssMiB.toFixed(0)} MiB`);
        if (after) await after(tool);
      }
    };
    const recordSize = async (t: Tool) => { results[t.name]!.repoBytes!.push(await treeBytes(t.repo)); };
    await phase('first backup', 0, (t) => t.backup('day1'), recordSize);
    const changes = await mutateDataset(source);
    console.log(`day 2: ${JSON.stringify(changes)}`);
    await phase('day-2 backup', 1, (t) => t.backup('day2'), recordSize);
    await phase('unchanged backup', 2, (t) => t.backup('day2-again'), recordSize);
    const expected = await treeDigest(source);
    const shm = '/dev/shm';
    const useShm = existsSync(shm) && statfsSync(shm).bavail * statfsSync(shm).bsize > size * 1.5;
    await phase('restore', 0, async (t) => {
      const target = await mkdtemp(join(useShm ? shm : work, `restore-${t.name}-`));
      try {
        const m = await t.restore('day2-again', target);
        const restored = await findRestoredRoot(target);
        const got = restored ? await treeDigest(restored) : new Map();
        const same = got.size === expected.size && [...expected].every(([k, v]) => got.get(k) === v);
        if (!same) throw new Error(`${t.name}: restored tree differs from the source (${got.size} vs ${expected.size} files)`);
        return m;
      } finally {
        await rm(target, { recursive: true, force: true });
      }
    });
    await phase('check --verify-data', 1, (t) => t.check());
    console.log(`\nrestore target: ${useShm ? 'tmpfs (/dev/shm)' : 'disk'}; dataset ${(summary.bytes / 2 ** 20).toFixed(0)} MiB, ${summary.files} files; ${changes.changedFiles} changed on day 2\n`);
    console.log(`cairn ran on ${await runtimeLine()}`);
    printTable(results, tools.map((t) => t.name));
    console.log('');
    printGoals(results);
    if (process.env.CAIRN_BENCH_JSON) {
      await mkdir(resolve(process.env.CAIRN_BENCH_JSON, '..'), { recursive: true });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(process.env.CAIRN_BENCH_JSON, JSON.stringify({ runtime: await runtimeInfo(), size, summary, changes, results }, null, 2));
    }
  } finally {
    if (process.env.CAIRN_BENCH_KEEP === '1') console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

export default main;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2).filter((a) => a !== '--')).catch((err: unknown) => {
    console.error(`bench e2e: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  });
}
