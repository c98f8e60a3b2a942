import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCrashTest } from './harness.js';

test('SIGKILL at random moments of writing and compacting: nothing damaged, nothing committed lost', async () => {
  const seed = 4242;
  const result = await runCrashTest({ runs: 24, mode: 'mixed', seed, maxDelayMs: 500 });
  assert.deepEqual(result.problems, [], `seed ${seed}`);
  assert.equal(result.runs, 24);
  assert.equal(result.damaged, 0);
  assert.equal(result.lost, 0);
});
