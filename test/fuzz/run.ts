// The long fuzz run (`npm run fuzz -- --runs N` or `--time SECONDS`, per target; `--target PREFIX`, `--seed N`).
// The targets run in a child process watched from here: a target silent for longer than its budget plus a
// margin is a hang, reported with its seed and the child killed (a synchronous loop cannot be interrupted
// from inside). Prints one line per target and a table; exit 1 on any failure or hang.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTarget, type RunStats } from './harness.js';
import { buildCorpus } from './seeds.js';
import { makeTargets } from './targets.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' }, time: { type: 'string' }, target: { type: 'string' }, seed: { type: 'string' },
    hang: { type: 'string' }, child: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  },
});
const usage = 'usage: npm run fuzz -- [--runs N] [--time SECONDS] [--target PREFIX] [--seed N] [--hang SECONDS]\n  (per target; default --runs 2000; a target silent for its budget + --hang seconds (default 120) is a hang)';

interface Line { start?: string; seed?: number; stats?: RunStats; failure?: { target: string; seed: number; message: string } }

async function child(): Promise<void> {
  const runs = values.runs === undefined ? (values.time ? undefined : 2000) : Number(values.runs);
  const timeLimitMs = values.time === undefined ? undefined : Number(values.time) * 1000;
  const corpus = await buildCorpus();
  let failed = false;
  try {
    for (const target of await makeTargets(corpus)) {
      if (values.target && !target.name.startsWith(values.target)) continue;
      const seed = values.seed === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(values.seed);
      process.stdout.write(JSON.stringify({ start: target.name, seed } satisfies Line) + '\n');
      try {
        process.stdout.write(JSON.stringify({ stats: await runTarget(target, { runs, timeLimitMs, seed }) } satisfies Line) + '\n');
      } catch (error) {
        failed = true;
        process.stdout.write(JSON.stringify({ failure: { target: target.name, seed, message: (error as Error).message } } satisfies Line) + '\n');
      }
    }
  } finally {
    await corpus.close();
  }
  process.exitCode = failed ? 1 : 0;
}

async function parent(): Promise<number> {
  const budget = values.time ? Number(values.time) * 1000 : Number(values.runs ?? 2000) * 50;
  const silence = budget + Number(values.hang ?? 120) * 1000;
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...process.argv.slice(2)];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const all: RunStats[] = [];
  const failures: NonNullable<Line['failure']>[] = [];
  let current: Line | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      failures.push({ target: current?.start ?? '(corpus)', seed: current?.seed ?? 0, message: `no progress for ${silence / 1000} s: a hang (replay with --target ${current?.start} --seed ${current?.seed})` });
      proc.kill('SIGKILL');
    }, silence);
  };
  arm();
  let pending = '';
  proc.stdout.on('data', (data: Buffer) => {
    pending += data.toString();
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const line = JSON.parse(pending.slice(0, i)) as Line;
      pending = pending.slice(i + 1);
      arm();
      if (line.start) current = line;
      if (line.stats) {
        all.push(line.stats);
        const s = line.stats;
        console.log(`${s.target.padEnd(38)} ${String(s.runs).padStart(7)} inputs ${(s.ms / 1000).toFixed(1).padStart(7)} s  slowest ${s.slowestMs.toFixed(0).padStart(5)} ms  rss +${s.memoryGrowthMiB.toFixed(0).padStart(4)} MiB  excluded ${JSON.stringify(s.excluded)}  seed ${s.seed}`);
      }
      if (line.failure) failures.push(line.failure);
    }
  });
  const code = await new Promise<number>((done) => proc.on('close', (c) => done(c ?? 1)));
  clearTimeout(timer);
  const total = all.reduce((n, s) => n + s.runs, 0);
  console.log(`\n${all.length} targets, ${total} inputs, ${(all.reduce((n, s) => n + s.ms, 0) / 1000).toFixed(0)} s, ${failures.length} failure(s)`);
  for (const f of failures) console.log(`\nFAILED ${f.target} (seed ${f.seed}): ${f.message}`);
  return failures.length > 0 || code !== 0 ? 1 : 0;
}

if (values.help) console.log(usage);
else if (values.child) await child();
else process.exitCode = await parent();
