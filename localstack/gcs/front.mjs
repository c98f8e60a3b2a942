/* global Buffer, fetch, URLSearchParams */
// The front layer of the GCS test server: an HTTP server that answers the GCS JSON API the way
// real GCS does and forwards object bytes to the firebase-tools storage emulator behind it.
// It supplies what the emulator lacks (see README.md): buckets that really exist or not,
// authentication, preconditions (ifGenerationMatch / ifGenerationNotMatch, checked and applied
// under a per-object lock so `ifGenerationMatch=0` has exactly one winner), resumable uploads in
// several chunks (resumable.mjs), consistent paginated listings, and 416 for unsatisfiable ranges.
import { Agent, createServer, request as httpRequest } from 'node:http';
import { createResumableSessions } from './resumable.mjs';

const MAX_PAGE = 1000;
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * IAM roles the harness enforces, chosen by a bucket-name suffix (README.md, "Bucket modes"): the
 * caller holds only that role on the bucket. Each lists the permissions it grants; a call that
 * needs another is answered 403 as GCS answers it. A bucket without a suffix grants everything.
 */
const ROLES = new Map([
  // roles/storage.objectAdmin: storage.objects.* and nothing on the bucket itself.
  ['-objectadmin', new Set(['objects.create', 'objects.delete', 'objects.get', 'objects.list', 'objects.update'])],
  // roles/storage.objectViewer: objects.get and objects.list.
  ['-objectviewer', new Set(['objects.get', 'objects.list'])],
]);

/** The role `bucket` is reached with (undefined: every permission), from its name's suffix. */
export function roleOf(bucket) {
  for (const [suffix, permissions] of ROLES) if (bucket.endsWith(suffix)) return permissions;
  return undefined;
}

/** Bucket names the harness creates at start-up: a caller restricted to object roles cannot create them. */
export const PRESET_SUFFIXES = [...ROLES.keys()];

/** Sends a GCS-shaped JSON error. */
export function sendError(res, code, reason, message) {
  const body = JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } });
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res, code, value) {
  const body = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req) {
  const parts = [];
  for await (const part of req) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * Starts the front layer on 127.0.0.1:`port`, forwarding to the emulator at `inner`
 * (`http://127.0.0.1:N`). `auth.check(req)` decides whether a request is authenticated.
 */
export function startFront({ port, inner, auth, stateDir, projectId }) {
  const buckets = new Map(); // name → bucket resource
  // Object retention (README.md, "Object retention"): `bucket/name` → { mode, retainUntilTime } of
  // objects stored with `retention` in a bucket created with enableObjectRetention=true.
  const retention = new Map();
  const retainedNow = (bucket, name) => {
    const r = retention.get(`${bucket}/${name}`);
    return r && Date.parse(r.retainUntilTime) > Date.now() ? r : undefined;
  };
  const refuseRetained = (res, bucket, name, r) => sendError(res, 403, 'retentionPolicyNotMet',
    `Object '${bucket}/${name}' is subject to object retention and cannot be deleted, overwritten or archived until ${r.retainUntilTime}`);
  const locks = new Map(); // "bucket/object" → tail of the promise chain

  /** Runs `fn` after every earlier call for the same object has finished. */
  function withLock(id, fn) {
    const prev = locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    locks.set(id, tail);
    tail.then(() => { if (locks.get(id) === tail) locks.delete(id); });
    return run;
  }

  /** One request to the emulator; resolves to `{ status, headers, body: Buffer }`. */
  async function innerFetch(path, { method = 'GET', headers = {}, body } = {}) {
    const r = await fetch(inner + path, { method, headers, body });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  }

  /** The object's generation as a string, '0' when it does not exist. */
  async function generationOf(bucket, name) {
    const r = await innerFetch(`/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`);
    if (r.status === 404) return { generation: '0' };
    if (r.status !== 200) throw new Error(`emulator answered ${r.status} to a metadata read`);
    const meta = JSON.parse(r.body.toString('utf8'));
    return { generation: String(meta.generation), size: Number(meta.size) };
  }

  /** Checks the precondition query parameters against the object's state; true when they hold. */
  async function preconditionsHold(query, bucket, name) {
    const match = query.get('ifGenerationMatch');
    const notMatch = query.get('ifGenerationNotMatch');
    if (match === null && notMatch === null) return true;
    const { generation } = await generationOf(bucket, name);
    if (match !== null && match !== generation) return false;
    if (notMatch !== null && notMatch === generation) return false;
    return true;
  }

  /**
   * True when the caller may use `permission` (e.g. 'buckets.get') on `bucket`; otherwise answers
   * 403 with GCS's own wording and returns false.
   */
  function allowed(res, bucket, permission) {
    const role = roleOf(bucket);
    if (role === undefined || role.has(permission)) return true;
    sendError(res, 403, 'forbidden', `cairn-test@${projectId}.iam.gserviceaccount.com does not have storage.${permission} access to the Google Cloud Storage ${permission.startsWith('buckets.') ? 'bucket' : 'object'}. Permission 'storage.${permission}' denied on resource (or it may not exist).`);
    return false;
  }

  const pathOf = (req) => new URL(req.url, 'http://front').pathname;
  const failPrecondition = (res) => sendError(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
  const bucketMissing = (res) => sendError(res, 404, 'notFound', 'The specified bucket does not exist.');

  /** Uploads `bytes` as object `name` through the emulator's one-shot media upload. */
  async function storeObject(bucket, name, bytes, contentType) {
    const q = new URLSearchParams({ uploadType: 'media', name });
    return innerFetch(`/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?${q}`, {
      method: 'POST', headers: { 'content-type': contentType || 'application/octet-stream' }, body: bytes,
    });
  }

  /** Applies preconditions and stores the object under the object's lock; answers `res`. */
  async function finishUpload(res, { bucket, name, query, bytes, contentType, retention: wanted }) {
    return withLock(`${bucket}/${name}`, async () => {
      if (!buckets.has(bucket)) return bucketMissing(res);
      if (wanted !== undefined && buckets.get(bucket).objectRetention?.mode !== 'Enabled') {
        return sendError(res, 400, 'invalid', 'Object retention is not enabled for this bucket.');
      }
      if (wanted !== undefined && (!['Unlocked', 'Locked'].includes(wanted?.mode) || !(Date.parse(wanted?.retainUntilTime) > Date.now()))) {
        return sendError(res, 400, 'invalid', 'Invalid argument: retention needs a mode (Unlocked or Locked) and a retainUntilTime in the future.');
      }
      const held = retainedNow(bucket, name);
      if (held) return refuseRetained(res, bucket, name, held);
      if (!(await preconditionsHold(query, bucket, name))) return failPrecondition(res);
      const r = await storeObject(bucket, name, bytes, contentType);
      if (r.status === 200) {
        if (wanted !== undefined) retention.set(`${bucket}/${name}`, { mode: wanted.mode, retainUntilTime: new Date(Date.parse(wanted.retainUntilTime)).toISOString() });
        else retention.delete(`${bucket}/${name}`);
      }
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json', 'content-length': r.body.length });
      res.end(r.body);
    });
  }

  const sessions = createResumableSessions({ stateDir, port, finishUpload, sendError });

  // Fresh loopback connections to the emulator: its server drops idle keep-alive sockets after 5 s,
  // and a request sent on one at that moment would fail (fetch() below follows its Keep-Alive hint).
  const agent = new Agent({ keepAlive: false });

  /** Pipes the request to the emulator unchanged and its answer back. */
  function forward(req, res, path = req.url) {
    const headers = { ...req.headers, host: new URL(inner).host, connection: 'close' };
    const up = httpRequest(inner + path, { method: req.method, headers, agent }, (r) => {
      const { connection: _c, 'keep-alive': _k, ...headers } = r.headers; // hop-by-hop: not the client's
      res.writeHead(r.statusCode ?? 502, headers);
      r.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) sendError(res, 502, 'backendError', 'emulator unreachable'); else res.destroy(); });
    req.pipe(up);
  }

  /** Records bucket `name` as existing (with object retention when `retention`); returns its resource. */
  function addBucket(name, retention = false) {
    const resource = {
      kind: 'storage#bucket', id: name, name, projectNumber: '1', metageneration: '1', location: 'US',
      storageClass: 'STANDARD', timeCreated: new Date().toISOString(), updated: new Date().toISOString(),
      ...(retention ? { objectRetention: { mode: 'Enabled' } } : {}),
    };
    buckets.set(name, resource);
    return resource;
  }

  async function createBucket(req, res, query) {
    const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
    const name = String(body.name ?? '');
    if (!BUCKET_NAME.test(name)) return sendError(res, 400, 'invalid', 'Invalid bucket name');
    if (!allowed(res, name, 'buckets.create')) return undefined;
    if (buckets.has(name)) return sendError(res, 409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
    return sendJson(res, 200, addBucket(name, query.get('enableObjectRetention') === 'true'));
  }

  async function deleteBucket(res, bucket) {
    if (!allowed(res, bucket, 'buckets.delete')) return undefined;
    if (!buckets.has(bucket)) return bucketMissing(res);
    const r = await innerFetch(`/storage/v1/b/${encodeURIComponent(bucket)}/o?maxResults=1`);
    const items = JSON.parse(r.body.toString('utf8')).items ?? [];
    if (items.length > 0) return sendError(res, 409, 'conflict', 'The bucket you tried to delete is not empty.');
    buckets.delete(bucket);
    res.writeHead(204).end();
  }

  /** Lists from the emulator in one go and pages here: the emulator's own page tokens break when the next key is deleted. */
  async function listObjects(res, bucket, query) {
    const q = new URLSearchParams({ maxResults: '1000000000' });
    for (const k of ['prefix', 'delimiter']) if (query.get(k)) q.set(k, query.get(k));
    const r = await innerFetch(`/storage/v1/b/${encodeURIComponent(bucket)}/o?${q}`);
    if (r.status !== 200) return sendError(res, 502, "backendError", `emulator answered ${r.status} to a listing: ${r.body.toString("utf8").slice(0, 300)}`);
    const all = JSON.parse(r.body.toString('utf8'));
    const after = query.get('pageToken') ? Buffer.from(query.get('pageToken'), 'base64url').toString('utf8') : undefined;
    const start = query.get('startOffset');
    const end = query.get('endOffset');
    let items = (all.items ?? []).filter((o) => (after === undefined || o.name > after)
      && (!start || o.name >= start) && (!end || o.name < end));
    const max = Math.min(Math.max(Number(query.get('maxResults') ?? MAX_PAGE) || MAX_PAGE, 1), MAX_PAGE);
    let nextPageToken;
    if (items.length > max) {
      items = items.slice(0, max);
      nextPageToken = Buffer.from(items[items.length - 1].name, 'utf8').toString('base64url');
    }
    const out = { kind: 'storage#objects', items };
    if (nextPageToken) out.nextPageToken = nextPageToken;
    if (!after && all.prefixes) out.prefixes = all.prefixes;
    return sendJson(res, 200, out);
  }

  /** Object read (metadata or media): preconditions, and 416 where the emulator would send the whole object. */
  async function readObject(req, res, bucket, name, query) {
    const { generation, size } = await generationOf(bucket, name);
    if (generation === '0') return forward(req, res); // the emulator's own 404
    if (!(await preconditionsHold(query, bucket, name))) return failPrecondition(res);
    const kept = retention.get(`${bucket}/${name}`);
    if (kept && query.get('alt') !== 'media' && !pathOf(req).startsWith('/download/')) {
      // The object's metadata, with its retention, which the emulator does not keep.
      const r = await innerFetch(`/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`);
      if (r.status !== 200) return forward(req, res);
      return sendJson(res, 200, { ...JSON.parse(r.body.toString('utf8')), retention: kept });
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && Number(m[1]) >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
      return res.end();
    }
    return forward(req, res);
  }

  async function route(req, res) {
    const url = new URL(req.url, 'http://front');
    const query = url.searchParams;
    // As on real GCS, a resumable session URI is itself the credential: its chunks need no token.
    const sessionCall = req.method === 'PUT' && sessions.has(query.get('upload_id'));
    // The Security Token Service of workload identity federation (auth.mjs): no bearer token needed.
    if (req.method === 'POST' && url.pathname === '/v1/token' && auth.federation) {
      const answer = auth.federation.exchange(new URLSearchParams((await readBody(req)).toString('utf8')));
      return sendJson(res, answer.status, answer.body);
    }
    if (req.method === 'GET' && url.pathname === '/_cairn/federation') return sendJson(res, 200, auth.federation?.stats ?? {});
    if (!sessionCall && !auth.check(req)) {
      await readBody(req);
      return sendError(res, 401, 'required', 'Anonymous caller does not have storage.objects.get access.');
    }
    let m;
    const path = url.pathname.replace(/^\/download(?=\/storage\/v1\/)/, '');
    if (path === '/storage/v1/b') {
      if (req.method === 'POST') return createBucket(req, res, query);
      if (req.method === 'GET') return sendJson(res, 200, { kind: 'storage#buckets', items: [...buckets.values()].filter((b) => roleOf(b.name) === undefined) });
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]);
      // GCS checks the permission before it looks the bucket up: a 403 says nothing about existence.
      if (req.method === 'GET') {
        if (!allowed(res, bucket, 'buckets.get')) return undefined;
        return buckets.has(bucket) ? sendJson(res, 200, buckets.get(bucket)) : bucketMissing(res);
      }
      if (req.method === 'PATCH' || req.method === 'PUT') {
        await readBody(req);
        if (!allowed(res, bucket, 'buckets.update')) return undefined;
        if (!buckets.has(bucket)) return bucketMissing(res);
        return sendError(res, 501, 'notImplemented', 'bucket metadata updates are not provided by the cairn GCS test server');
      }
      if (req.method === 'DELETE') return deleteBucket(res, bucket);
    }
    if ((m = /^\/(?:upload\/)?storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]);
      const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
      if (!buckets.has(bucket)) { await readBody(req); return bucketMissing(res); }
      const upload = path.startsWith('/upload/');
      const permission = upload || req.method === 'POST' ? 'objects.create'
        : req.method === 'DELETE' ? 'objects.delete'
          : req.method === 'PATCH' || req.method === 'PUT' ? 'objects.update'
            : name === undefined ? 'objects.list' : 'objects.get';
      if (roleOf(bucket) !== undefined && !(upload && req.method === 'PUT' && sessions.has(query.get('upload_id')))) {
        if (!allowed(res, bucket, permission)) { await readBody(req); return undefined; }
      }
      if (upload && req.method === 'POST' && query.get('uploadType') === 'resumable') return sessions.start(req, res, bucket, query, await readBody(req));
      if (upload && req.method === 'PUT' && query.get('upload_id')) return sessions.put(req, res, query.get('upload_id'), await readBody(req));
      if (upload && req.method === 'POST') return simpleUpload(req, res, bucket, query);
      if (name === undefined && req.method === 'GET') return listObjects(res, bucket, query);
      if (name !== undefined && req.method === 'GET') return readObject(req, res, bucket, name, query);
      if (name !== undefined && req.method === 'DELETE') {
        return withLock(`${bucket}/${name}`, async () => {
          if (!(await preconditionsHold(query, bucket, name))) return failPrecondition(res);
          const held = retainedNow(bucket, name);
          if (held) { await readBody(req); return refuseRetained(res, bucket, name, held); }
          retention.delete(`${bucket}/${name}`);
          return forward(req, res);
        });
      }
    }
    await readBody(req);
    return sendError(res, 501, 'notImplemented', `${req.method} ${url.pathname} is not provided by the cairn GCS test server`);
  }

  /** Single-request upload (`uploadType=multipart` or `media`), buffered, then stored under the object lock. */
  async function simpleUpload(req, res, bucket, query) {
    const body = await readBody(req);
    const type = req.headers['content-type'] ?? '';
    let name = query.get('name');
    let bytes = body;
    let contentType = type;
    let retentionWanted;
    if (query.get('uploadType') === 'multipart') {
      const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
      if (!boundary) return sendError(res, 400, 'invalid', 'multipart upload without a boundary');
      const parsed = parseRelated(body, boundary);
      if (!parsed) return sendError(res, 400, 'invalid', 'malformed multipart upload');
      const meta = JSON.parse(parsed.metadata.toString('utf8') || '{}');
      name ??= meta.name;
      contentType = meta.contentType ?? parsed.contentType;
      bytes = parsed.data;
      retentionWanted = meta.retention ?? undefined;
    }
    if (!name) return sendError(res, 400, 'required', 'Required parameter: name');
    return finishUpload(res, { bucket, name, query, bytes, contentType, retention: retentionWanted });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!res.headersSent) sendError(res, 500, 'backendError', String(err?.message ?? err));
      else res.destroy();
    });
  });
  // Node closes idle keep-alive connections after 5 s, and a client that reuses one at that moment
  // gets ECONNRESET ("socket hang up"). Google's front ends keep idle connections far longer.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, buckets, addBucket, projectId }));
  });
}

/** Splits a `multipart/related` body into its metadata part and its data part. */
function parseRelated(body, boundary) {
  const delim = Buffer.from(`--${boundary}`);
  const parts = [];
  let at = body.indexOf(delim);
  while (at !== -1) {
    const next = body.indexOf(delim, at + delim.length);
    if (next === -1) break;
    parts.push(body.subarray(at + delim.length, next));
    at = next;
  }
  if (parts.length < 2) return undefined;
  const split = (part) => {
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headEnd).toString('utf8');
    let data = part.subarray(headEnd + 4);
    if (data.subarray(-2).toString() === '\r\n') data = data.subarray(0, -2);
    return { head, data };
  };
  const meta = split(parts[0]);
  const data = split(parts[1]);
  return { metadata: meta.data, data: data.data, contentType: /content-type:\s*([^\r\n]+)/i.exec(data.head)?.[1] };
}
