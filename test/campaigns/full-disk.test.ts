// The full-disk campaign (npm run test:full-disk): the repository, the cache folder and the restore
// target on small tmpfs file systems that fill up. Needs root and mount: in CI their absence fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inCI } from '../helpers/servers.js';
import { missingCapability, runFullDisk } from './full-disk.js';

test('full disks: repository during create and compact, cache folder during create, restore target during extract', async (t) => {
  const missing = missingCapability();
  if (missing) {
    if (inCI) assert.fail(missing);
    return t.skip(missing);
  }
  const results = await runFullDisk((line) => console.log(line));
  assert.equal(results.length, 4);
  for (const r of results) assert.deepEqual(r.problems, [], r.name);
});
