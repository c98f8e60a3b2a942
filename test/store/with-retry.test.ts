/** withRetry, driven by faulty: transient failures are retried, permanent ones are not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { AlreadyExistsError, BackendError, NotFoundError, TransientError, faulty, seededRandom, withRetry } from '../../src/store/index.js';

const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const bytes = (s: string) => new TextEncoder().encode(s);

test('retry recovers from transient failures', async () => {
  const mem = createMemoryBackend();
  await mem.put('k', bytes('value'));
  const f = faulty(mem, { rules: [{ op: 'get', nth: [1, 2, 3] }] });
  assert.deepEqual(await withRetry(f, fast).get('k'), bytes('value'));
  assert.equal(f.stats.calls.get, 4);
  assert.equal(f.stats.faults, 3);
});

test('retry gives up at once on permanent failures', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'put', kind: 'permanent' }] });
  await assert.rejects(withRetry(f, fast).put('k', bytes('x')), (err) => err instanceof BackendError && err.code === 'EBACKEND' && !err.transient);
  assert.equal(f.stats.calls.put, 1);
  const g = faulty(createMemoryBackend());
  await assert.rejects(withRetry(g, fast).get('missing'), NotFoundError);
  assert.equal(g.stats.calls.get, 1);
});

test('retry gives up after maxAttempts on a lasting transient failure', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'stat' }] });
  await assert.rejects(withRetry(f, { ...fast, maxAttempts: 4 }).stat('k'), (err) => err instanceof TransientError && err.code === 'ETRANSIENT');
  assert.equal(f.stats.calls.stat, 4);
});

test('retry gives up when the next wait would pass maxElapsedMs', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'stat' }] });
  const started = performance.now();
  await assert.rejects(withRetry(f, { baseDelayMs: 40, maxDelayMs: 40, maxAttempts: 100, maxElapsedMs: 100, random: () => 0.999 }).stat('k'), TransientError);
  assert.ok(f.stats.calls.stat <= 4, `${f.stats.calls.stat} tries`);
  assert.ok(performance.now() - started < 1000);
});

test('backoff is exponential with full jitter under the cap', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'delete' }] });
  const delays: number[] = [];
  await assert.rejects(withRetry(f, { baseDelayMs: 1, maxDelayMs: 8, maxAttempts: 6, random: () => 0.999, onRetry: (i) => delays.push(i.delayMs) }).delete('k'));
  assert.deepEqual(delays, [0, 1, 3, 7, 7]);
  const jittered: number[] = [];
  const random = seededRandom(42);
  await assert.rejects(withRetry(f, { baseDelayMs: 100, maxDelayMs: 100, maxAttempts: 4, random: () => random() * 0.05, onRetry: (i) => jittered.push(i.delayMs) }).delete('k'));
  assert.equal(jittered.length, 3);
  for (const d of jittered) assert.ok(d >= 0 && d < 5);
});

test('a retry wait is cut short by the request signal', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'get' }] });
  const controller = new AbortController();
  const started = performance.now();
  const call = withRetry(f, { baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 0.999 }).get('k', undefined, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('stop')), 20);
  await assert.rejects(call, { message: 'stop' });
  assert.ok(performance.now() - started < 2000);
  assert.equal(f.stats.calls.get, 1);
});

test('ifAbsent put whose reply was lost succeeds on retry when the stored bytes are ours', async () => {
  const mem = createMemoryBackend();
  const f = faulty(mem, { rules: [{ op: 'put', nth: 1, when: 'after' }] });
  await withRetry(f, fast).put('lock', bytes('mine'), { ifAbsent: true });
  assert.deepEqual(await mem.get('lock'), bytes('mine'));
  assert.equal(f.stats.calls.put, 2);
  // Someone else's object under the key is still a refusal.
  const g = faulty(mem, { rules: [{ op: 'put', nth: 1 }] });
  await assert.rejects(withRetry(g, fast).put('lock', bytes('theirs'), { ifAbsent: true }), AlreadyExistsError);
});

test('a listing that breaks part-way resumes without repeating or losing keys', async () => {
  const mem = createMemoryBackend();
  const keys = Array.from({ length: 50 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
  for (const key of keys) await mem.put(key, bytes(key));
  const f = faulty(mem, { rules: [{ op: 'list', nth: [5, 6, 30] }] });
  const seen: string[] = [];
  for await (const entry of withRetry(f, fast).list('k/')) seen.push(entry.key);
  assert.deepEqual(seen, keys);
  assert.equal(f.stats.faults, 3);
});
