/**
 * `npm run test:crash -- --backend fs|s3|sftp --runs N [--mode write|compact|mixed] [--seed S] [--max-delay MS]`:
 * kills a writing (or compacting) child N times and prints `N runs, D damaged, L lost`.
 * `s3` and `sftp` start the local server of localstack/ (s3rver behind its front layer, OpenSSH
 * sshd) for the run; the killed child is a real client process of that server.
 * Prints `progress: R/N runs, D damaged, L lost, T s` every 10 runs.
 * Exit code 0 only when nothing was damaged or lost. A long run: `--runs 200`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runCrashTest } from './harness.js';
import { crashStore } from './stores.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    backend: { type: 'string', default: 'fs' },
    runs: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'mixed' },
    seed: { type: 'string' },
    'max-delay': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const backend = values.backend as string;
if (!['fs', 's3', 'sftp'].includes(backend)) {
  console.error(`crash test: backend "${backend}" is not supported: use --backend fs, s3 or sftp`);
  process.exit(2);
}
const mode = values.mode as 'write' | 'compact' | 'mixed';
if (!['write', 'compact', 'mixed'].includes(mode)) {
  console.error('crash test: --mode must be write, compact or mixed');
  process.exit(2);
}
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
// Remote requests take longer than local files: the kill window widens so it still lands mid-work.
const maxDelayMs = Number(values['max-delay'] ?? (backend === 'fs' ? 400 : 1500));
console.log(`crash test: backend ${backend}, mode ${mode}, seed ${seed}`);
const store = backend === 'fs' ? undefined : await crashStore(backend, `crash-${seed}-${randomBytes(4).toString('hex')}`);
const started = Date.now();
try {
  const result = await runCrashTest({
    runs: Number(values.runs), mode, seed, maxDelayMs, location: store?.location, env: store?.env,
    log: values.verbose ? (line) => console.log(line) : undefined,
    // A line every 10 runs: a long run stopped part-way (Ctrl-C, a deadline) still yields its figures.
    progress: (r, ms) => console.log(`progress: ${r.runs}/${values.runs} runs, ${r.damaged} damaged, ${r.lost} lost, ${(ms / 1000).toFixed(0)} s`),
  });
  for (const p of result.problems) console.log(p);
  console.log(`${result.runs} runs, ${result.damaged} damaged, ${result.lost} lost (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  process.exitCode = result.damaged + result.lost === 0 ? 0 : 1;
} finally {
  await store?.stop();
}
