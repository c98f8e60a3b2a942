// Adversarial item sequences cannot make extraction change anything outside its target (ADR 0043).
// A bounded number of runs here; `npm run fuzz:extract -- --runs N` runs many more.
import { test } from 'node:test';
import { runExtractionProperty } from './helpers/extract-property.js';

const runs = Number(process.env.CAIRN_EXTRACT_RUNS ?? 120);

test(`${runs} random item sequences extracted next to an outside tree leave it unchanged`, async () => {
  await runExtractionProperty({ runs });
});
