/**
 * Fault behaviour of the GCS backend against the local GCS server: the shared fault suite
 * (test/conformance/faults.ts: a key the server does not know, a missing bucket, GCS's 503/429
 * answers and refused connections through the harness's proxy), plus a relay cut and reopened
 * on the same port mid-run.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createGcsBackend } from '../../backends/gcs/index.js';
import { withRetry } from '../../src/store/with-retry.js';
import { withTimeout } from '../../src/store/with-timeout.js';
import { BackendError, TimeoutError, TransientError } from '../../src/store/errors.js';
import { faultSuite } from '../conformance/faults.js';
import { startHttpFaultProxy } from '../helpers/fault-proxy.js';
import { tryStartServer } from '../helpers/servers.js';
import { gcsEnv, gcsUrl } from './factories/gcs.js';

const server = await tryStartServer('gcs');
const scratch = mkdtempSync(join(tmpdir(), 'cairn-gcs-faults-'));
after(async () => {
  if (!(server instanceof Error)) await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});
const fast = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 100 };
const bytes = new Uint8Array([1, 2, 3, 4]);

/** A TCP relay to `target` that can be cut (connections refused and reset) and reopened on the same port. */
async function relay(target: URL): Promise<{ port: number; cut(): Promise<void>; reopen(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let srv: Server | undefined;
  let port = 0;
  const open = () => new Promise<void>((resolve, reject) => {
    srv = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); }
      // Either side closing closes the other, so a refused upstream is a reset, never a hang.
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => { port = (srv?.address() as { port: number }).port; resolve(); });
  });
  const cut = async () => {
    const s = srv;
    srv = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await open();
  return { port, cut, reopen: open, close: cut };
}

const oneLine = (err: BackendError) => assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);

if (server instanceof Error) {
  test('gcs faults: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const env = server.env;
  const endpoint = new URL(env.GCS_ENDPOINT as string);
  faultSuite('gcs', {
    make: (root, via) => createGcsBackend(gcsUrl(via ? { ...env, GCS_ENDPOINT: via.url } : env, root), { env: gcsEnv(env) }),
    makeWithBadCredentials: async (root) => {
      // The same service account, signed with a key the server does not know.
      const key = JSON.parse(readFileSync(env.GOOGLE_APPLICATION_CREDENTIALS as string, 'utf8')) as Record<string, string>;
      key.private_key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const wrong = join(scratch, 'wrong-key.json');
      writeFileSync(wrong, JSON.stringify(key), { mode: 0o600 });
      const backend = await createGcsBackend(gcsUrl(env, root), { env: { ...gcsEnv(env), GOOGLE_APPLICATION_CREDENTIALS: wrong } });
      return { backend, secrets: [key.private_key.split('\n')[1] as string] };
    },
    makeMissingRoot: () => createGcsBackend(gcsUrl({ ...env, GCS_BUCKET: 'no-such-bucket' }, 'root'), { env: gcsEnv(env) }),
    target: { host: endpoint.hostname, port: Number(endpoint.port) },
    proxy: 'gcs',
  });

  test('server unreachable mid-run: transient errors retried until it is back, then a clear error once retries are spent', async () => {
    const r = await relay(new URL(env.GCS_ENDPOINT as string));
    const viaRelay = { ...env, GCS_ENDPOINT: `http://127.0.0.1:${r.port}` };
    const b = await createGcsBackend(gcsUrl(viaRelay, 'unreachable'), { env: gcsEnv(env) });
    const retries: unknown[] = [];
    // The relay comes back after the second failed attempt: deterministic, whatever the jitter.
    let reopenAfter = 0;
    const policy = { ...fast, maxAttempts: 6 };
    const store = withRetry(b, {
      ...policy,
      onRetry: ({ error }) => { retries.push(error); if (retries.length === reopenAfter) void r.reopen(); },
    });
    try {
      await store.create();
      await store.put('k', bytes);
      await r.cut();
      reopenAfter = 2;
      assert.deepEqual(await store.get('k'), bytes);
      reopenAfter = 0;
      assert.ok(retries.length > 0, 'the outage was seen and retried');
      for (const err of retries) assert.ok(err instanceof TransientError, `retried ${String(err)}`);

      await r.cut();
      retries.length = 0;
      const err = await store.get('k').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TransientError, `got ${String(err)}`);
      assert.equal(err.code, 'ETRANSIENT');
      assert.equal(retries.length, policy.maxAttempts - 1, 'every attempt was made');
      oneLine(err);
      await r.reopen();
      await store.destroy();
    } finally {
      await store.close();
      await r.close();
    }
  });
}

if (!(server instanceof Error)) {
  const env = server.env;
  test('an answer reset mid-body: a get rejects with TransientError at once; a stat or list is cut by the timeout; nothing hangs', async () => {
    const proxy = await startHttpFaultProxy({ target: env.GCS_ENDPOINT as string, flavor: 'gcs' });
    const direct = await createGcsBackend(gcsUrl(env, 'reset-mid-body'), { env: gcsEnv(env) });
    const b = await createGcsBackend(gcsUrl({ ...env, GCS_ENDPOINT: proxy.url }, 'reset-mid-body'), { env: gcsEnv(env) });
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    try {
      await direct.create();
      await direct.put('big', big);
      for (let i = 0; i < 3; i++) await direct.put(`k${i}`, bytes);
      proxy.failAll('resetResponse');
      // No timeout wrapper here: the backend itself must settle every request.
      const within = (p: Promise<unknown>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still pending after 10 s')), 10_000).unref())]);
      for (const [what, call] of [
        ['get', () => b.get('big')],
        ['ranged get', () => b.get('big', { offset: 10, length: 150_000 })],
      ] as [string, () => Promise<unknown>][]) {
        const err = await within(call()).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof TransientError, `${what}: ${String(err)}`);
        oneLine(err);
      }
      // The SDK's JSON requests (metadata, listings) still go through node-fetch 2, which never
      // settles such an answer: the timeout wrapper must win over the stuck promise.
      const timed = withTimeout(b, 1_000);
      for (const [what, call] of [
        ['stat', () => timed.stat('big')],
        ['list', async () => { for await (const e of timed.list('')) void e; }],
      ] as [string, () => Promise<unknown>][]) {
        const err = await within(call()).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof TimeoutError, `${what}: ${String(err)}`);
        assert.equal(err.code, 'ETIMEOUT');
      }
      proxy.failAll(undefined);
      assert.deepEqual(await b.get('big'), big, 'the next request succeeds');
    } finally {
      proxy.failAll(undefined);
      await direct.destroy();
      await b.close();
      await direct.close();
      await proxy.close();
    }
  });
}

if (!(server instanceof Error)) {
  const env = server.env;
  test('a request the SDK itself times out (no status, no error code) is a transient TimeoutError, and withRetry rides it out', async () => {
    // The proxy holds the answer to one metadata GET: node-fetch under the SDK gives up after the
    // SDK's own per-request limit with a FetchError that has neither status nor errno.
    const proxy = await startHttpFaultProxy({ target: env.GCS_ENDPOINT as string, flavor: 'gcs', stallMs: 60_000 });
    const direct = await createGcsBackend(gcsUrl(env, 'sdk-timeout'), { env: gcsEnv(env) });
    const b = await createGcsBackend(gcsUrl({ ...env, GCS_ENDPOINT: proxy.url }, 'sdk-timeout'), { env: gcsEnv(env), requestTimeoutMs: 1_500 });
    try {
      await direct.create();
      await direct.put('k', bytes);
      assert.equal((await b.stat('k'))?.size, 4, 'through the relay');
      proxy.injectNext('head', 'stall');
      const started = Date.now();
      const err = await b.stat('k').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TimeoutError, String(err));
      assert.equal(err.transient, true);
      assert.ok(Date.now() - started < 15_000, 'cut by the SDK, not by the proxy');
      oneLine(err);
      proxy.injectNext('head', 'stall');
      assert.equal((await withRetry(b, fast).stat('k'))?.size, 4, 'the retry after the timeout succeeds');
      assert.equal(proxy.counts.injected.stall, 2);
    } finally {
      await direct.destroy();
      await b.close();
      await direct.close();
      await proxy.close();
    }
  });
}
