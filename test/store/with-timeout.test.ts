/** withTimeout, driven by faulty: a hung call is cancelled and rejects with TimeoutError. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { TimeoutError, faulty, withTimeout, type Backend } from '../../src/store/index.js';

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
