/** readOnly, withRateLimit and faulty itself. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { CrashError, InvalidKeyError, ReadOnlyError, TokenBucket, TransientError, faulty, readOnly, withRateLimit } from '../../src/store/index.js';

test('readOnly refuses every write and passes reads', async () => {
  const mem = createMemoryBackend();
  await mem.put('k', new Uint8Array([1]));
  const b = readOnly(mem);
  await assert.rejects(b.put('k', new Uint8Array([2])), (e) => e instanceof ReadOnlyError && e.code === 'EREADONLY');
  await assert.rejects(b.delete('k'), ReadOnlyError);
  await assert.rejects(b.create(), ReadOnlyError);
  await assert.rejects(b.destroy(), ReadOnlyError);
  await assert.rejects(b.put('.bad', new Uint8Array(1)), InvalidKeyError);
  assert.deepEqual(await b.get('k'), new Uint8Array([1]));
  assert.equal((await b.stat('k'))?.size, 1);
});

test('token bucket: bursts up to capacity, then waits rate-proportionally', () => {
  let now = 0;
  const bucket = new TokenBucket(1000, 1000, () => now);
  assert.equal(bucket.reserve(600), 0);
  assert.equal(bucket.reserve(400), 0);
  assert.equal(bucket.reserve(500), 500);
  now += 500;
  assert.equal(bucket.reserve(0), 0);
  now += 10_000;
  assert.equal(bucket.reserve(3000), 2000, 'saved tokens are capped at capacity');
});

test('withRateLimit holds put and get bytes to the rate', async () => {
  const b = withRateLimit(createMemoryBackend(), 200_000);
  const started = performance.now();
  await b.put('a', new Uint8Array(150_000)); // within the first second's burst
  await b.put('b', new Uint8Array(100_000)); // 50 000 bytes of debt → 250 ms
  assert.equal((await b.get('a', { offset: 0, length: 20_000 })).length, 20_000); // + 100 ms
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 300 && elapsed < 1500, `${elapsed} ms`);
});

test('faulty: nth and seeded probability are reproducible; after-faults reach the backend', async () => {
  const runs: number[][] = [];
  for (let r = 0; r < 2; r++) {
    const f = faulty(createMemoryBackend(), { seed: 99, rules: [{ op: 'stat', probability: 0.3 }] });
    const failed: number[] = [];
    for (let i = 0; i < 40; i++) await f.stat('k').catch((e: unknown) => { assert.ok(e instanceof TransientError); failed.push(i); });
    runs.push(failed);
  }
  assert.deepEqual(runs[0], runs[1]);
  assert.ok((runs[0]?.length ?? 0) > 4 && (runs[0]?.length ?? 0) < 25);

  const mem = createMemoryBackend();
  const f = faulty(mem, { rules: [{ op: 'put', nth: 2, when: 'after' }, { op: 'put', key: (k) => k === 'x/never', kind: 'permanent' }] });
  await f.put('a', new Uint8Array(1));
  await assert.rejects(f.put('b', new Uint8Array(1)), TransientError);
  assert.equal((await mem.stat('b'))?.size, 1, 'the write happened, only the reply was lost');
  await assert.rejects(f.put('x/never', new Uint8Array(1)), { code: 'EBACKEND' });
  assert.equal(await mem.stat('x/never'), undefined);
});

test('faulty: a crash calls the hook, throws CrashError and the backend stays dead', async () => {
  const hooked: string[] = [];
  const mem = createMemoryBackend();
  const f = faulty(mem, { rules: [{ op: 'put', nth: 3, kind: 'crash' }], onCrash: (op, key) => hooked.push(`${op} ${key}`) });
  await f.put('a', new Uint8Array(1));
  await f.put('b', new Uint8Array(1));
  await assert.rejects(f.put('c', new Uint8Array(1)), CrashError);
  assert.deepEqual(hooked, ['put c']);
  await assert.rejects(f.get('a'), CrashError);
  assert.equal(await mem.stat('c'), undefined);
  assert.ok(f.stats.crashed);
});
