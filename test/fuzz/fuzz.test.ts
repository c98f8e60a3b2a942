// The short fuzz run of `npm test`: every target over seeds from real repositories in the four modes, up to 50
// mutated inputs or 0.8 s per target. FUZZ_RUNS and FUZZ_SEED replay or lengthen a run;
// `npm run fuzz` is the long run.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runTarget } from './harness.js';
import { buildCorpus } from './seeds.js';
import { makeTargets } from './targets.js';

const runs = Number(process.env.FUZZ_RUNS ?? 50);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const corpus = await buildCorpus();
after(() => corpus.close());

for (const target of await makeTargets(corpus)) {
  test(`fuzz ${target.name}: valid value or a typed error, in bounded time and memory`, async () => {
    const stats = await runTarget(target, { runs, seed, timeLimitMs: process.env.FUZZ_RUNS ? undefined : 800 });
    assert.ok(stats.runs > 0);
  });
}
