/**
 * `npm run test:crash -- --backend fs --runs N [--mode write|compact|mixed] [--seed S] [--max-delay MS]`:
 * kills a writing (or compacting) child N times and prints `N runs, D damaged, L lost`.
 * Exit code 0 only when nothing was damaged or lost.
 */
import { parseArgs } from 'node:util';
import { runCrashTest } from './harness.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    backend: { type: 'string', default: 'fs' },
    runs: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'mixed' },
    seed: { type: 'string' },
    'max-delay': { type: 'string', default: '400' },
    verbose: { type: 'boolean', default: false },
  },
});
if (values.backend !== 'fs') {
  console.error(`crash test: backend "${values.backend}" is not supported (a killed process must leave its data behind): use --backend fs`);
  process.exit(2);
}
const mode = values.mode as 'write' | 'compact' | 'mixed';
if (!['write', 'compact', 'mixed'].includes(mode)) {
  console.error('crash test: --mode must be write, compact or mixed');
  process.exit(2);
}
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
console.log(`crash test: backend fs, mode ${mode}, seed ${seed}`);
const result = await runCrashTest({
  runs: Number(values.runs), mode, seed, maxDelayMs: Number(values['max-delay']),
  log: values.verbose ? (line) => console.log(line) : undefined,
});
for (const p of result.problems) console.log(p);
console.log(`${result.runs} runs, ${result.damaged} damaged, ${result.lost} lost`);
process.exitCode = result.damaged + result.lost === 0 ? 0 : 1;
