import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCrashTest } from './harness.js';
import { crashStore } from './stores.js';
import { inCI } from '../helpers/servers.js';

test('SIGKILL at random moments of writing and compacting: nothing damaged, nothing committed lost', async () => {
  const seed = 4242;
  const result = await runCrashTest({ runs: 24, mode: 'mixed', seed, maxDelayMs: 500 });
  assert.deepEqual(result.problems, [], `seed ${seed}`);
  assert.equal(result.runs, 24);
  assert.equal(result.damaged, 0);
  assert.equal(result.lost, 0);
});

// A short run on each remote backend (the killed child is a client of the local server); a long
// one is `npm run test:crash -- --backend s3 --runs 200` (docs/backends.md, Testing).
for (const [name, seed] of [['s3', 5151], ['sftp', 6161]] as const) {
  test(`SIGKILL of a ${name} client while it writes and compacts: nothing damaged, nothing committed lost`, async (t) => {
    let store;
    try {
      store = await crashStore(name, `crash-test-${seed}`);
    } catch (err) {
      if (inCI) throw err;
      return t.skip(String((err as Error).message).split('\n')[0]);
    }
    try {
      const result = await runCrashTest({ runs: 4, mode: 'mixed', seed, maxDelayMs: 1500, location: store.location, env: store.env });
      assert.deepEqual(result.problems, [], `seed ${seed}`);
      assert.equal(result.runs, 4);
      assert.equal(result.damaged + result.lost, 0);
    } finally {
      await store.stop();
    }
  });
}
