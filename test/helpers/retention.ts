/**
 * What the object-retention tests (test/cli/s3-objectlock.test.ts, gcs-retention.test.ts) share:
 * the period they give a repository, waiting out a retention the store reported, and the last
 * compactions that must leave nothing postponed once every retention has run out.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ok } from '../cli/helpers.js';

/**
 * The retention period of the test repositories, in seconds (`--retention-period 30s` needs
 * CAIRN_TEST_SHORT_RETENTION=1). Each wait lasts about this long, so it is short; yet every step
 * that must still find an object retained runs within it: after the first backup, the second and
 * `delete` (and `prune`) of the first; after a `compact`, the next one. That is three cairn
 * commands, a few seconds each on a loaded CI machine (20 s proved too short under a load of 16).
 */
export const TEST_RETENTION_SECONDS = 30;

/** Waits until the ISO instant `until` (plus a margin for the two clocks) has passed. */
export async function waitUntilPast(until: string): Promise<void> {
  const ms = Date.parse(until) - Date.now() + 300;
  if (ms > 0) await sleep(ms);
}

/**
 * After a `compact` that postponed deleting objects until `until`: waits that out and compacts
 * again; the earlier runs wrote objects of their own, so if that run postpones some too, waits for
 * those and compacts once more. Asserts that nothing is left postponed.
 */
export async function compactOnceRetentionEnds(url: string, env: NodeJS.ProcessEnv, until: string): Promise<void> {
  await waitUntilPast(until);
  let last = JSON.parse(await ok(['-r', url, '--json', 'compact'], { env }));
  if (last.repository.postponed.objects > 0) {
    await waitUntilPast(last.repository.postponed.until);
    last = JSON.parse(await ok(['-r', url, '--json', 'compact'], { env }));
  }
  assert.equal(last.repository.postponed.objects, 0);
}
