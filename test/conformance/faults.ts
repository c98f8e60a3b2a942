/**
 * The one fault suite every remote backend runs (sftp, s3, gcs, azure): `faultSuite(name, harness)`
 * registers the scenarios each backend must meet against its real local server. Each backend's
 * `*-faults.test.ts` builds the harness and adds only what is truly its own (sftp host keys, the
 * s3 upload killed mid-way, the azure tier, the gcs relay).
 *
 * - wrong credentials: `PermissionError` (EPERMISSION) in one line, not transient, never retried,
 *   the secret never shown;
 * - a store that does not exist: `StoreMissingError` (ENO_REPOSITORY_STORE) in one line for every
 *   call; `destroy()` of it succeeds;
 * - the service failing (its own throttling answers over HTTP, resets over SSH), through the
 *   test harness's fault proxy: each try fails with `TransientError`, the retry wrapper rides
 *   it out once the service recovers, and reports one clear `TransientError` once its tries are
 *   spent;
 * - the server unreachable (connections refused): `TransientError` after every try.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../../src/store/backend.js';
import { PermissionError, StoreMissingError, TransientError } from '../../src/store/errors.js';
import { withRetry } from '../../src/store/with-retry.js';
import { startHttpFaultProxy, startTcpFaultProxy, type Flavor, type HttpFaultProxy, type TcpFaultProxy } from '../helpers/fault-proxy.js';

export interface FaultHarness {
  /** A new client on store `root` of the server, reaching it at `via` (a proxy on 127.0.0.1) when given. */
  make(root: string, via?: { port: number; url: string }): Promise<Backend>;
  /** A client whose credentials the server refuses, and the secret that must never be shown. */
  makeWithBadCredentials(root: string): Promise<{ backend: Backend; secrets: string[] }>;
  /** A client on a store (bucket, container, folder) that does not exist. */
  makeMissingRoot(): Promise<Backend>;
  /** Where the server listens, for a fault proxy in front of it. */
  target: { host: string; port: number };
  /** The proxy to use: the service's HTTP flavour, or `tcp` (SSH). */
  proxy: Flavor | 'tcp';
  /**
   * `stat` on a missing store answers "no such object" instead of StoreMissingError: S3's answer
   * to a HEAD has no body, so NoSuchBucket and NoSuchKey look the same.
   */
  statCannotTellMissingStore?: boolean;
}

const bytes = new Uint8Array([1, 2, 3, 4]);
const fast = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

const oneLine = (err: Error) => assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
const failure = (call: () => Promise<unknown>) => call().then(() => undefined, (e: unknown) => e);
const calls = (b: Backend, withStat = true) => [
  () => b.get('k'), () => b.put('k', bytes), ...(withStat ? [() => b.stat('k')] : []), () => b.delete('k'),
  async () => { for await (const e of b.list('')) void e; },
];

async function startProxy(h: FaultHarness): Promise<{ proxy: HttpFaultProxy | TcpFaultProxy; fail(on: boolean): void; via: { port: number; url: string } }> {
  if (h.proxy === 'tcp') {
    const proxy = await startTcpFaultProxy({ host: h.target.host, port: h.target.port });
    return { proxy, fail: (on) => proxy.failAll(on), via: { port: proxy.port, url: `tcp://127.0.0.1:${proxy.port}` } };
  }
  const proxy = await startHttpFaultProxy({ target: `http://${h.target.host}:${h.target.port}`, flavor: h.proxy, retryAfterSeconds: 0 });
  return { proxy, fail: (on) => proxy.failAll(on ? 'busy' : undefined), via: { port: proxy.port, url: proxy.url } };
}

export function faultSuite(name: string, h: FaultHarness): void {
  describe(`faults: ${name}`, () => {
    test('wrong credentials: PermissionError in one line, not retried, no secret shown', async () => {
      const { backend, secrets } = await h.makeWithBadCredentials('perm');
      let retries = 0;
      const b = withRetry(backend, { ...fast, onRetry: () => { retries += 1; } });
      try {
        for (const call of [() => b.get('k'), () => b.put('k', bytes), () => b.stat('k'), () => b.create()]) {
          const err = await failure(call);
          assert.ok(err instanceof PermissionError, `got ${String(err)}`);
          assert.equal(err.code, 'EPERMISSION');
          assert.equal(err.transient, false);
          oneLine(err);
          for (const s of secrets) assert.ok(!err.message.includes(s), 'the secret is not shown');
        }
        assert.equal(retries, 0);
      } finally {
        await b.close();
      }
    });

    test('a store that does not exist: StoreMissingError in one line for every call; destroy() succeeds', async () => {
      const b = await h.makeMissingRoot();
      try {
        for (const call of calls(b, !h.statCannotTellMissingStore)) {
          const err = await failure(call);
          assert.ok(err instanceof StoreMissingError, `got ${String(err)}`);
          assert.equal(err.code, 'ENO_REPOSITORY_STORE');
          oneLine(err);
        }
        await b.destroy();
      } finally {
        await b.close();
      }
    });

    test('the service failing: each try is a TransientError, ridden out once it recovers, one clear error once tries are spent', async () => {
      const { proxy, fail, via } = await startProxy(h);
      const raw = await h.make('failing', via);
      const retried: unknown[] = [];
      let recoverAfter = 0;
      const b = withRetry(raw, { ...fast, maxAttempts: 6, onRetry: ({ error }) => {
        retried.push(error);
        if (retried.length === recoverAfter) fail(false);
      } });
      try {
        await b.create();
        await b.put('k', bytes);
        fail(true);
        for (const call of calls(raw).slice(0, 3)) {
          const err = await failure(call);
          assert.ok(err instanceof TransientError, `got ${String(err)}`);
          assert.equal(err.code, 'ETRANSIENT');
          oneLine(err);
        }
        recoverAfter = 2;
        assert.deepEqual(new Uint8Array(await b.get('k')), bytes);
        assert.equal(retried.length, 2, 'retried until the service recovered');
        for (const err of retried) assert.ok(err instanceof TransientError, `retried ${String(err)}`);

        fail(true);
        recoverAfter = 0;
        retried.length = 0;
        const spent = withRetry(raw, fast);
        const err = await failure(() => spent.stat('k'));
        assert.ok(err instanceof TransientError, `got ${String(err)}`);
        oneLine(err);
        fail(false);
        await b.destroy();
      } finally {
        await b.close();
        await proxy.close();
      }
    });

    test('the server unreachable: every try is made, then one clear TransientError', async () => {
      const { proxy, via } = await startProxy(h);
      const raw = await h.make('unreachable', via);
      await proxy.close(); // connections to its port are now refused
      let attempts = 0;
      const b = withRetry(raw, { ...fast, onRetry: () => { attempts += 1; } });
      try {
        for (const call of [() => b.get('k'), () => b.put('k2', bytes), () => b.stat('k')]) {
          attempts = 0;
          const err = await failure(call);
          assert.ok(err instanceof TransientError, `got ${String(err)}`);
          assert.equal(err.code, 'ETRANSIENT');
          oneLine(err);
          assert.equal(attempts, fast.maxAttempts - 1, 'every try was made');
        }
      } finally {
        await b.close();
      }
    });
  });
}
