/**
 * `npm run test:kill -- --runs N [--backend fs|s3] [--op create|prune-compact|repair|passphrase|transfer|all] [--seed S] [--minutes M] [--verbose]`:
 * SIGKILLs the real `cairn` executable N times at random moments of the chosen operations (all of
 * them in turn by default) and prints, per op and backend,
 * `OP on BACKEND: N kills, D damaged, L archives lost, K keys unusable`.
 * `s3` starts the local s3 server of localstack/ for the run. Exit 0 only when every figure but
 * the kills is 0. `--minutes M` stops after M minutes with the figures so far. Long runs: `nice -n 10 npm run test:kill -- --runs 200 --backend s3`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { crashStore } from '../crash/stores.js';
import { ensureBuilt } from './built.js';
import { OPS, runKillCampaign, summaryLine, type Op } from './kill.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    backend: { type: 'string', default: 'fs' },
    runs: { type: 'string', default: '20' },
    op: { type: 'string', default: 'all' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const backend = values.backend as string;
if (!['fs', 's3'].includes(backend)) {
  console.error(`kill campaign: backend "${backend}" is not supported: use --backend fs or s3`);
  process.exit(2);
}
const op = values.op as string;
if (op !== 'all' && !(OPS as readonly string[]).includes(op)) {
  console.error(`kill campaign: --op must be all or one of ${OPS.join(', ')}`);
  process.exit(2);
}
const kills = Number(values.runs);
if (!Number.isInteger(kills) || kills < 1) {
  console.error('kill campaign: --runs must be a whole number of kills, at least 1');
  process.exit(2);
}
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
ensureBuilt();
console.log(`kill campaign: backend ${backend}, op ${op}, seed ${seed}`);
const tag = `kill-${seed}-${randomBytes(4).toString('hex')}`;
const store = backend === 'fs' ? undefined : await crashStore(backend, `${tag}-main`);
const started = Date.now();
let shown = 0; // problems printed so far (with the progress lines, so a stopped run still shows them)
try {
  const result = await runKillCampaign({
    kills, seed, budgetMs: values.minutes === undefined ? undefined : Number(values.minutes) * 60_000, ops: op === 'all' ? OPS : [op as Op],
    stores: store ? { main: store.location, other: store.at(`${tag}-other`), env: store.env } : undefined,
    log: values.verbose ? (line) => console.log(line) : undefined,
    progress: (r, ms) => {
      for (; shown < r.problems.length; shown++) console.log(r.problems[shown]);
      console.log(`progress: ${Object.entries(r.byOp).map(([o, f]) => `${o} ${f.kills}/${f.damaged}/${f.lost}/${f.keysUnusable}`).join(', ')} (kills/damaged/lost/keys), ${(ms / 1000).toFixed(0)} s`);
    },
  });
  for (const p of result.problems.slice(shown)) console.log(p);
  const leftovers = Object.entries(result.leftovers).map(([k, n]) => `${n} ${k}`).join(', ');
  if (leftovers) console.log(`check warnings seen (documented leftovers): ${leftovers}`);
  let bad = 0;
  for (const [o, f] of Object.entries(result.byOp)) {
    console.log(`${o} on ${backend}: ${summaryLine(f)}`);
    bad += f.damaged + f.lost + f.keysUnusable;
  }
  console.log(`total: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = bad === 0 && result.problems.length === 0 ? 0 : 1;
} finally {
  await store?.stop();
}
