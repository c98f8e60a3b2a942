// A short run of the damage campaign (test/campaigns/damage.ts; the long one is `npm run test:damage -- --flips 1000`):
// 18 trials, two of each object kind, through the real cairn executable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDamageCampaign } from './damage/harness.js';
import { OBJECT_KINDS } from './damage/objects.js';

test('damage campaign: one damaged object per trial is detected or harmless, never a wrong byte, a crash or a hang; repair keeps the rest', async () => {
  const seed = 9000;
  const flips = 2 * OBJECT_KINDS.length;
  // A run still going after 2 minutes is a hang (the campaign's default is 60 s; CI machines run two suites at once).
  const result = await runDamageCampaign({ flips, seed, jobs: 2, limitMs: 120_000 });
  const summary = `${result.trials} trials, ${result.detected} detected, ${result.wrongBytes} wrong bytes restored, ${result.salvaged} archives salvaged of ${result.harmedArchives}`;
  console.log(summary);
  assert.deepEqual(result.failures, [], summary);
  assert.equal(result.trials, flips);
  assert.equal(result.wrongBytes, 0);
  const kinds = new Set([...result.breakdown.keys()].map((cell) => cell.split(' × ')[0]));
  assert.deepEqual([...kinds].sort(), [...OBJECT_KINDS].sort());
  assert.match(summary, /^18 trials, \d+ detected, 0 wrong bytes restored, \d+ archives salvaged of \d+$/);
});
