/**
 * openStore and the production wrapper stack: retry budget and Retry-After, permanent errors,
 * timeouts scaled by size, upload/download limits measured, and exact request accounting.
 */
import assert from 'node:assert/strict';
import { createServer, request, Agent, type Server } from 'node:http';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import {
  BackendError, NotFoundError, RequestCounter, RETRY_DEFAULTS, TIMEOUT_DEFAULTS, TimeoutError, TransientError, composeBackend,
  defaultLimits, faulty, openStore, requestTimeout, withAccounting, withRetry, withTimeout, type Backend,
} from '../../src/store/index.js';

const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

/** A memory backend whose `stat` fails transiently `failures` times with `retryAfterMs`, then works. */
function busy(failures: number, retryAfterMs: number): Backend & { tries: number } {
  const mem = createMemoryBackend();
  const b = Object.assign(Object.create(mem) as Backend, { tries: 0 });
  b.stat = async (key: string) => {
    b.tries++;
    if (b.tries <= failures) throw new TransientError('503 SlowDown', { backend: 'test', key, retryAfterMs });
    return mem.stat(key);
  };
  return b;
}

test('the default retry budget is a time (15 min), not a small count', async () => {
  assert.equal(RETRY_DEFAULTS.maxElapsedMs, 15 * 60_000);
  assert.equal(RETRY_DEFAULTS.maxAttempts, Infinity);
  // Lasting failure under a 300 ms budget: far more than the old 6 tries, and it ends within the budget.
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'stat' }] });
  const started = performance.now();
  await assert.rejects(withRetry(f, { ...fast, maxElapsedMs: 300 }).stat('k'), (e) => e instanceof TransientError && e.code === 'ETRANSIENT');
  const elapsed = performance.now() - started;
  assert.ok(f.stats.calls.stat > 6, `${f.stats.calls.stat} tries`);
  assert.ok(elapsed >= 250 && elapsed < 1500, `${elapsed} ms`);
});

test('Retry-After is honoured: the wait is at least what the service asked for', async () => {
  const b = busy(2, 150);
  const delays: number[] = [];
  const started = performance.now();
  assert.equal(await withRetry(b, { ...fast, onRetry: (i) => delays.push(i.delayMs) }).stat('k'), undefined);
  assert.equal(b.tries, 3);
  assert.deepEqual(delays, [150, 150]);
  assert.ok(performance.now() - started >= 290);
});

test('a Retry-After beyond the remaining budget fails at once instead of sleeping past it', async () => {
  const b = busy(5, 60_000);
  const started = performance.now();
  await assert.rejects(withRetry(b, { ...fast, maxElapsedMs: 1000 }).stat('k'), (e) => e instanceof TransientError && e.retryAfterMs === 60_000);
  assert.equal(b.tries, 1);
  assert.ok(performance.now() - started < 500);
});

test('permanent errors are not retried, whatever the budget', async () => {
  const f = faulty(createMemoryBackend(), { rules: [{ op: 'put', kind: 'permanent' }] });
  await assert.rejects(withRetry(f, fast).put('k', bytes(1)), (e) => e instanceof BackendError && !e.transient);
  assert.equal(f.stats.calls.put, 1);
});

test('timeouts scale with the bytes a request moves; a HEAD gets a short one', () => {
  const p = { ...TIMEOUT_DEFAULTS };
  assert.equal(requestTimeout({ op: 'stat' }, p), 30_000);
  assert.equal(requestTimeout({ op: 'delete' }, p), 30_000);
  assert.equal(requestTimeout({ op: 'list' }, p), 60_000);
  assert.equal(requestTimeout({ op: 'put', bytes: 0 }, p), 60_000);
  // 32 MiB at the slowest rate still taken for progress (64 KiB/s): 512 s more than the base.
  assert.equal(requestTimeout({ op: 'put', bytes: 32 * 1024 * 1024 }, p), 60_000 + 512_000);
  assert.equal(requestTimeout({ op: 'get', range: { offset: 5, length: 64 * 1024 } }, p), 61_000);
  assert.equal(requestTimeout({ op: 'get' }, p), 60_000 + 512_000);
});

test('a large slow put is not cut off while a small hung request is', async () => {
  const mem = createMemoryBackend();
  // A link moving 1 MiB/s: a put takes its size / 1 MiB/s.
  const slow: Backend = Object.assign(Object.create(mem) as Backend, {
    put: async (key: string, value: Uint8Array, o?: { signal?: AbortSignal }) => {
      await new Promise((r) => setTimeout(r, (value.length / (1024 * 1024)) * 1000));
      o?.signal?.throwIfAborted();
      return mem.put(key, value);
    },
  });
  const timed = withTimeout(slow, { baseMs: 100, shortMs: 50, minBytesPerSecond: 512 * 1024 });
  await timed.put('big', bytes(300 * 1024)); // ≈ 290 ms on the wire, allowed 100 + 586 ms
  assert.equal((await mem.stat('big'))?.size, 300 * 1024);
  // The same put under one fixed limit of the base alone times out.
  await assert.rejects(withTimeout(slow, 100).put('big2', bytes(300 * 1024)), TimeoutError);
  const hung = faulty(mem, { rules: [{ op: 'stat', kind: 'hang' }] });
  const started = performance.now();
  await assert.rejects(withTimeout(hung, { baseMs: 5000, shortMs: 50 }).stat('big'), TimeoutError);
  assert.ok(performance.now() - started < 1000);
});

test('upload bandwidth limit is measured; downloads have their own', async () => {
  const store = await openStore('memory:', { uploadBytesPerSecond: 512 * 1024 });
  await store.create();
  const started = performance.now();
  // 1.5 MiB at 512 KiB/s, one second's worth may burst: at least 2 s.
  for (let i = 0; i < 3; i++) await store.put(`k${i}`, bytes(512 * 1024));
  const upSeconds = (performance.now() - started) / 1000;
  assert.ok(upSeconds >= 1.9 && upSeconds < 4, `${upSeconds} s`);
  const down = performance.now();
  for (let i = 0; i < 3; i++) await store.get(`k${i}`);
  assert.ok(performance.now() - down < 500, 'downloads are not held by the upload limit');
  const limited = await openStore('memory:', { downloadBytesPerSecond: 1024 * 1024 });
  await limited.create();
  for (let i = 0; i < 3; i++) await limited.put(`k${i}`, bytes(1024 * 1024));
  const t = performance.now();
  for (let i = 0; i < 3; i++) await limited.get(`k${i}`);
  const downSeconds = (performance.now() - t) / 1000;
  assert.ok(downSeconds >= 1.9 && downSeconds < 4, `${downSeconds} s`);
});

test('uploads and downloads have separate connection limits, defaulting from capabilities', async () => {
  assert.deepEqual(defaultLimits({ rangeReads: true, ifAbsent: true, maxConnections: 64 }),
    { uploadConnections: 16, downloadConnections: 64, uploadBytesPerSecond: 0, downloadBytesPerSecond: 0, retryBudgetMs: 900_000, timeoutMs: 60_000, minBytesPerSecond: 65_536 });
  assert.equal(defaultLimits({ rangeReads: true, ifAbsent: true, maxConnections: 8 }).uploadConnections, 2);
  const f = faulty(createMemoryBackend(), { latencyMs: 20 });
  const b = composeBackend(f, { uploadConcurrency: 1, downloadConcurrency: 3, retry: false });
  await Promise.all(Array.from({ length: 4 }, (_, i) => b.put(`k${i}`, bytes(1))));
  assert.equal(f.stats.maxInFlight, 1);
  await Promise.all([...Array.from({ length: 6 }, (_, i) => b.get(`k${i % 4}`)), b.put('x', bytes(1))]);
  assert.equal(f.stats.maxInFlight, 4, 'three downloads and one upload at once');
});

test('accounting counts every try by kind, the retries and the bytes exactly', async () => {
  const mem = createMemoryBackend();
  const f = faulty(mem, { rules: [{ op: 'put', nth: [1, 2] }, { op: 'get', nth: 2 }] });
  const counter = new RequestCounter();
  const b = composeBackend(f, { counter, retry: fast });
  await b.put('a', bytes(1000));
  await b.put('b', bytes(24));
  assert.equal((await b.get('a')).length, 1000);
  assert.equal((await b.get('b', { offset: 4, length: 10 })).length, 10);
  assert.equal((await b.stat('a'))?.size, 1000);
  await assert.rejects(b.get('missing'), NotFoundError);
  await b.delete('b');
  const keys: string[] = [];
  for await (const e of b.list('')) keys.push(e.key);
  assert.deepEqual(keys, ['a']);
  assert.deepEqual(counter.usage(), {
    requests: { get: 4, put: 4, list: 1, head: 1, delete: 1 },
    retries: 3,
    bytesUp: 3 * 1000 + 24,
    bytesDown: 1010,
  });
  assert.deepEqual(Object.keys(counter.usage()), ['requests', 'retries', 'bytesUp', 'bytesDown']);
  assert.equal(counter.total, 11);
});

test('openStore counts through the whole stack, retries of an ifAbsent put included', async () => {
  const store = await openStore('memory:', { retry: fast });
  await store.create();
  await store.put('config', bytes(5), { ifAbsent: true });
  assert.deepEqual(store.counter.usage(), { requests: { get: 0, put: 2, list: 0, head: 0, delete: 0 }, retries: 0, bytesUp: 5, bytesDown: 0 });
});

/** A tiny HTTP "store": every request answers 200 with the body `ok`. */
async function httpServer(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, seen };
}

test('over HTTP, accounting counts the real HTTP requests of each call (pages, parts, follow-ups)', async () => {
  const { server, port, seen } = await httpServer();
  const agent = new Agent({ keepAlive: true });
  const send = (method: string, path: string) => new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end();
  });
  const mem = createMemoryBackend();
  // A backend whose calls each send several HTTP requests, like an SDK (multipart, paging, fetch).
  const http: Backend = Object.assign(Object.create(mem) as Backend, {
    put: async (key: string, v: Uint8Array) => { await send('POST', `/${key}?uploads`); await Promise.all([send('PUT', '/p1'), send('PUT', '/p2')]); await send('POST', `/${key}?complete`); return mem.put(key, v); },
    get: async (key: string) => { await new Promise((r) => setTimeout(r, 5)); await send('GET', `/${key}`); return mem.get(key); },
    stat: async (key: string) => { await send('HEAD', `/${key}`); return mem.stat(key); },
    delete: async (key: string) => { await send('DELETE', `/${key}`); return mem.delete(key); },
    list: async function* (prefix: string) { await send('GET', '/?list&page=1'); await send('GET', '/?list&page=2'); yield* mem.list(prefix); },
    create: async () => { await send('HEAD', '/'); await send('PUT', '/'); },
    destroy: async () => { await send('GET', '/?list'); await send('POST', '/?delete'); },
  });
  try {
    const counter = new RequestCounter();
    const b = composeBackend(http, { counter, http: true, retry: false });
    await b.create();
    await b.put('a', bytes(3));
    await b.get('a');
    await b.stat('a');
    await b.delete('a');
    for await (const _ of b.list('')) { /* drain */ }
    await b.destroy();
    // Requests started outside any store call are not counted.
    await send('GET', '/elsewhere');
    assert.equal(seen.length, 14);
    assert.deepEqual(counter.usage().requests, { get: 1, put: 5, list: 3, head: 2, delete: 2 });
    assert.equal(counter.total, seen.length - 1);
    // A call that never sent a request counts nothing.
    const bare = withAccounting(mem, counter, { http: true });
    await bare.stat('nothing');
    assert.equal(counter.total, 13);
  } finally {
    agent.destroy();
    server.close();
  }
});
