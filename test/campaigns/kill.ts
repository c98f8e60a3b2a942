/**
 * The kill campaign (issue 15): the real `cairn` executable is SIGKILLed at random moments of
 * `create` (one writer, or two at once), `prune` + `compact`, `check --repair`,
 * `key change-passphrase` and `transfer` (into a related repository), on fs or the local s3 server.
 * After every kill: `check` passes (exit 0, or 1 with only the documented leftovers), every
 * archive whose command exited 0 is listed and restores exactly, and after a killed passphrase
 * change exactly one of the old and new passphrases opens the repository and a rerun succeeds.
 * The kill lands uniformly within the op's last measured duration (+20 %), so it hits every phase.
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { assertSameTree, describeTree, startCairn, workspace, type Entry } from '../cli/helpers.js';

export const OPS = ['create', 'prune-compact', 'repair', 'passphrase', 'transfer'] as const;
export type Op = typeof OPS[number];

/** Where the two repositories live: folders (fs), or roots on one s3 server with its credentials. */
export interface KillStores { main: string; other: string; env: NodeJS.ProcessEnv }

export interface KillOptions {
  kills: number;
  ops: readonly Op[];
  seed: number;
  /** Default: two folders in the campaign's workspace. */
  stores?: KillStores;
  /**
   * Durations (ms) to kill within before any was measured; without them, the first run of each op
   * is not killed but measured (a short CI run passes them to spare those runs).
   */
  durations?: Partial<Record<Op, number>>;
  /** Stop after this long (ms) even before `kills`, with the figures so far (a long run within a deadline). */
  budgetMs?: number;
  /** Every `twoWritersEvery`-th create run starts two writers at once (default 3). */
  twoWritersEvery?: number;
  log?: (line: string) => void;
  progress?: (result: KillResult, elapsedMs: number) => void;
}

export interface OpFigures { kills: number; damaged: number; lost: number; keysUnusable: number }
export interface KillResult { byOp: Record<string, OpFigures>; problems: string[]; leftovers: Record<string, number> }

/** The summary line of one op: `N kills, D damaged, L archives lost, K keys unusable`. */
export const summaryLine = (f: OpFigures): string => `${f.kills} kills, ${f.damaged} damaged, ${f.lost} archives lost, ${f.keysUnusable} keys unusable`;

interface Exit { code: number | null; killed: boolean; stdout: string; stderr: string; ms: number }

/** Starts `cairn ARGS`; `kill(after)` SIGKILLs it that many ms after its start unless it ended first. */
function launch(args: string[], env: NodeJS.ProcessEnv, cwd?: string): { child: ChildProcess; done: Promise<Exit>; killAt(ms: number): void } {
  const started = Date.now();
  const child = startCairn(args, { env, cwd });
  let stdout = '', stderr = '', killed = false, ended = false;
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<Exit>((resolve) => child.on('close', (code) => { ended = true; resolve({ code, killed, stdout, stderr, ms: Date.now() - started }); }));
  const killAt = (ms: number) => {
    setTimeout(() => { if (!ended) { killed = child.kill('SIGKILL'); } }, Math.max(0, ms - (Date.now() - started)));
  };
  return { child, done, killAt };
}

/** Runs `cairn ARGS` to the end (120 s at most). */
async function run(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Exit> {
  const l = launch(args, env, cwd);
  l.killAt(120_000);
  return l.done;
}

/** One line of a command's output for a problem report. */
const brief = (e: Exit) => `exit ${e.code}${e.killed ? ' (killed)' : ''}: ${(e.stderr || e.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`;

export async function runKillCampaign(options: KillOptions): Promise<KillResult> {
  const ws = await workspace();
  const stores = options.stores ?? { main: join(ws.dir, 'repo'), other: join(ws.dir, 'other'), env: {} };
  const result: KillResult = { byOp: {}, problems: [], leftovers: {} };
  for (const op of options.ops) result.byOp[op] = { kills: 0, damaged: 0, lost: 0, keysUnusable: 0 };
  let rnd = options.seed >>> 0 || 1;
  const random = () => { rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5; return (rnd >>> 0) / 2 ** 32; };
  const log = options.log ?? (() => undefined);
  let passphrase = 'kill-campaign-0';
  let passphrases = 0;
  const OTHER_PASSPHRASE = 'kill-campaign-other';
  const envMain = () => ({ ...stores.env, CAIRN_PASSPHRASE: passphrase });
  const envOther = () => ({ ...stores.env, CAIRN_PASSPHRASE: OTHER_PASSPHRASE, CAIRN_OTHER_PASSPHRASE: passphrase });
  // Each archive ever made, with its source tree; `committed[repo]`: the archives that must be there.
  const sources = new Map<string, Map<string, Entry>>();
  const committed = { main: new Set<string>(), other: new Set<string>() };
  let otherMade = false;
  let gen = 0, creates = 0;
  const durations: Partial<Record<Op, number>> = { ...options.durations };
  const started = Date.now();
  const shared = randomBytes(3 * 1024 * 1024); // deduplicated across archives
  const mainArgs = ['-r', stores.main];
  const otherArgs = ['-r', stores.other];

  /** A fresh source tree: shared data, 2-5 MiB of new data, small files; returns its folder. */
  const makeSource = async (): Promise<{ name: string; dir: string }> => {
    const name = `a-${++gen}`;
    const dir = join(ws.dir, 'src', name);
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'shared.bin'), shared);
    await writeFile(join(dir, 'new.bin'), randomBytes(2 * 1024 * 1024 + Math.floor(random() * 3 * 1024 * 1024)));
    for (let i = 0; i < 20; i++) await writeFile(join(dir, 'sub', `f${i}.txt`), `${name} file ${i}\n`.repeat(1 + i * 50));
    sources.set(name, await describeTree(dir));
    return { name, dir };
  };

  /** Restores `name` from `repo` and compares it with its source; a problem text, or undefined. */
  const restore = async (repo: string[], env: NodeJS.ProcessEnv, name: string): Promise<string | undefined> => {
    const target = await mkdtemp(join(ws.dir, 'restore-'));
    try {
      const e = await run([...repo, 'extract', name], env, target);
      if (e.code !== 0) return `extract ${name}: ${brief(e)}`;
      assertSameTree(await describeTree(target), sources.get(name)!);
      return undefined;
    } catch (err) {
      return `extract ${name}: restored tree differs: ${String(err).slice(0, 300)}`;
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  };

  /** The archive names of a repository (checkpoints left out), oldest first, or a problem text. */
  const archives = async (repo: string[], env: NodeJS.ProcessEnv): Promise<string[] | string> => {
    const e = await run([...repo, '--json', 'rlist'], env);
    if (e.code !== 0) return `rlist: ${brief(e)}`;
    // Oldest first, as prune orders them (two writers at once may finish out of name order).
    const parsed = JSON.parse(e.stdout) as { archives: { name: string; time: string }[] };
    return parsed.archives.filter((a) => !a.name.endsWith('.checkpoint')).sort((a, b) => a.time.localeCompare(b.time)).map((a) => a.name);
  };

  /**
   * After a kill: check, then the listing against the committed set (an archive of a killed
   * command that is there counts as committed from now on), then restores of `fresh` and one other.
   */
  const verify = async (which: 'main' | 'other', fresh: string[], figures: OpFigures, label: string): Promise<void> => {
    const repo = which === 'main' ? mainArgs : otherArgs;
    const env = which === 'main' ? envMain() : envOther();
    const damaged: string[] = [], lost: string[] = [];
    const checked = await run([...repo, 'check'], env);
    if (checked.code === 1) {
      // Warnings only: the leftovers docs/reliability.md names; anything else is damage.
      for (const line of checked.stderr.split('\n').filter(Boolean)) {
        const kind = /^cairn: warning: (unfinished|undeleted|unjournaled) archive/.exec(line)?.[1] ?? /^cairn: warning: ([a-z]+)/.exec(line)?.[1];
        if (kind === 'unfinished' || kind === 'undeleted' || kind === 'unjournaled') result.leftovers[kind] = (result.leftovers[kind] ?? 0) + 1;
        else damaged.push(`check warning: ${line}`);
      }
    } else if (checked.code !== 0) damaged.push(`check: ${brief(checked)}`);
    const names = await archives(repo, env);
    if (typeof names === 'string') damaged.push(names);
    else {
      for (const n of committed[which]) if (!names.includes(n)) lost.push(`${which}: archive ${n} (its command exited 0) is gone`);
      for (const n of names) {
        if (!sources.has(n)) damaged.push(`${which}: unknown archive ${n}`);
        else if (!committed[which].has(n)) { committed[which].add(n); fresh.push(n); }
      }
      const older = [...committed[which]].filter((n) => !fresh.includes(n));
      const sample = [...new Set(fresh.filter((n) => names.includes(n)))];
      // One older archive every third check: the check itself proves every chunk is referenced and present.
      if (older.length && (sample.length === 0 || random() < 1 / 3)) sample.push(older[Math.floor(random() * older.length)]!);
      for (const n of sample) {
        const problem = await restore(repo, env, n);
        if (problem) damaged.push(`${which}: ${problem}`);
      }
    }
    if (damaged.length) { figures.damaged++; result.problems.push(`${label}: ${damaged.slice(0, 3).join('; ')}`); }
    if (lost.length) { figures.lost++; result.problems.push(`${label}: ${lost.slice(0, 3).join('; ')}`); }
  };

  /**
   * A kill moment: uniform over the op's last measured duration, +20 % so some runs end first. The
   * first run of an op is not killed: it measures the duration.
   */
  const delay = (op: Op) => (durations[op] === undefined ? 600_000 : random() * durations[op]! * 1.2);
  const measure = (op: Op, e: Exit) => { if (!e.killed && e.code === 0) durations[op] = e.ms; };

  const helpFlag = (await run(['check', '--help'], {})).stdout.includes('--yes') ? ['--yes'] : [];
  const init = await run([...mainArgs, 'rcreate', '--encryption', 'repokey'], envMain());
  if (init.code !== 0) throw new Error(`rcreate: ${brief(init)}`);

  try {
    const needArchives = async () => {
      while (committed.main.size < 4) {
        const s = await makeSource();
        const e = await run([...mainArgs, 'create', s.name, '.'], envMain(), s.dir);
        if (e.code !== 0) throw new Error(`create: ${brief(e)}`);
        measure('create', e);
        committed.main.add(s.name);
      }
    };
    let attempt = 0;
    const total = () => Object.values(result.byOp).reduce((n, f) => n + f.kills, 0);
    let reported = 0, reportedAt = Date.now();
    while (total() < options.kills && attempt < options.kills * 3 && Date.now() - started < (options.budgetMs ?? Infinity)) {
      const op = options.ops[attempt % options.ops.length]!;
      const figures = result.byOp[op]!;
      const label = `run ${++attempt} (${op})`;
      let killed = 0;
      const fresh: string[] = [];
      if (op === 'create') {
        const writers = (++creates % (options.twoWritersEvery ?? 3) === 0) ? 2 : 1;
        const runs = [];
        for (let w = 0; w < writers; w++) {
          const s = await makeSource();
          const l = launch([...mainArgs, 'create', s.name, '.'], envMain(), s.dir);
          l.killAt(delay('create'));
          runs.push({ name: s.name, exit: l.done });
        }
        for (const r of runs) {
          const e = await r.exit;
          if (e.killed) killed++;
          else if (e.code === 0) { committed.main.add(r.name); fresh.push(r.name); if (writers === 1) measure(op, e); }
          else result.problems.push(`${label}: create ${r.name} failed on its own: ${brief(e)}`);
        }
        log(`${label}: ${writers} writer(s), ${killed} killed`);
        await verify('main', fresh, figures, label);
      } else if (op === 'prune-compact') {
        await needArchives();
        const before = await archives(mainArgs, envMain());
        if (typeof before === 'string') throw new Error(before);
        // The newest three are kept by --keep-last 3; only older ones may go.
        const keep = new Set(before.slice(-3));
        const at = delay(op);
        const t0 = Date.now();
        const prune = launch([...mainArgs, 'prune', '--keep-last', '3'], envMain());
        prune.killAt(at);
        const p = await prune.done;
        let e = p;
        if (!p.killed && p.code === 0) {
          const compact = launch([...mainArgs, 'compact'], envMain());
          compact.killAt(at - (Date.now() - t0));
          e = await compact.done;
        }
        if (e.killed) killed++;
        else if (e.code !== 0) result.problems.push(`${label}: ${brief(e)}`);
        else durations[op] = Date.now() - t0;
        const after = await archives(mainArgs, envMain());
        if (typeof after !== 'string') {
          for (const n of [...committed.main]) {
            if (after.includes(n)) continue;
            if (keep.has(n)) continue; // reported as lost by verify
            committed.main.delete(n); // pruned, as asked
          }
        }
        log(`${label}: ${p.killed ? 'prune' : e.killed ? 'compact' : 'nothing'} killed`);
        await verify('main', fresh, figures, label);
      } else if (op === 'repair') {
        await needArchives();
        const l = launch([...mainArgs, 'check', '--repair', ...helpFlag], envMain());
        l.killAt(delay(op));
        const e = await l.done;
        if (e.killed) killed++;
        else if (e.code !== 0) result.problems.push(`${label}: check --repair: ${brief(e)}`);
        else measure(op, e);
        log(`${label}: ${e.killed ? 'killed' : 'finished'}`);
        await verify('main', fresh, figures, label);
      } else if (op === 'passphrase') {
        const old = passphrase;
        const next = `kill-campaign-${++passphrases}`;
        const l = launch([...mainArgs, 'key', 'change-passphrase'], { ...envMain(), CAIRN_NEW_PASSPHRASE: next });
        l.killAt(delay(op));
        const e = await l.done;
        if (e.killed) killed++;
        else if (e.code !== 0) result.problems.push(`${label}: change-passphrase: ${brief(e)}`);
        else measure(op, e);
        // Exactly one of the two opens the repository; the other is refused as a wrong passphrase.
        const opens = async (p: string) => (await run([...mainArgs, '--json', 'rinfo'], { ...stores.env, CAIRN_PASSPHRASE: p }));
        const [withOld, withNew] = [await opens(old), await opens(next)];
        const ok = [withOld, withNew].filter((x) => x.code === 0).length;
        const refused = [withOld, withNew].filter((x) => x.code !== 0 && x.stderr.includes('"EWRONG_PASSPHRASE"')).length;
        if (ok !== 1 || refused !== 1) {
          figures.keysUnusable++;
          result.problems.push(`${label}: old passphrase ${brief(withOld)}; new passphrase ${brief(withNew)}`);
        }
        if (withNew.code === 0) passphrase = next;
        if (e.killed) {
          // A rerun to the end works; the check of verify() below then opens with its new passphrase.
          const again = `kill-campaign-${++passphrases}`;
          const r = await run([...mainArgs, 'key', 'change-passphrase'], { ...envMain(), CAIRN_NEW_PASSPHRASE: again });
          if (r.code !== 0) {
            figures.keysUnusable++;
            result.problems.push(`${label}: the rerun of change-passphrase: ${brief(r)}`);
          } else passphrase = again;
        }
        log(`${label}: ${e.killed ? 'killed' : 'finished'}, ${withOld.code === 0 ? 'old' : withNew.code === 0 ? 'new' : 'no'} passphrase opens`);
        await verify('main', fresh, figures, label);
      } else {
        await needArchives();
        if (!otherMade) {
          const made = await run([...otherArgs, 'rcreate', '--other-repo', stores.main, '--encryption', 'repokey'], envOther());
          if (made.code !== 0) throw new Error(`rcreate --other-repo: ${brief(made)}`);
          otherMade = true;
        }
        // New archives in the source each time, so the transfer has work to do.
        const s = await makeSource();
        const c = await run([...mainArgs, 'create', s.name, '.'], envMain(), s.dir);
        if (c.code !== 0) throw new Error(`create: ${brief(c)}`);
        committed.main.add(s.name);
        const want = [...committed.main];
        const l = launch([...otherArgs, 'transfer', '--other-repo', stores.main], envOther());
        l.killAt(delay(op));
        const e = await l.done;
        if (e.killed) killed++;
        else if (e.code !== 0) result.problems.push(`${label}: transfer: ${brief(e)}`);
        else { measure(op, e); for (const n of want) committed.other.add(n); }
        log(`${label}: ${e.killed ? 'killed' : 'finished'}`);
        await verify('other', fresh, figures, label);
      }
      figures.kills += killed;
      // A progress line every 10 kills or every minute, so a run stopped part-way still yields its figures.
      if (Math.floor(total() / 10) > Math.floor(reported / 10) || Date.now() - reportedAt > 60_000) {
        reported = total();
        reportedAt = Date.now();
        options.progress?.(result, Date.now() - started);
      }
    }
    // The end: every committed archive of both repositories restores exactly.
    const last = { kills: 0, damaged: 0, lost: 0, keysUnusable: 0 };
    for (const which of ['main', 'other'] as const) {
      if (which === 'other' && !otherMade) continue;
      for (const n of committed[which]) {
        const problem = await restore(which === 'main' ? mainArgs : otherArgs, which === 'main' ? envMain() : envOther(), n);
        if (problem) { last.damaged++; result.problems.push(`final restore, ${which}: ${problem}`); }
      }
    }
    if (last.damaged) (result.byOp.final = last);
    return result;
  } finally {
    await ws.cleanup();
  }
}

/** A short stable tag for a seed's workspace names. */
export const tag = (seed: number): string => createHash('sha256').update(String(seed)).digest('hex').slice(0, 8);
