/** withConcurrencyLimit: the number of requests in flight never exceeds the limit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { faulty, withConcurrencyLimit } from '../../src/store/index.js';

test('never more than n requests in flight, and the limit is reached', async () => {
  const mem = createMemoryBackend();
  const f = faulty(mem, { latencyMs: { min: 1, max: 8 }, seed: 7 });
  const b = withConcurrencyLimit(f, 4);
  await Promise.all(Array.from({ length: 60 }, (_, i) => b.put(`k/${i}`, new Uint8Array(i))));
  await Promise.all([
    ...Array.from({ length: 30 }, (_, i) => b.get(`k/${i}`)),
    ...Array.from({ length: 30 }, (_, i) => b.stat(`k/${i}`)),
    ...Array.from({ length: 10 }, (_, i) => b.delete(`k/${i + 50}`)),
  ]);
  assert.equal(f.stats.maxInFlight, 4);
  assert.equal(f.stats.inFlight, 0);
});

test('a listing holds a slot only per step, so reads inside the loop do not deadlock', async () => {
  const mem = createMemoryBackend();
  for (const k of ['a', 'b', 'c']) await mem.put(k, new Uint8Array([k.charCodeAt(0)]));
  const f = faulty(mem);
  const b = withConcurrencyLimit(f, 1);
  const got: number[] = [];
  for await (const e of b.list('')) got.push(...(await b.get(e.key)));
  assert.deepEqual(got, [97, 98, 99]);
  assert.equal(f.stats.maxInFlight, 1);
});

test('a request aborted while queued never starts', async () => {
  const f = faulty(createMemoryBackend(), { latencyMs: 30 });
  const b = withConcurrencyLimit(f, 1);
  const controller = new AbortController();
  const first = b.stat('a');
  const second = b.stat('b', { signal: controller.signal });
  controller.abort(new Error('cancelled'));
  await first;
  await assert.rejects(second, { message: 'cancelled' });
  assert.equal(f.stats.calls.stat, 1);
});

test('an invalid limit is refused', () => {
  assert.throws(() => withConcurrencyLimit(createMemoryBackend(), 0), RangeError);
});
