/**
 * End-to-end benchmark of cairn against borg and restic on the same generated data, interleaved in
 * one run, on a local repository and over SFTP to a local OpenSSH server (localstack/sftp; borg
 * goes over ssh to `borg serve`, restic and cairn over SFTP):
 * - the mixed 1 GiB dataset: first backup, day-2 backup, unchanged backup, restore, full data check;
 * - many small files (200 000 files of 20–600 bytes, 1 000 per folder): first backup, unchanged
 *   backup, restore.
 * For each run it records wall time, CPU time (user + sys) and peak RSS of the child (GNU time),
 * the 1-minute load average at its end, and the repository size after each backup, then prints a
 * table per case and place with the ratios cairn/peer and the goals (≤ 1.0× restic).
 * Every restore is compared file by file with the source.
 *
 *   npm run bench -- e2e                      everything, all three tools
 *   CAIRN_BENCH_SIZE=64M CAIRN_BENCH_SMALL=20000 CAIRN_BENCH_TOOLS=restic,cairn npm run bench -- e2e
 *   CAIRN_BENCH_PLACES=local (default local,sftp) for the mixed case; CAIRN_BENCH_SMALL_PLACES
 *   (default local) and CAIRN_BENCH_SMALL_TOOLS (default the tools) for the small-files case;
 *   CAIRN_BENCH_CASES=mixed|small (default both);
 *   CAIRN_BENCH_KEEP=1 keeps the temp folder; CAIRN_BENCH_JSON=FILE writes the raw figures.
 *
 * Settings are comparable on purpose: encryption on everywhere (borg repokey-blake2, restic's
 * default, cairn repokey), zstd level 3 everywhere (restic's `auto` is zstd's default level), the
 * passphrase from the environment, fresh caches per tool inside the temp folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statfsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, lstat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateDataset, parseSize } from './dataset/generate.js';
import { mutateDataset } from './dataset/mutate.js';
import { Prng } from './dataset/prng.js';
import { cairnNodeFlags } from '../helpers/node-flags.js';
import { runtimeInfo, runtimeLine } from '../helpers/runtime.js';
import { startServer, type RunningServer } from '../helpers/servers.js';

interface Measure { wall: number; cpu: number; rssMiB: number; load: number }
interface Tool {
  name: string;
  init(): Promise<void>;
  backup(name: string): Promise<Measure>;
  restore(name: string, target: string): Promise<Measure>;
  check(): Promise<Measure>;
  /** The repository's folder on this machine (for an SFTP repository, below the server's root). */
  dir: string;
}

/** Where the repositories live: a local folder, or the local OpenSSH server (localstack/sftp). */
interface Place {
  name: 'local' | 'sftp';
  /** The folder holding every tool's repository, on this machine. */
  root: string;
  /** ssh options for restic's sftp.command and borg's BORG_RSH; undefined for a local folder. */
  ssh?: { user: string; port: string; identity: string; knownHosts: string };
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
  return { wall: wall!, cpu: user! + sys!, rssMiB: rss! / 1024, load: loadavg()[0]! };
}

const sshCommand = (ssh: NonNullable<Place['ssh']>): string =>
  `ssh -p ${ssh.port} -i ${ssh.identity} -o UserKnownHostsFile=${ssh.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;

function borgTool(work: string, source: string, place: Place, tag: string): Tool {
  const dir = join(place.root, `borg-${tag}`);
  const repo = place.ssh ? `ssh://${place.ssh.user}@127.0.0.1:${place.ssh.port}${dir}` : dir;
  const env = { ...process.env, BORG_PASSPHRASE: PASSPHRASE, BORG_BASE_DIR: join(work, `home-borg-${place.name}-${tag}`), BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes', ...(place.ssh ? { BORG_RSH: sshCommand(place.ssh) } : {}) };
  const run = (args: string[], cwd = work) => timed('borg', args, { cwd, env, maxOkCode: 1 });
  return {
    name: 'borg', dir,
    init: async () => { await run(['init', '--encryption', 'repokey-blake2', repo]); },
    backup: (name) => run(['create', '--compression', 'zstd,3', `${repo}::${name}`, '.'], source),
    restore: (name, target) => run(['extract', `${repo}::${name}`], target),
    check: () => run(['check', '--verify-data', repo]),
  };
}

function resticTool(work: string, source: string, place: Place, tag: string): Tool {
  const dir = join(place.root, `restic-${tag}`);
  const repo = place.ssh ? `sftp:${place.ssh.user}@127.0.0.1:${dir}` : dir;
  const extra = place.ssh ? ['-o', `sftp.command=${sshCommand(place.ssh)} ${place.ssh.user}@127.0.0.1 -s sftp`] : [];
  const env = { ...process.env, RESTIC_PASSWORD: PASSPHRASE, RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(work, `cache-restic-${place.name}-${tag}`) };
  const run = (args: string[], cwd = work) => timed('restic', [...extra, ...args], { cwd, env });
  return {
    name: 'restic', dir,
    init: async () => { await run(['init', '--repository-version', '2']); },
    backup: () => run(['backup', '--quiet', '--host', 'bench', '--compression', 'auto', '.'], source),
    restore: (_name, target) => run(['restore', 'latest', '--target', target]),
    check: () => run(['check', '--read-data']),
  };
}

function cairnTool(work: string, source: string, place: Place, tag: string): Tool {
  const dir = join(place.root, `cairn-${tag}`);
  const repo = place.ssh
    ? `sftp://${place.ssh.user}@127.0.0.1:${place.ssh.port}${dir}?identity=${encodeURIComponent(place.ssh.identity)}&known-hosts=${encodeURIComponent(place.ssh.knownHosts)}`
    : dir;
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  const env = { ...process.env, CAIRN_PASSPHRASE: PASSPHRASE, CAIRN_REPO: repo, XDG_CACHE_HOME: join(work, `cache-cairn-${place.name}-${tag}`), XDG_CONFIG_HOME: join(work, `config-cairn-${place.name}-${tag}`) };
  // As an installed `cairn` runs: with the Node flags of its first line.
  const run = (args: string[], cwd = work) => timed(process.execPath, [...cairnNodeFlags(), main, ...args], { cwd, env, maxOkCode: 1 });
  return {
    name: 'cairn', dir,
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

/** The folder under `target` that holds the restored tree, found by `marker` (restic keeps the absolute source path). */
async function findRestoredRoot(target: string, marker: string, depth = 8): Promise<string | undefined> {
  if (existsSync(join(target, marker))) return target;
  if (depth === 0) return undefined;
  for (const entry of await readdir(target, { withFileTypes: true })) {
    if (entry.isDirectory() && !(await lstat(join(target, entry.name))).isSymbolicLink()) {
      const found = await findRestoredRoot(join(target, entry.name), marker, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The many-small-files tree of issue 13: `files` files of 20–600 bytes (prose-like, deterministic),
 * 1 000 per folder. Returns the marker file a restore is found by.
 */
export async function generateSmallFiles(dir: string, files: number): Promise<string> {
  const prng = new Prng(`cairn-bench-small-${files}`);
  const words = ['cairn', 'stone', 'path', 'ridge', 'valley', 'river', 'north', 'marker', 'summit', 'trail', 'snow', 'wind'];
  for (let d = 0; d * 1000 < files; d++) {
    const folder = join(dir, `d${String(d).padStart(4, '0')}`);
    await mkdir(folder, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < 1000 && d * 1000 + f < files; f++) {
      const size = 20 + prng.int(581);
      let text = `${d}/${f} `;
      while (text.length < size) text += `${prng.pick(words)} `;
      writes.push(writeFile(join(folder, `f${String(f).padStart(4, '0')}.txt`), text.slice(0, size)));
    }
    await Promise.all(writes);
  }
  return join('d0000', 'f0000.txt');
}

type Phase = 'first backup' | 'day-2 backup' | 'unchanged backup' | 'restore' | 'check --verify-data';
type Results = Record<string, Partial<Record<Phase, Measure>> & { repoBytes?: number[] }>;

function printTable(results: Results, tools: string[], phases: Phase[]): void {
  const peers = tools.filter((t) => t !== 'cairn');
  const header = ['phase', 'metric', ...tools, ...(tools.includes('cairn') ? peers.map((p) => `cairn/${p}`) : [])];
  const rows: string[][] = [header];
  const fmt = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
  const add = (phase: string, metric: string, get: (t: string) => number | undefined, digits = 1, ratios = true) => {
    const values = tools.map(get);
    const c = get('cairn');
    rows.push([phase, metric, ...values.map((v) => fmt(v, digits)), ...(tools.includes('cairn') ? peers.map((p) => (ratios ? fmt(c !== undefined && get(p) ? c / get(p)! : undefined, 2) : '')) : [])]);
  };
  for (const phase of phases) {
    add(phase, 'wall s', (t) => results[t]?.[phase]?.wall);
    add(phase, 'cpu s', (t) => results[t]?.[phase]?.cpu);
    add(phase, 'peak RSS MiB', (t) => results[t]?.[phase]?.rssMiB, 0);
    add(phase, 'load (1 min)', (t) => results[t]?.[phase]?.load, 1, false);
  }
  const backups = phases.filter((p) => p.endsWith('backup'));
  backups.forEach((label, i) => add('repository', `MiB after ${label.replace(' backup', '')}`, (t) => (results[t]?.repoBytes?.[i] ?? NaN) / 2 ** 20));
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

/** The goals against restic (same run): every step ≤ 1.0×, peak RSS ≤ restic's. */
function printGoals(results: Results, phases: Phase[]): void {
  const c = results.cairn, r = results.restic;
  if (!c || !r) return;
  const goal = (label: string, value: number | undefined, limit: number | undefined) => {
    if (value === undefined || limit === undefined || Number.isNaN(value) || Number.isNaN(limit)) return;
    console.log(`${value <= limit ? 'MET    ' : 'NOT MET'} ${label}: ${value.toFixed(2)} vs restic ${limit.toFixed(2)} (${(value / limit).toFixed(2)}×)`);
  };
  for (const phase of phases) {
    goal(`${phase} wall ≤ restic`, c[phase]?.wall, r[phase]?.wall);
    goal(`${phase} peak RSS ≤ restic`, c[phase]?.rssMiB, r[phase]?.rssMiB);
  }
  const last = (m: Results[string]) => (m.repoBytes?.at(-1) ?? NaN) / 2 ** 20;
  goal('repository MiB ≤ restic', last(c), last(r));
}

const makers = { borg: borgTool, restic: resticTool, cairn: cairnTool } as const;

/** Starts the local OpenSSH server for the SFTP repositories. */
async function sftpPlace(): Promise<{ place: Place; stop(): Promise<void> }> {
  const server = (await startServer('sftp')) as RunningServer;
  const e = server.env;
  const place: Place = { name: 'sftp', root: e.SFTP_ROOT!, ssh: { user: e.SFTP_USER!, port: e.SFTP_PORT!, identity: e.SFTP_IDENTITY!, knownHosts: e.SFTP_KNOWN_HOSTS! } };
  return { place, stop: () => server.stop() };
}

/**
 * Runs one case: the tools on each place, phase by phase, interleaved in a rotating order. The
 * dataset's day 2 (`mutate`) runs once between the first and the day-2 backups of every place.
 */
async function runCase(label: string, work: string, source: string, marker: string, places: Place[], names: string[], mutate?: () => Promise<void>): Promise<Record<string, Results>> {
  const byPlace = Object.fromEntries(places.map((place) => {
    const tools = names.map((n) => {
      if (!(n in makers)) throw new Error(`unknown tool ${n}: use borg, restic, cairn`);
      return makers[n as keyof typeof makers](work, source, place, label);
    });
    const results: Results = Object.fromEntries(tools.map((t) => [t.name, { repoBytes: [] }]));
    return [place.name, { place, tools, results }];
  }));
  for (const { tools } of Object.values(byPlace)) for (const tool of tools) await tool.init();
  const phase = async (name: Phase, index: number, run: (t: Tool) => Promise<Measure>, after?: (t: Tool, r: Results) => Promise<void>) => {
    for (const { place, tools, results } of Object.values(byPlace)) {
      const order = tools.map((_, i) => tools[(i + index) % tools.length]!);
      for (const tool of order) {
        const m = await run(tool);
        results[tool.name]![name] = m;
        console.log(`  ${label} ${place.name.padEnd(5)} ${name.padEnd(20)} ${tool.name.padEnd(7)} wall ${m.wall.toFixed(1)} s  cpu ${m.cpu.toFixed(1)} s  rss ${m.rssMiB.toFixed(0)} MiB  load ${m.load.toFixed(1)}`);
        if (after) await after(tool, results);
      }
    }
  };
  const recordSize = async (t: Tool, r: Results) => { r[t.name]!.repoBytes!.push(await treeBytes(t.dir)); };
  // CAIRN_BENCH_PHASES (day-2,unchanged,restore,check; default all): the first backup always runs.
  const wanted = (process.env.CAIRN_BENCH_PHASES ?? 'day-2,unchanged,restore,check').split(',');
  await phase('first backup', 0, (t) => t.backup('day1'), recordSize);
  if (mutate && wanted.includes('day-2')) {
    await mutate();
    await phase('day-2 backup', 1, (t) => t.backup('day2'), recordSize);
  }
  if (wanted.includes('unchanged')) await phase('unchanged backup', 2, (t) => t.backup('again'), recordSize);
  const snapshot = wanted.includes('unchanged') ? 'again' : mutate && wanted.includes('day-2') ? 'day2' : 'day1';
  const expected = await treeDigest(source);
  const shm = '/dev/shm';
  const useShm = existsSync(shm) && statfsSync(shm).bavail * statfsSync(shm).bsize > (await treeBytes(source)) * 2;
  if (wanted.includes('restore')) await phase('restore', 0, async (t) => {
    const target = await mkdtemp(join(useShm ? shm : work, `restore-${t.name}-`));
    try {
      const m = await t.restore(snapshot, target);
      const restored = await findRestoredRoot(target, marker);
      const got = restored ? await treeDigest(restored) : new Map();
      const same = got.size === expected.size && [...expected].every(([k, v]) => got.get(k) === v);
      if (!same) throw new Error(`${t.name}: restored tree differs from the source (${got.size} vs ${expected.size} files)`);
      return m;
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
  if (mutate && wanted.includes('check')) await phase('check --verify-data', 1, (t) => t.check());
  console.log(`  (restore target: ${useShm ? 'tmpfs /dev/shm' : 'disk'})`);
  return Object.fromEntries(Object.entries(byPlace).map(([k, v]) => [k, v.results]));
}

/**
 * Runs the benchmark; `args` may name the tools (default borg,restic,cairn). Environment:
 * CAIRN_BENCH_SIZE (1G), CAIRN_BENCH_PLACES (local,sftp), CAIRN_BENCH_SMALL (files of the
 * many-small-files case, 200000; 0 skips it), CAIRN_BENCH_SMALL_PLACES (local), CAIRN_BENCH_SMALL_TOOLS,
 * CAIRN_BENCH_CASES (mixed,small), CAIRN_BENCH_PHASES (day-2,unchanged,restore,check: which steps
 * run after the first backup).
 */
export async function main(args: string[] = []): Promise<void> {
  const size = parseSize(process.env.CAIRN_BENCH_SIZE ?? '1G');
  const names = (args[0] ?? process.env.CAIRN_BENCH_TOOLS ?? 'borg,restic,cairn').split(',');
  const placeNames = (process.env.CAIRN_BENCH_PLACES ?? 'local,sftp').split(',');
  const smallFiles = Number(process.env.CAIRN_BENCH_SMALL ?? 200_000);
  const smallPlaces = (process.env.CAIRN_BENCH_SMALL_PLACES ?? 'local').split(',');
  const cases = (process.env.CAIRN_BENCH_CASES ?? 'mixed,small').split(',');
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-e2e-'));
  let sftp: Awaited<ReturnType<typeof sftpPlace>> | undefined;
  const report: string[] = [];
  const all: Record<string, unknown> = {};
  try {
    if (names.includes('cairn')) {
      const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
      if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error(`npm run build did not produce dist/src/cli/main.js (exit ${build.status})`);
    }
    const local: Place = { name: 'local', root: join(work, 'repos') };
    await mkdir(local.root, { recursive: true });
    if ([...placeNames, ...smallPlaces].includes('sftp')) sftp = await sftpPlace();
    const pick = (list: string[]): Place[] => list.map((n) => {
      if (n === 'local') return local;
      if (n === 'sftp') return sftp!.place;
      throw new Error(`unknown place ${n}: use local, sftp`);
    });
    const show = async (title: string, results: Record<string, Results>, phases: Phase[], tools = names) => {
      for (const [place, r] of Object.entries(results)) {
        console.log(`\n${title}, ${place} repository; cairn on ${await runtimeLine()}`);
        printTable(r, tools, phases);
        console.log('');
        printGoals(r, phases);
      }
    };
    if (cases.includes('mixed')) {
      const source = join(work, 'source');
      console.log(`generating ${(size / 2 ** 20).toFixed(0)} MiB under ${work} ...`);
      const summary = await generateDataset(source, { bytes: size });
      console.log(`day 1: ${summary.files} files, ${(summary.bytes / 2 ** 20).toFixed(0)} MiB`);
      let changes: unknown;
      const results = await runCase('mixed', work, source, join('logs', 'app.log'), pick(placeNames), names, async () => {
        changes = await mutateDataset(source);
        console.log(`day 2: ${JSON.stringify(changes)}`);
      });
      all.mixed = { size, summary, changes, results };
      report.push(`mixed ${(summary.bytes / 2 ** 20).toFixed(0)} MiB, ${summary.files} files`);
      await rm(source, { recursive: true, force: true });
      await show(`mixed dataset (${(summary.bytes / 2 ** 20).toFixed(0)} MiB, ${summary.files} files)`, results, ['first backup', 'day-2 backup', 'unchanged backup', 'restore', 'check --verify-data']);
    }
    if (cases.includes('small') && smallFiles > 0) {
      const source = join(work, 'small');
      console.log(`\ngenerating ${smallFiles} small files ...`);
      const marker = await generateSmallFiles(source, smallFiles);
      const smallNames = process.env.CAIRN_BENCH_SMALL_TOOLS?.split(',') ?? names;
      const results = await runCase('small', work, source, marker, pick(smallPlaces), smallNames);
      all.small = { files: smallFiles, results };
      await show(`many small files (${smallFiles} files of 20-600 bytes)`, results, ['first backup', 'unchanged backup', 'restore'], smallNames);
    }
    if (process.env.CAIRN_BENCH_JSON) {
      await mkdir(resolve(process.env.CAIRN_BENCH_JSON, '..'), { recursive: true });
      await writeFile(process.env.CAIRN_BENCH_JSON, JSON.stringify({ runtime: await runtimeInfo(), ...all }, null, 2));
    }
  } finally {
    await sftp?.stop();
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
