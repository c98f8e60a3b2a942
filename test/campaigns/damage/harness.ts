/**
 * The damage campaign: builds the fixture repository once, then per trial copies it, damages one
 * object (objects.ts) and runs the real `cairn` on it: `check` (then `check --verify-data` if that
 * saw nothing), `extract` of every archive, then `check --repair`, `check` and every `extract`
 * again. Each run is bounded (a hang is a failure). Trial `t` of seed `s` uses
 * seed `s + t` alone, so `--seed s+t --flips 1` replays it; its object kind is `t`'s turn in
 * OBJECT_KINDS, so any 9 consecutive trials cover every kind.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn, type Run } from '../../cli/helpers.js';
import { buildFixture, type Fixture } from './fixture.js';
import { applyDamage, damagesFor, dependents, OBJECT_KINDS, parseSegments, targetsOf, type SegmentEntry } from './objects.js';
import { compareTrees, describeWithXattrs } from './tree.js';

export interface DamageOptions {
  flips: number;
  seed: number;
  /** Time limit of one cairn run, ms (default 60 000): a run still going is killed and counted as a hang. */
  limitMs?: number;
  /** Trials run at once (default 1), each on its own copy. */
  jobs?: number;
  log?: (line: string) => void;
  /** Called after each trial with the figures so far. */
  progress?: (sofar: DamageResult) => void;
}

export interface DamageResult {
  trials: number;
  detected: number;
  /** Trials in which some extraction (before or after repair) restored a wrong byte. */
  wrongBytes: number;
  /** Archives an extraction could not restore exactly before repair, and of those, the ones restored after it. */
  harmedArchives: number;
  salvaged: number;
  /** "object kind × damage kind" → trials, detected (by `check` alone, or only by `check --verify-data`), harmless. */
  breakdown: Map<string, { trials: number; detected: number; byCheck: number; harmless: number }>;
  /** One line per failure, with the seed that replays its trial. */
  failures: string[];
  /** Distinct first lines of failed extractions, by object kind (for the docs and a reader's eye). */
  messages: Map<string, Set<string>>;
}

/** A command's outcome, checked for crashes (exit code not 0/1/2, a stack trace, an untyped error) and hangs. */
function crashOf(r: Run): string | undefined {
  if (r.stderr.includes('(killed: still running after')) return 'hang';
  if (![0, 1, 2].includes(r.code)) return `exit ${r.code}`;
  if (/^\s+at .+[(:]\d|unexpected failure|Uncaught|node:internal/m.test(r.stderr)) return `crash: ${firstLine(r.stderr)}`;
  return undefined;
}

const firstLine = (text: string) => text.split('\n').find((l) => l.trim() && !/^\w+: \d+ requests/.test(l)) ?? '';

export async function runDamageCampaign(options: DamageOptions): Promise<DamageResult> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-damage-'));
  const log = options.log ?? (() => undefined);
  const result: DamageResult = { trials: 0, detected: 0, wrongBytes: 0, harmedArchives: 0, salvaged: 0, breakdown: new Map(), failures: [], messages: new Map() };
  try {
    const fixture = await buildFixture(join(dir, 'fixture'));
    const entries = await parseSegments(fixture.repo);
    const repairHasYes = (await cairn(['check', '--help'])).stdout.includes('--yes');
    let next = 0;
    const worker = async (slot: number) => {
      for (let t = next++; t < options.flips; t = next++) {
        await trial(options.seed + t, t, fixture, entries, join(dir, `trial-${slot}`), repairHasYes, options, result, log);
        options.progress?.(result);
      }
    };
    await Promise.all(Array.from({ length: options.jobs ?? 1 }, (_, slot) => worker(slot)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

/** xorshift32: the same sequence for the same seed on every machine. */
function prng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

async function trial(seed: number, turn: number, fixture: Fixture, entries: SegmentEntry[], dir: string, repairHasYes: boolean, options: DamageOptions, result: DamageResult, log: (line: string) => void): Promise<void> {
  const random = prng(seed);
  const kind = OBJECT_KINDS[seed % OBJECT_KINDS.length]!;
  const targets = await targetsOf(kind, fixture, entries);
  const target = targets[Math.floor(random() * targets.length)]!;
  const damages = damagesFor(target, fixture);
  const damage = damages[Math.floor(random() * damages.length)]!;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const repo = join(dir, 'repo');
  await cp(fixture.repo, repo, { recursive: true });
  await cp(fixture.config, join(dir, 'config'), { recursive: true });
  const applied = await applyDamage(repo, target, damage, fixture, entries, random);
  // Half the trials start with this machine's index cache as it was before the damage, half without one (another machine).
  const warm = random() < 0.5;
  if (warm) await cp(fixture.cache, join(dir, 'cache'), { recursive: true });
  const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') };
  const limitMs = options.limitMs ?? 60_000;
  const run = (args: string[]) => cairn(['-r', repo, ...args], { env, limitMs, cwd: dir });
  const failures: string[] = [];
  const fail = (what: string) => failures.push(what);
  const checked = async (args: string[]) => {
    const r = await run(args);
    const crash = crashOf(r);
    if (crash) fail(`${args.join(' ')}: ${crash}`);
    return r;
  };

  const byCheck = (await checked(['check'])).code !== 0;
  const detected = byCheck || (await checked(['check', '--verify-data'])).code !== 0;
  const dependent = dependents(applied, fixture);
  const before = await extractAll(run, fixture, dir, 'before', fail, result, kind, new Set());
  const harmed = [...before].filter(([, exact]) => !exact).map(([name]) => name);
  const harmless = harmed.length === 0;
  if (!detected && !harmless) fail(`undetected: check and check --verify-data exit 0, but ${harmed.join(', ')} did not restore exactly`);
  // Repair runs in every trial: after harmless damage too it must leave every archive as it was.
  let salvaged = 0;
  const repair = await checked(['check', '--repair', ...(repairHasYes ? ['--yes'] : [])]);
  const after = await checked(['--json', 'check']);
  const left = after.code === 0 ? [] : unrepaired(after, dependent);
  // A lost key, config or settings record cannot be rebuilt from the rest: check keeps saying so.
  if (left.length && dependent.size < fixture.archives.size) fail(`check --repair (exit ${repair.code}: ${firstLine(repair.stderr)}), then check: ${left.join('; ')}`);
  const restored = await extractAll(run, fixture, dir, 'after', fail, result, kind, dependent);
  for (const [name, exact] of restored) {
    if (!exact && !dependent.has(name)) fail(`after repair, ${name} (not depending on the damaged object) does not restore exactly`);
    if (harmed.includes(name) && exact) salvaged++;
  }

  result.trials++;
  if (detected) result.detected++;
  result.harmedArchives += harmed.length;
  result.salvaged += salvaged;
  const cell = `${kind} × ${damage}`;
  const row = result.breakdown.get(cell) ?? { trials: 0, detected: 0, byCheck: 0, harmless: 0 };
  row.trials++;
  if (detected) row.detected++;
  if (byCheck) row.byCheck++;
  if (harmless) row.harmless++;
  result.breakdown.set(cell, row);
  const line = `trial ${turn} (seed ${seed}): ${kind}, ${applied.what}, ${warm ? 'warm' : 'cold'} cache: ${byCheck ? 'detected by check' : detected ? 'detected by check --verify-data' : 'not detected'}, ${harmless ? 'harmless' : `harmed ${harmed.join(' ')}`}, salvaged ${salvaged}`;
  log(line);
  for (const f of failures) result.failures.push(`${line}\n  FAILED: ${f}\n  replay: npm run test:damage -- --seed ${seed} --flips 1`);
}

/**
 * What `check --json` still reports after a repair that is not about an archive in `dependent` (those may stay
 * damaged: salvaging them is repair's business, not a consistency failure).
 */
function unrepaired(r: Run, dependent: Set<string>): string[] {
  let summary: { repository?: { damage: { kind: string; key: string; reason: string }[] }; archives?: { problems: { kind: string; archive?: string; reason: string }[] }; journal?: { findings: { kind: string; archive?: string; reason: string }[]; rolledBack: string[] } };
  try {
    summary = JSON.parse(r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? r.stdout) as typeof summary;
  } catch {
    return [`exit ${r.code}: ${firstLine(r.stderr)}`];
  }
  return [
    ...(summary.repository?.damage ?? []).map((d) => `${d.kind} ${d.key}: ${d.reason}`),
    ...(summary.archives?.problems ?? []).filter((p) => p.archive === undefined || !dependent.has(p.archive)).map((p) => `${p.kind} in ${p.archive}: ${p.reason}`),
    ...(summary.journal?.findings ?? []).filter((f) => ['vanished', 'replaced', 'journal'].includes(f.kind) && (f.archive === undefined || !dependent.has(f.archive))).map((f) => `${f.kind} ${f.archive}: ${f.reason}`),
    ...(summary.journal?.rolledBack ?? []).map((n) => `rollback ${n}`),
  ];
}

/**
 * Extracts every archive (at once) into fresh folders and compares each with its source; returns name → restored
 * exactly. Never a wrong byte; exit 0 or 1 means exact, except after a repair for an archive in `salvageable`
 * (depending on the damaged object), where runs of zeros may stand for lost chunks; exit 2 comes with a message.
 */
async function extractAll(run: (args: string[]) => Promise<Run>, fixture: Fixture, dir: string, phase: string, fail: (what: string) => void, result: DamageResult, kind: string, salvageable: Set<string>): Promise<Map<string, boolean>> {
  let wrong = false;
  const outcomes = await Promise.all([...fixture.archives].map(async ([name, source]) => {
    const target = join(dir, `${phase}-${name}`);
    const r = await run(['extract', name, '--target', target]);
    const crash = crashOf(r);
    if (crash) fail(`extract ${name} (${phase} repair): ${crash}`);
    await mkdir(target, { recursive: true });
    const cmp = await compareTrees(target, await describeWithXattrs(target), source, fixture.blobs);
    const where = `extract ${name} (${phase} repair) exit ${r.code}`;
    if (cmp.wrong.length) {
      wrong = true;
      fail(`${where}: WRONG BYTES in ${cmp.wrong.join(', ')}`);
    }
    const zeroFilled = salvageable.has(name) && cmp.other.length === 0;
    if (r.code !== 2 && !cmp.exact && !zeroFilled) fail(`${where} but not exact: ${[...cmp.partial, ...cmp.other].slice(0, 3).join('; ')}`);
    if (r.code === 2) {
      const message = firstLine(r.stderr);
      if (!message) fail(`${where} without a message`);
      const set = result.messages.get(kind) ?? new Set();
      set.add(message.replace(/[0-9a-f]{16,}/g, '…').replace(/\d+/g, 'N'));
      result.messages.set(kind, set);
    }
    return [name, r.code !== 2 && (cmp.exact || zeroFilled)] as const;
  }));
  if (wrong) result.wrongBytes++;
  return new Map(outcomes);
}
