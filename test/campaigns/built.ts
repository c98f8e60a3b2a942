/**
 * The campaigns kill and starve the real `cairn` executable: this builds it (dist/, as
 * test/run.mjs does) unless CAIRN_TEST_BUILT is already set, then sets CAIRN_TEST_BUILT=1 so
 * test/cli/helpers.ts runs the built file. CAIRN_TEST_BUILT=0 runs the sources through tsx.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from '../cli/helpers.js';

export function ensureBuilt(): void {
  if (process.env.CAIRN_TEST_BUILT !== undefined) return;
  const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed: fix it (npm run build) or run with CAIRN_TEST_BUILT=0');
  process.env.CAIRN_TEST_BUILT = '1';
}
