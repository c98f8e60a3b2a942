/**
 * `npm run test:damage -- --flips N [--seed S] [--jobs J] [--limit SECONDS] [--verbose]`: the damage
 * campaign (docs/reliability.md, "Damaged objects"). Builds a small repository through the built
 * `cairn`, then N times damages one object of it (a copy) and checks what `check`, `extract` and
 * `check --repair` make of it, J trials at once. A cairn run still going after `--limit` seconds
 * (default 60) is killed and counted as a hang. Prints `N trials, D detected, W wrong bytes restored,
 * S archives salvaged of H`, a breakdown by object kind and damage kind, and each failure with the
 * seed that replays its trial. Exit code 0 only when no wrong byte was restored and nothing crashed,
 * hung or went undetected while harmful.
 */
import { parseArgs } from 'node:util';
import { runDamageCampaign, type DamageResult } from './damage/harness.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    flips: { type: 'string', default: '100' },
    seed: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    limit: { type: 'string', default: '60' },
    verbose: { type: 'boolean', default: false },
  },
});
const flips = Number(values.flips);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
if (!Number.isInteger(flips) || flips < 1 || !Number.isInteger(seed) || seed < 0) {
  console.error('damage test: --flips must be a positive whole number and --seed a whole number');
  process.exit(2);
}
// The campaign runs the built executable (npm run build), as users run it.
process.env.CAIRN_TEST_BUILT ??= '1';
console.log(`damage test: ${flips} trials, seed ${seed}`);
const started = Date.now();
let shown = 0;
const result = await runDamageCampaign({
  flips, seed, jobs: Number(values.jobs), limitMs: Number(values.limit) * 1000,
  log: values.verbose ? (line) => console.log(line) : undefined,
  // Failures as they happen and a line every 5 trials: a long run stopped part-way (Ctrl-C, a deadline) still yields its figures.
  progress: (r) => {
    for (const f of r.failures.slice(shown)) console.log(f);
    shown = r.failures.length;
    if (r.trials % 5 === 0) console.log(`progress: ${summary(r)}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  },
});
console.log('\nobject kind × damage kind          trials detected (by check) harmless');
const cell = (n: number, width: number) => String(n).padStart(width);
for (const [name, row] of [...result.breakdown].sort()) console.log(`  ${name.padEnd(34)} ${cell(row.trials, 4)} ${cell(row.detected, 8)} ${cell(row.byCheck, 10)} ${cell(row.harmless, 8)}`);
if (values.verbose) {
  console.log('\nwhat a failed extract said, by object kind:');
  for (const [kind, set] of result.messages) for (const m of set) console.log(`  ${kind}: ${m}`);
}
if (result.failures.length) console.log(`\n${result.failures.length} failures (each printed above as it happened)`);
console.log(`\n${summary(result)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = result.failures.length === 0 && result.wrongBytes === 0 ? 0 : 1;

function summary(r: DamageResult): string {
  return `${r.trials} trials, ${r.detected} detected, ${r.wrongBytes} wrong bytes restored, ${r.salvaged} archives salvaged of ${r.harmedArchives}`;
}
