/**
 * The crash test: a child process (child.ts) writes transactions, and in `compact` runs compacts,
 * through the real repository code on a backend (fs by default; any location openBackend takes,
 * e.g. the local s3 or sftp server); the parent SIGKILLs it at a random moment,
 * then reopens, checks and verifies the whole model: every transaction whose commit resolved reads
 * back byte-exact; the one that was committing is all there or all absent; nothing else is visible.
 * `damaged` counts runs with check damage, wrong bytes, partial or phantom data; `lost` counts runs
 * where a committed value was missing.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBackend } from '../../backends/index.js';
import type { Backend } from '../../src/store/backend.js';
import { withTimeout } from '../../src/store/with-timeout.js';
import { Repository } from '../../src/repository/index.js';
import { count, deletes, itemId, itemValue } from './model.js';

export interface CrashOptions {
  runs: number;
  /** `write`: writers only; `compact`: a writer that compacts after each commit; `mixed`: alternate. */
  mode?: 'write' | 'compact' | 'mixed';
  seed?: number;
  /** The kill lands uniformly within this many ms after the child opened the repository. */
  maxDelayMs?: number;
  log?: (line: string) => void;
  /** Called after every `progressEvery` runs (default 10) with the figures so far, so a long run that is stopped still yields them. */
  progress?: (sofar: CrashResult, elapsedMs: number) => void;
  progressEvery?: number;
  /**
   * Where the repository lives: a location openBackend takes, with `env` holding its credentials
   * (given to the child too). Default: a fresh folder (fs). The store must not exist yet; it is
   * destroyed at the end.
   */
  location?: string;
  env?: NodeJS.ProcessEnv;
}

export interface CrashResult { runs: number; damaged: number; lost: number; problems: string[] }

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export async function runCrashTest(options: CrashOptions): Promise<CrashResult> {
  const seed = options.seed ?? Date.now() % 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-crash-'));
  const root = options.location ?? join(dir, 'repo');
  const env = options.env ?? {};
  // The parent's own requests are timed: a request that never settles fails the campaign with its
  // op and key instead of hanging it (seen once on s3 after run 10 of a long run).
  const open = async (): Promise<Backend> => withTimeout(await openBackend(root, { env: { ...process.env, ...env } }), 120_000);
  const result: CrashResult = { runs: 0, damaged: 0, lost: 0, problems: [] };
  const started = Date.now();
  // status of each transaction number: committed (commit resolved or found applied) or aborted.
  const committed = new Set<number>();
  let next = 0;
  let rnd = seed >>> 0 || 1;
  const random = () => { rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5; return (rnd >>> 0) / 2 ** 32; };
  try {
    const store = await open();
    await (await Repository.create(store, { segmentSize: 64 * 1024 })).close();
    await store.close();
    for (let run = 0; run < options.runs; run++) {
      const mode = options.mode === 'mixed' || !options.mode ? (run % 2 ? 'compact' : 'write') : options.mode;
      const { begun, done, error } = await killChild(root, env, mode, seed, next, random() * (options.maxDelayMs ?? 400));
      if (error) throw new Error(`run ${run}: the child failed on its own: ${error}`);
      for (const t of done) committed.add(t);
      const inflight = begun.filter((t) => !done.includes(t));
      const backend = await open();
      for await (const { key } of backend.list('locks/')) await backend.delete(key); // the killed child's lock
      await backend.close();
      const problems = await verify(open, seed, committed, inflight, Math.max(next, ...begun) + 2);
      if (problems.applied) committed.add(inflight[0]);
      next = Math.max(next, ...begun.map((t) => t + 1));
      result.runs++;
      if (problems.damaged.length) { result.damaged++; result.problems.push(`run ${run} (${mode}): ${problems.damaged.slice(0, 3).join('; ')}`); }
      if (problems.lost.length) { result.lost++; result.problems.push(`run ${run} (${mode}): ${problems.lost.slice(0, 3).join('; ')}`); }
      options.log?.(`run ${run + 1} (${mode}): ${done.length} commits, in flight ${inflight.join(',') || '-'}${problems.applied ? ' (applied)' : ''}, ${problems.damaged.length} damaged, ${problems.lost.length} lost`);
      if (result.runs % (options.progressEvery ?? 10) === 0) options.progress?.(result, Date.now() - started);
    }
    return result;
  } finally {
    if (options.location) {
      const backend = await open();
      await backend.destroy().catch(() => undefined);
      await backend.close();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

function killChild(root: string, env: NodeJS.ProcessEnv, mode: string, seed: number, first: number, delayMs: number): Promise<{ begun: number[]; done: number[]; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, mode, String(seed), String(first)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const begun: number[] = [], done: number[] = [];
    let out = '', err = '', killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const [word, n] = out.slice(0, nl).split(' ');
        out = out.slice(nl + 1);
        if (word === 'READY') setTimeout(() => { killed = true; child.kill('SIGKILL'); }, delayMs);
        else if (word === 'BEGIN') begun.push(Number(n));
        else if (word === 'DONE') done.push(Number(n));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
    child.on('exit', () => resolve({ begun, done, error: killed ? undefined : err.trim().split('\n').slice(-5).join(' | ') || 'exited' }));
  });
}

async function verify(open: () => Promise<Backend>, seed: number, committed: Set<number>, inflight: number[], upTo: number)
  : Promise<{ damaged: string[]; lost: string[]; applied: boolean }> {
  const damaged: string[] = [], lost: string[] = [];
  let repo: Repository;
  const store = await open();
  try {
    repo = await Repository.open(store);
  } catch (e) {
    await store.close();
    return { damaged: [`open failed: ${String(e)}`], lost: [], applied: false };
  }
  try {
    const report = await repo.check();
    for (const d of report.damage) damaged.push(`${d.kind} ${d.key}@${d.offset}: ${d.reason}`);
    // Decide whether the in-flight transaction took effect from its first item, then hold it to all.
    const u = inflight[0];
    const applied = u !== undefined && repo.has(itemId(seed, u, count(seed, u) - 1));
    const live = new Set(committed);
    if (applied) live.add(u);
    const deleted = new Set<string>();
    for (const t of live) for (const [dt, di] of deletes(t)) if (live.has(dt)) deleted.add(`${dt}/${di}`);
    for (let t = 0; t < upTo; t++) {
      for (let i = 0; i < count(seed, t); i++) {
        const id = itemId(seed, t, i);
        const expected = live.has(t) && !deleted.has(`${t}/${i}`);
        if (!expected) {
          if (repo.has(id)) damaged.push(`txn ${t} item ${i} visible but ${live.has(t) ? 'deleted' : 'never committed'}`);
          continue;
        }
        if (!repo.has(id)) { lost.push(`txn ${t} item ${i} missing`); continue; }
        try {
          const value = await repo.get(id);
          if (Buffer.compare(value, itemValue(seed, t, i)) !== 0) damaged.push(`txn ${t} item ${i} has wrong bytes`);
        } catch (e) {
          damaged.push(`txn ${t} item ${i}: ${String(e)}`);
        }
      }
    }
    return { damaged, lost, applied };
  } finally {
    await repo.close();
    await store.close();
  }
}
