/**
 * `npm run test:full-disk`: the full-disk campaign (test/campaigns/full-disk.ts) as root: mounts
 * small tmpfs file systems, fills them under the repository, the cache folder and the restore
 * target, and prints one line per scenario, then `full disk: N scenarios, F failing`.
 * Exit 0 only when every scenario behaved as docs/reliability.md ("Full disks") promises.
 */
import { ensureBuilt } from './built.js';
import { missingCapability, runFullDisk } from './full-disk.js';

const missing = missingCapability();
if (missing) {
  console.error(`full-disk campaign: ${missing}`);
  process.exit(2);
}
ensureBuilt();
const started = Date.now();
const results = await runFullDisk((line) => console.log(line));
const failing = results.filter((r) => r.problems.length > 0).length;
console.log(`full disk: ${results.length} scenarios, ${failing} failing (${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = failing === 0 ? 0 : 1;
