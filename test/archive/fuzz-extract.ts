// Long run of the adversarial extraction property: `npm run fuzz:extract -- --runs 5000 [--seed N]`.
// Prints the seed (to replay a failure), the runs, items, warnings by code and the time taken.
import { parseArgs } from 'node:util';
import { runExtractionProperty, type Tally } from './helpers/extract-property.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5000' }, seed: { type: 'string' } } });
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const tally: Tally = { runs: 0, items: 0, warnings: new Map() };
const started = performance.now();
console.log(`extraction property: ${values.runs} runs, seed ${seed}`);
try {
  await runExtractionProperty({ runs: Number(values.runs), seed, tally });
} finally {
  const seconds = (performance.now() - started) / 1000;
  console.log(`runs ${tally.runs}, items ${tally.items}, ${seconds.toFixed(1)} s (${(seconds * 1000 / Math.max(1, tally.runs)).toFixed(1)} ms/run)`);
  console.log(`warnings: ${[...tally.warnings].map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}`);
}
