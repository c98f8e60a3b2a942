/**
 * Fault-injecting network proxies the tests put between a client (the cairn executable, rclone,
 * a library backend) and a local server of localstack/. Both listen on 127.0.0.1 and forward only
 * to a loopback target.
 *
 * HTTP (s3, gcs, azure): each request the proxy receives is counted by method and by kind
 * (get/put/list/head/delete, as the service's API defines it), then, by a seeded draw, either
 * forwarded untouched or answered with one fault:
 *   - `busy`: the service's own throttling answer, with or without `Retry-After` (alternately):
 *     s3 503 `SlowDown` / 429 `TooManyRequests` XML, gcs 503 `backendError` / 429
 *     `rateLimitExceeded` JSON, azure 503 `ServerBusy` / 500 `OperationTimedOut` XML (with
 *     `x-ms-error-code`). The request body is read first and never reaches the server.
 *   - `resetRequest`: the connection is destroyed after part of the request body (or the headers)
 *     arrived; nothing reaches the server.
 *   - `resetResponse`: the request reaches the server (so it may take effect), the answer's
 *     headers and part of its body are sent, then the connection is destroyed (an answer without
 *     a body: destroyed before the headers).
 *   - `stall`: the request is held without an answer for `stallMs`, then the connection is
 *     destroyed (nothing reaches the server); a client's request timeout must cancel it.
 *   - `stallBody`: the request reaches the server, the answer's headers and half its body are
 *     sent, then nothing more until the client closes the connection (an answer without a body:
 *     held before the headers); a client's request timeout must cancel it.
 *   - `conflict` (s3 only, never drawn by rate: `injectNext` only): 409 `ConditionalRequestConflict`,
 *     AWS's answer to a conditional write that raced with another write of the same key ("you
 *     can retry the request"). The request body is read first and never reaches the server.
 * `injectNext(kind, fault, n)` gives the next n requests of one kind a fault, whatever the rates.
 * `failAll` answers every request with a fault of the chosen kind (100 % failure).
 *
 * TCP (sftp): bytes are relayed both ways; by a seeded draw per connection, the connection is
 * reset after a random number of bytes or stalled for `stallMs`; `failAll` resets every new
 * connection at once; `stallNext(bytes)` stalls the next connection after that many bytes. SSH is encrypted, so the TCP proxy counts connections and bytes, not requests.
 */
import { Buffer } from 'node:buffer';
import { type IncomingMessage, type ServerResponse, Agent, createServer, request } from 'node:http';
import { type Socket, connect, createServer as createTcpServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { seededRandom } from '../../src/store/index.js';

export type Flavor = 's3' | 'gcs' | 'azure';
/**
 * `bucket`: a request about the bucket or container itself (its metadata, its creation), not
 * about objects; a client attributes these to the call that needed them.
 */
export type RequestKind = 'get' | 'put' | 'list' | 'head' | 'delete' | 'bucket' | 'other';
export type Fault = 'busy' | 'resetRequest' | 'resetResponse' | 'stall' | 'stallBody' | 'conflict';

/** Probability of each fault per request (HTTP) or per connection (TCP: resetResponse and stall). */
export interface FaultRates { busy?: number; resetRequest?: number; resetResponse?: number; stall?: number; stallBody?: number }

export interface HttpCounts {
  /** Every request received, by HTTP method (forwarded or answered with a fault). */
  byMethod: Record<string, number>;
  /** Every request received, by API kind. */
  byKind: Record<RequestKind, number>;
  /** Requests that reached the server. */
  forwarded: number;
  /** Answers of the server to forwarded requests, by HTTP status. */
  byStatus: Record<number, number>;
  /** Faults injected, by kind. */
  injected: Record<Fault, number>;
  bytesUp: number;
  bytesDown: number;
}

export interface HttpFaultProxy {
  /** `http://127.0.0.1:PORT`: use it as the service endpoint. */
  url: string;
  port: number;
  counts: HttpCounts;
  /** Sets the fault rates (all 0 = a plain relay); `failAll` overrides them. */
  setFaults(rates: FaultRates): void;
  /** Every request fails with `fault` (undefined: back to the rates). */
  failAll(fault: Fault | undefined): void;
  /** The next `count` requests of `kind` get `fault`, before any rate is drawn. */
  injectNext(kind: RequestKind, fault: Fault, count?: number): void;
  resetCounts(): void;
  close(): Promise<void>;
}


function assertLoopback(target: URL | string) {
  const host = typeof target === 'string' ? target : target.hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`fault proxy: target ${host} is not a loopback address`);
}

/** The API kind of an HTTP request to `flavor`'s service. */
export function requestKind(flavor: Flavor, method: string, url: URL): RequestKind {
  const q = url.searchParams;
  if (flavor === 's3' && url.pathname.split('/').slice(2).join('/') === '' && !(method === 'GET' && q.has('list-type')) && !(method === 'POST' && q.has('delete'))) return 'bucket';
  if (flavor === 'gcs' && /^\/storage\/v1\/b(\/[^/]+)?\/?$/.test(url.pathname)) return 'bucket';
  if (flavor === 'azure' && q.get('restype') === 'container' && q.get('comp') !== 'list') return 'bucket';
  if (method === 'HEAD') return 'head';
  if (method === 'DELETE') return 'delete';
  if (flavor === 's3') {
    const key = url.pathname.split('/').slice(2).join('/');
    if (method === 'GET') return key === '' ? 'list' : 'get';
    if (method === 'PUT') return 'put';
    if (method === 'POST') return q.has('delete') ? 'delete' : 'put'; // DeleteObjects; multipart create/complete
  } else if (flavor === 'gcs') {
    // JSON API: /storage/v1/b/B/o (list), /storage/v1/b/B/o/KEY (metadata), /download/... or ?alt=media (media),
    // /upload/storage/v1/b/B/o (uploads).
    if (url.pathname.startsWith('/upload/')) return 'put';
    if (method === 'GET') {
      if (/\/b\/[^/]+\/o\/?$/.test(url.pathname)) return 'list';
      if (/\/b\/[^/]+\/o\/.+/.test(url.pathname) && q.get('alt') !== 'media' && !url.pathname.startsWith('/download/')) return 'head';
      return 'get';
    }
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') return 'put';
  } else {
    if (method === 'GET') return q.get('comp') === 'list' ? 'list' : q.has('comp') ? 'head' : 'get';
    if (method === 'PUT') return 'put';
    if (method === 'POST') return q.get('comp') === 'batch' ? 'delete' : 'put';
  }
  return 'other';
}

const newCounts = (): HttpCounts => ({
  byMethod: {},
  byKind: { get: 0, put: 0, list: 0, head: 0, delete: 0, bucket: 0, other: 0 },
  forwarded: 0,
  injected: { busy: 0, resetRequest: 0, resetResponse: 0, stall: 0, stallBody: 0, conflict: 0 },
  byStatus: {},
  bytesUp: 0,
  bytesDown: 0,
});

/** The service's own "busy" answer; `alternate` picks its second form (429 / OperationTimedOut). */
function busyAnswer(flavor: Flavor, alternate: boolean): { status: number; headers: Record<string, string>; body: string } {
  const id = randomBytes(8).toString('hex');
  if (flavor === 's3') {
    const [status, code, message] = alternate ? [429, 'TooManyRequests', 'Please reduce your request rate.'] : [503, 'SlowDown', 'Please reduce your request rate.'];
    return { status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${id}</RequestId></Error>` };
  }
  if (flavor === 'gcs') {
    const [status, reason, message] = alternate
      ? [429, 'rateLimitExceeded', 'The rate of change requests to the object is too high.']
      : [503, 'backendError', 'We encountered an internal error. Please try again.'];
    return { status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } }) };
  }
  const [status, code, message] = alternate
    ? [500, 'OperationTimedOut', 'Operation could not be completed within the specified time.']
    : [503, 'ServerBusy', 'The server is busy.'];
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-ms-error-code': code, 'x-ms-request-id': id },
    body: `\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${id}\nTime:${new Date().toISOString()}</Message></Error>`,
  };
}

/**
 * Starts an HTTP fault proxy in front of `target` (a loopback `http://host:port`). `seed` fixes
 * the fault draws; `stallMs` bounds a stall; `retryAfterSeconds` is the `Retry-After` sent with
 * every other busy answer.
 */
export async function startHttpFaultProxy(opts: {
  target: string; flavor: Flavor; seed?: number; rates?: FaultRates; stallMs?: number; retryAfterSeconds?: number;
}): Promise<HttpFaultProxy> {
  const target = new URL(opts.target);
  assertLoopback(target);
  const random = seededRandom(opts.seed ?? 1);
  let rates: FaultRates = opts.rates ?? {};
  let all: Fault | undefined;
  let counts = newCounts();
  let busyTurn = 0;
  const stallMs = opts.stallMs ?? 5_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const stalled = new Set<Socket>();
  let port = 0;

  const next: { kind: RequestKind; fault: Fault }[] = [];
  const draw = (kind: RequestKind): Fault | undefined => {
    if (all) return all;
    const planned = next.findIndex((n) => n.kind === kind);
    if (planned >= 0) return next.splice(planned, 1)[0]?.fault;
    let r = random();
    for (const f of ['busy', 'resetRequest', 'resetResponse', 'stall', 'stallBody'] as const) {
      const p = rates[f] ?? 0;
      if (r < p) return f;
      r -= p;
    }
    return undefined;
  };

  const drain = (req: IncomingMessage) => new Promise<void>((resolve) => {
    req.on('data', (c: Buffer) => { counts.bytesUp += c.length; });
    req.once('end', resolve);
    req.once('error', () => resolve());
    req.once('close', () => resolve());
  });

  /** Holds `res`'s connection open, sending nothing more, until the client closes it. */
  const hold = (res: ServerResponse) => {
    const socket = res.socket;
    if (!socket) return;
    stalled.add(socket);
    socket.once('close', () => stalled.delete(socket));
  };

  /** Forwards the request; `cut`: the answer is reset or stalled part-way (see `Fault`). */
  const forward = (req: IncomingMessage, res: ServerResponse, cut?: 'reset' | 'stall') => {
    const resetMidBody = cut !== undefined;
    counts.forwarded += 1;
    // The Host header stays the client's: it is signed (SigV4), and the servers route by path.
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      counts.byStatus[answer.statusCode ?? 0] = (counts.byStatus[answer.statusCode ?? 0] ?? 0) + 1;
      const length = Number(answer.headers['content-length'] ?? 0);
      if (resetMidBody && (req.method === 'HEAD' || !(length > 1))) {
        // No body to cut (HEAD, 204, an empty object): reset before the headers. Headers alone would
        // be a complete answer, and a reset after it would race with the client reusing the
        // connection for its next request, which the proxy would then never see.
        answer.destroy();
        if (cut === 'stall') hold(res); else res.socket?.destroy();
        return;
      }
      // A Location naming the server (a GCS resumable session) is rewritten to the proxy, so the
      // session's requests come through it too.
      const headers = { ...answer.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(target.origin, `http://127.0.0.1:${port}`);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      if (resetMidBody) {
        // Headers and at most half the body, then a reset.
        let sent = 0;
        const limit = Math.floor(length / 2);
        res.flushHeaders();
        answer.on('data', (c: Buffer) => {
          const part = c.subarray(0, Math.max(0, limit - sent));
          if (part.length) { res.write(part); sent += part.length; counts.bytesDown += part.length; }
          if (sent >= limit) {
            answer.destroy();
            if (cut === 'stall') hold(res); else res.socket?.destroy();
          }
        });
        answer.once('end', () => { if (cut !== 'stall') res.socket?.destroy(); });
        return;
      }
      answer.on('data', (c: Buffer) => { counts.bytesDown += c.length; });
      answer.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    req.on('data', (c: Buffer) => { counts.bytesUp += c.length; });
    req.pipe(up);
    res.once('close', () => { if (!res.writableFinished) up.destroy(); });
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', target);
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    const kind = requestKind(opts.flavor, method, url);
    counts.byKind[kind] += 1;
    const fault = draw(kind);
    if (fault) counts.injected[fault] += 1;
    switch (fault) {
      case undefined: return forward(req, res);
      case 'resetResponse': return forward(req, res, 'reset');
      case 'stallBody': return forward(req, res, 'stall');
      case 'busy': {
        const alternate = (busyTurn & 2) !== 0;
        const withRetryAfter = (busyTurn & 1) === 0;
        busyTurn += 1;
        const a = busyAnswer(opts.flavor, alternate);
        void drain(req).then(() => {
          const headers: Record<string, string> = { ...a.headers, 'content-length': String(Buffer.byteLength(a.body)) };
          if (withRetryAfter) headers['retry-after'] = String(opts.retryAfterSeconds ?? 1);
          res.writeHead(a.status, headers);
          res.end(method === 'HEAD' ? undefined : a.body);
        });
        return;
      }
      case 'conflict': {
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
        void drain(req).then(() => {
          res.writeHead(409, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) });
          res.end(method === 'HEAD' ? undefined : body);
        });
        return;
      }
      case 'resetRequest': {
        // Let some of the body in (if any), then reset: the server never sees the request.
        const length = Number(req.headers['content-length'] ?? 0);
        if (length === 0) { req.socket.destroy(); return; }
        let got = 0;
        req.on('data', (c: Buffer) => { got += c.length; counts.bytesUp += c.length; if (got >= length / 2) req.socket.destroy(); });
        req.once('end', () => req.socket.destroy());
        return;
      }
      case 'stall': {
        const socket = req.socket;
        stalled.add(socket);
        req.resume();
        const timer = setTimeout(() => socket.destroy(), stallMs);
        socket.once('close', () => { clearTimeout(timer); stalled.delete(socket); });
        return;
      }
    }
  });
  // Longer than any client's idle time: a keep-alive socket the proxy closed would fail a request
  // the proxy never saw (and cairn's count and the proxy's would differ).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get counts() { return counts; },
    setFaults(r) { rates = r; },
    failAll(f) { all = f; },
    injectNext(kind, fault, count = 1) { for (let i = 0; i < count; i++) next.push({ kind, fault }); },
    resetCounts() { counts = newCounts(); },
    async close() {
      for (const s of stalled) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

export interface TcpCounts { connections: number; bytesUp: number; bytesDown: number; injected: { reset: number; stall: number; refused: number } }

export interface TcpFaultProxy {
  host: string;
  port: number;
  counts: TcpCounts;
  /** `resetResponse` is the chance that a connection is reset, `stall` that it stops relaying for `stallMs`, each after a random number of bytes (1 KiB to `resetWithinBytes`). */
  setFaults(rates: FaultRates): void;
  /** true: every new connection is reset at once, and open ones are cut. */
  failAll(on: boolean): void;
  /** The next new connection stops relaying for `stallMs` once `afterBytes` bytes (both ways) went through it. */
  stallNext(afterBytes: number): void;
  resetCounts(): void;
  close(): Promise<void>;
}

/** Starts a TCP fault proxy in front of `host:port` (loopback only). */
export async function startTcpFaultProxy(opts: {
  host: string; port: number; seed?: number; rates?: FaultRates; stallMs?: number; resetWithinBytes?: number;
}): Promise<TcpFaultProxy> {
  assertLoopback(opts.host);
  const random = seededRandom(opts.seed ?? 1);
  let rates: FaultRates = opts.rates ?? {};
  let all = false;
  let plannedStall: number | undefined;
  const newTcp = (): TcpCounts => ({ connections: 0, bytesUp: 0, bytesDown: 0, injected: { reset: 0, stall: 0, refused: 0 } });
  let counts = newTcp();
  const open = new Set<Socket>();
  const server = createTcpServer((client) => {
    counts.connections += 1;
    open.add(client);
    client.once('close', () => open.delete(client));
    if (all) { counts.injected.refused += 1; client.resetAndDestroy(); return; }
    const r = random();
    // Where in the connection's byte stream (both directions) the fault strikes: past the first KiB.
    const within = Math.max(2048, opts.resetWithinBytes ?? 256 * 1024);
    const at = () => 1024 + Math.floor(random() * (within - 1024));
    const planned = plannedStall;
    plannedStall = undefined;
    const resetAt = planned === undefined && r < (rates.resetResponse ?? 0) ? at() : undefined;
    const stallAt = planned ?? (resetAt === undefined && r < (rates.resetResponse ?? 0) + (rates.stall ?? 0) ? at() : undefined);
    const server = connect(opts.port, opts.host);
    open.add(server);
    server.once('close', () => { open.delete(server); client.destroy(); });
    client.once('close', () => server.destroy());
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    let relayed = 0;
    let stalledOnce = false;
    const relay = (from: Socket, to: Socket, up: boolean) => from.on('data', (c: Buffer) => {
      relayed += c.length;
      if (up) counts.bytesUp += c.length; else counts.bytesDown += c.length;
      if (resetAt !== undefined && relayed >= resetAt) {
        counts.injected.reset += 1;
        client.resetAndDestroy();
        server.destroy();
        return;
      }
      if (stallAt !== undefined && !stalledOnce && relayed >= stallAt) {
        stalledOnce = true;
        counts.injected.stall += 1;
        client.pause(); server.pause();
        const timer = setTimeout(() => { client.resume(); server.resume(); }, opts.stallMs ?? 5_000);
        client.once('close', () => clearTimeout(timer));
      }
      to.write(c);
    });
    relay(client, server, true);
    relay(server, client, false);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: '127.0.0.1',
    port,
    get counts() { return counts; },
    setFaults(r) { rates = r; },
    failAll(on) { all = on; if (on) for (const s of open) s.destroy(); },
    stallNext(afterBytes) { plannedStall = afterBytes; },
    resetCounts() { counts = newTcp(); },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
