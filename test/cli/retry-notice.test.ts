/**
 * The retry lines on stderr (src/cli/retry-notice.ts), driven by the retry wrapper's own listeners
 * over a backend that fails on purpose: one line per streak however many requests fail in it, a
 * reminder at most every 5 minutes, a recovery line once every failing request has succeeded.
 * (test/cli/remote-stalls.test.ts checks the same lines through the executable.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { TransientError, withRetry, type Backend } from '../../src/store/index.js';
import { REMINDER_MS, formatDuration, retryNotices } from '../../src/cli/retry-notice.js';
import type { CliIO } from '../../src/cli/io.js';

/** A memory backend whose puts fail (transient) while `down()` says so. */
function flaky(down: () => boolean): Backend {
  const mem = createMemoryBackend();
  return Object.assign(Object.create(mem) as Backend, {
    put: (key: string, bytes: Uint8Array) => (down() ? Promise.reject(new TransientError(`memory put ${key}: SlowDown`, { backend: 'memory', key })) : mem.put(key, bytes)),
  });
}

test('many requests failing together give one line, then one recovery line', async () => {
  const lines: string[] = [];
  const clock = 0;
  const notices = retryNotices({ err: (t: string) => lines.push(t), isTTY: false } as unknown as CliIO, () => clock);
  let failures = 0;
  const b = withRetry(flaky(() => failures++ < 12), { baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 60_000, ...notices });
  await Promise.all(Array.from({ length: 4 }, (_, i) => b.put(`k${i}`, new Uint8Array([i]))));
  assert.equal(lines.length, 2, lines.join(''));
  assert.match(lines[0] as string, /^cairn: memory put k\d: SlowDown; retrying for up to (59|1m)/);
  assert.match(lines[1] as string, /^cairn: the store answers again: recovered after 12 retries in 0s\n$/);
});

test('a long streak adds at most one reminder per 5 minutes', () => {
  const lines: string[] = [];
  let clock = 0;
  const notices = retryNotices({ err: (t: string) => lines.push(t), isTTY: false } as unknown as CliIO, () => clock);
  const error = new TransientError('s3 get index/x: InternalError', { backend: 's3' });
  for (let attempt = 1; attempt <= 40; attempt++) {
    notices.onRetry({ op: 'get', key: 'index/x', attempt, delayMs: 30_000, error, elapsedMs: clock, budgetMs: 15 * 60_000 });
    clock += 30_000; // 40 retries over 20 minutes
  }
  notices.onRecovered({ op: 'get', key: 'index/x', retries: 40, elapsedMs: clock });
  // The first failure, reminders at 5, 10 and 15 minutes (REMINDER_MS apart), the recovery.
  assert.equal(REMINDER_MS, 5 * 60_000);
  assert.equal(lines.length, 5, lines.join(''));
  assert.match(lines[1] as string, /^cairn: still retrying after 5m \(11 retries so far; last: s3 get index\/x: InternalError; up to 10m more\)\n$/);
  assert.match(lines.at(-1) as string, /recovered after 40 retries in 20m\n$/);
});

test('durations read as people write them', () => {
  assert.deepEqual([0, 45_000, 60_000, 870_000, 3_720_000].map(formatDuration), ['0s', '45s', '1m', '14m 30s', '1h 2m']);
});
