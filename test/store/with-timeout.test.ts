/** withTimeout, driven by faulty: a hung call is cancelled and rejects with TimeoutError. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { TimeoutError, faulty, withTimeout, type Backend, type OpOptions } from '../../src/store/index.js';

test('a hung call is aborted and rejects with TimeoutError', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'get', kind: 'hang' }] });
  const started = performance.now();
  const err = await withTimeout(f, 50).get('k').then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof TimeoutError && err.code === 'ETIMEOUT' && err.transient);
  assert.ok(performance.now() - started < 1000);
  assert.equal(f.stats.inFlight, 0, 'the hung call saw the abort and ended, not left running');
});

test('a call that ignores its signal still rejects on time', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'put', kind: 'hang-deaf' }] });
  const started = performance.now();
  await assert.rejects(withTimeout(f, 50).put('k', new Uint8Array(1)), TimeoutError);
  assert.ok(performance.now() - started < 1000);
});

test('the signal reaching the backend aborts with the TimeoutError', async () => {
  const mem = createMemoryBackend();
  let seen: AbortSignal | undefined;
  const slow: Backend = Object.assign(Object.create(mem) as Backend, {
    stat: (_key: string, options?: { signal?: AbortSignal }) => {
      seen = options?.signal;
      return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300));
    },
  });
  await assert.rejects(withTimeout(slow, 30).stat('k'), TimeoutError);
  assert.ok(seen?.aborted);
  assert.ok(seen?.reason instanceof TimeoutError);
});

test('calls that finish in time pass through with their result or error', async () => {
  const mem = createMemoryBackend();
  await mem.put('k', new Uint8Array([1, 2, 3]));
  const b = withTimeout(faulty(mem, { latencyMs: 5 }), 1000);
  assert.deepEqual(await b.get('k'), new Uint8Array([1, 2, 3]));
  await assert.rejects(b.get('missing'), { code: 'ENOTFOUND_KEY' });
  const keys: string[] = [];
  for await (const e of b.list('')) keys.push(e.key);
  assert.deepEqual(keys, ['k']);
});

test('a hung listing step times out', async () => {
  const mem = createMemoryBackend();
  for (const k of ['a', 'b', 'c']) await mem.put(k, new Uint8Array(1));
  const f = faulty(mem, { rules: [{ op: 'list', nth: 2, kind: 'hang' }] });
  const seen: string[] = [];
  await assert.rejects(async () => { for await (const e of withTimeout(f, 50).list('')) seen.push(e.key); }, TimeoutError);
  assert.deepEqual(seen, ['a']);
});

/**
 * A backend that reports progress and sends a get's bytes in `pieces` pieces, `everyMs` apart,
 * stopping for good after `stallAfter` pieces (if given).
 */
function trickling(pieces: number, everyMs: number, stallAfter?: number): Backend {
  const mem = createMemoryBackend();
  return Object.assign(Object.create(mem) as Backend, {
    capabilities: { ...mem.capabilities, reportsProgress: true },
    get: (_key: string, _range: unknown, options?: OpOptions) => new Promise<Uint8Array>((resolve, reject) => {
      options?.onProgress?.(0);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent === stallAfter) return;
        options?.onProgress?.(1024);
        if (++sent === pieces) { clearInterval(timer); resolve(new Uint8Array(pieces * 1024)); }
      }, everyMs);
      options?.signal?.addEventListener('abort', () => { clearInterval(timer); reject(options.signal?.reason); }, { once: true });
    }),
  });
}

test('a get that reports progress is timed by it: a stall is cut after baseMs, whatever the assumed size', async () => {
  // The old rule would allow 100 + 32 MiB at 1 MiB/s = 32 s.
  const b = withTimeout(trickling(100, 10, 3), { baseMs: 100, minBytesPerSecond: 1024 * 1024 });
  const started = performance.now();
  const err = await b.get('k').then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 100 && elapsed < 1000, `cut after ${elapsed} ms`);
});

test('a get that keeps arriving is not cut, even past baseMs plus the assumed size at the minimum rate', async () => {
  // 40 KiB over ~400 ms at ≥ 1 KiB per 10 ms: well above 8 KiB/s; the assumed-size rule (baseMs 100 +
  // 1 KiB at 8 KiB/s = 225 ms) would have cut it.
  const b = withTimeout(trickling(40, 10), { baseMs: 100, minBytesPerSecond: 8 * 1024, assumedGetBytes: 1024 });
  assert.equal((await b.get('k')).length, 40 * 1024);
});

test('a get slower than minBytesPerSecond is cut once it falls behind', async () => {
  // 1 KiB per 50 ms = 20 KiB/s against a minimum of 1 MiB/s: behind after baseMs + a few ms.
  const b = withTimeout(trickling(100, 50), { baseMs: 100, minBytesPerSecond: 1024 * 1024 });
  const started = performance.now();
  await assert.rejects(b.get('k'), TimeoutError);
  assert.ok(performance.now() - started < 1000);
});
