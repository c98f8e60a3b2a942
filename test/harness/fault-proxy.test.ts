/**
 * The fault proxies of test/helpers/fault-proxy.ts, against small real servers: every fault does
 * what it claims (reaches the server or not, the service's own error body, Retry-After), the
 * counts are exact, the draws are seeded, and 100 % failure fails everything.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { after, test } from 'node:test';
import { requestKind, startHttpFaultProxy, startTcpFaultProxy, type Flavor } from '../helpers/fault-proxy.js';

const seen: string[] = [];
const origin = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => { body += c.toString(); });
  req.on('end', () => {
    seen.push(`${req.method} ${req.url} ${body.length}`);
    const answer = 'x'.repeat(10_000);
    res.writeHead(200, { 'content-length': String(answer.length) });
    res.end(req.method === 'HEAD' ? undefined : answer);
  });
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
after(() => new Promise<void>((r) => origin.close(() => r())));

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }
function send(url: string, method: string, path: string, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false, headers: { 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a plain relay forwards everything and counts by method, by kind and bytes', async () => {
  const proxy = await startHttpFaultProxy({ target, flavor: 's3' });
  try {
    seen.length = 0;
    assert.equal((await send(proxy.url, 'PUT', '/b/k', 'hello')).status, 200);
    assert.equal((await send(proxy.url, 'GET', '/b/k')).body.length, 10_000);
    await send(proxy.url, 'GET', '/b?list-type=2');
    await send(proxy.url, 'HEAD', '/b/k');
    await send(proxy.url, 'DELETE', '/b/k');
    assert.deepEqual(proxy.counts.byMethod, { PUT: 1, GET: 2, HEAD: 1, DELETE: 1 });
    assert.deepEqual(proxy.counts.byKind, { get: 1, put: 1, list: 1, head: 1, delete: 1, bucket: 0, other: 0 });
    assert.equal(proxy.counts.forwarded, 5);
    assert.equal(proxy.counts.bytesUp, 5);
    assert.equal(proxy.counts.bytesDown, 40_000, "every answer but HEAD has 10 000 bytes");
    assert.equal(seen.length, 5);
  } finally { await proxy.close(); }
});

test('busy answers carry each service\'s own error, with and without Retry-After, and never reach the server', async () => {
  const expected: Record<Flavor, RegExp[]> = {
    s3: [/<Code>SlowDown<\/Code>/, /<Code>TooManyRequests<\/Code>/],
    gcs: [/"reason":"backendError"/, /"reason":"rateLimitExceeded"/],
    azure: [/<Code>ServerBusy<\/Code>/, /<Code>OperationTimedOut<\/Code>/],
  };
  for (const flavor of ['s3', 'gcs', 'azure'] as const) {
    const proxy = await startHttpFaultProxy({ target, flavor, rates: { busy: 1 }, retryAfterSeconds: 2 });
    try {
      seen.length = 0;
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await send(proxy.url, 'PUT', '/b/k', 'data'));
      assert.deepEqual(answers.map((a) => a.headers['retry-after']), ['2', undefined, '2', undefined]);
      assert.ok(answers.every((a) => a.status >= 429), flavor);
      assert.match(answers[0]!.body, expected[flavor][0]!);
      assert.match(answers[2]!.body, expected[flavor][1]!);
      if (flavor === 'azure') assert.equal(answers[0]!.headers['x-ms-error-code'], 'ServerBusy');
      assert.equal(seen.length, 0);
      assert.equal(proxy.counts.injected.busy, 4);
      assert.equal(proxy.counts.forwarded, 0);
    } finally { await proxy.close(); }
  }
});

test('resets: a request reset never reaches the server, a response reset does, and the client sees an error', async () => {
  const proxy = await startHttpFaultProxy({ target, flavor: 's3', rates: { resetRequest: 1 } });
  try {
    seen.length = 0;
    await assert.rejects(send(proxy.url, 'PUT', '/b/k', 'y'.repeat(100_000)), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' || e.code === 'EPIPE');
    assert.equal(seen.length, 0);
    proxy.setFaults({ resetResponse: 1 });
    await assert.rejects(send(proxy.url, 'GET', '/b/k'), (e: NodeJS.ErrnoException) => ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(e.code ?? '') || /aborted/.test(e.message));
    assert.equal(seen.length, 1, 'the request reached the server');
    assert.deepEqual(proxy.counts.injected, { busy: 0, resetRequest: 1, resetResponse: 1, stall: 0, stallBody: 0, conflict: 0 });
  } finally { await proxy.close(); }
});

test('a stall holds the request, then cuts the connection after stallMs', async () => {
  const proxy = await startHttpFaultProxy({ target, flavor: 'gcs', rates: { stall: 1 }, stallMs: 300 });
  try {
    const t0 = Date.now();
    await assert.rejects(send(proxy.url, 'GET', '/storage/v1/b/b/o/k?alt=media'));
    assert.ok(Date.now() - t0 >= 250, `held ${Date.now() - t0} ms`);
    assert.equal(proxy.counts.byKind.get, 1);
  } finally { await proxy.close(); }
});

test('draws are seeded: the same seed injects the same faults in the same order; failAll fails every request', async () => {
  const run = async (seed: number) => {
    const proxy = await startHttpFaultProxy({ target, flavor: 's3', seed, rates: { busy: 0.3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 30; i++) statuses.push((await send(proxy.url, 'GET', '/b/k')).status);
      return statuses;
    } finally { await proxy.close(); }
  };
  const a = await run(7);
  assert.deepEqual(await run(7), a);
  assert.ok(a.some((s) => s === 200) && a.some((s) => s !== 200));
  assert.notDeepEqual(await run(8), a);

  const proxy = await startHttpFaultProxy({ target, flavor: 'azure' });
  try {
    proxy.failAll('busy');
    for (let i = 0; i < 10; i++) assert.equal((await send(proxy.url, 'GET', '/c/k')).status >= 500, true);
    proxy.failAll(undefined);
    assert.equal((await send(proxy.url, 'GET', '/c/k')).status, 200);
  } finally { await proxy.close(); }
});

test('request kinds follow each API', () => {
  const k = (f: Flavor, m: string, u: string) => requestKind(f, m, new URL(u, 'http://h'));
  assert.equal(k('s3', 'POST', '/b?delete'), 'delete');
  assert.equal(k('gcs', 'GET', '/storage/v1/b/b/o?prefix=x'), 'list');
  assert.equal(k('gcs', 'GET', '/storage/v1/b/b/o/k'), 'head');
  assert.equal(k('gcs', 'GET', '/storage/v1/b/b/o/k?alt=media'), 'get');
  assert.equal(k('gcs', 'POST', '/upload/storage/v1/b/b/o?uploadType=multipart'), 'put');
  assert.equal(k('azure', 'GET', '/acct/c?restype=container&comp=list'), 'list');
  assert.equal(k('azure', 'GET', '/acct/c/k'), 'get');
  assert.equal(k('azure', 'GET', '/acct/c?restype=container'), 'bucket');
  assert.equal(k('gcs', 'GET', '/storage/v1/b/b'), 'bucket');
  assert.equal(k('s3', 'HEAD', '/b'), 'bucket');
  assert.equal(k('s3', 'HEAD', '/b/k'), 'head');
});

test('the TCP proxy relays bytes, resets a connection mid-stream, and refuses every connection at 100 %', async () => {
  const echo = createTcpServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const port = (echo.address() as { port: number }).port;
  const proxy = await startTcpFaultProxy({ host: '127.0.0.1', port, seed: 3 });
  const exchange = (bytes: number) => new Promise<number>((resolve, reject) => {
    const s = connect(proxy.port, '127.0.0.1');
    let got = 0;
    s.on('data', (c) => { got += c.length; if (got >= bytes) s.end(); });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(Buffer.alloc(bytes, 1));
  });
  try {
    assert.equal(await exchange(100_000), 100_000);
    assert.equal(proxy.counts.bytesUp, 100_000);
    assert.equal(proxy.counts.bytesDown, 100_000);
    proxy.setFaults({ resetResponse: 1 });
    await assert.rejects(exchange(600_000), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
    assert.equal(proxy.counts.injected.reset, 1);
    proxy.setFaults({});
    proxy.failAll(true);
    await assert.rejects(exchange(10), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
    assert.equal(proxy.counts.injected.refused, 1);
    assert.equal(proxy.counts.connections, 3);
  } finally {
    await proxy.close();
    await new Promise<void>((r) => echo.close(() => r()));
  }
});
