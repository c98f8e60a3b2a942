// The front layer: every request passes here before s3rver. It verifies signatures, answers
// ListObjectsV2 itself, makes conditional writes atomic and parses Range headers, then hands
// the request to s3rver's own handler. See README.md for why each step exists.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { requestContext } from './context.mjs';
import { verifySigV4 } from './sigv4.mjs';
import { S3Error, decodeAwsChunked, isAwsChunked, withoutAwsChunked } from './aws-chunked.mjs';
import { verifyUpload } from './integrity.mjs';
import { createObjectLock } from './object-lock.mjs';

const xmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function sendError(req, res, status, code, message, extra = '') {
  req.resume(); // drain an unread body so the connection stays usable
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${extra}<RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** `{ start, end? }`, `{ suffix }` or undefined (absent or invalid: S3 then sends the whole object). */
function parseRange(header) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  return end !== undefined && end < start ? undefined : { start, end };
}

/** Serialises async work per key: the check and the write of a conditional PUT are one step. */
function createKeyLocks() {
  const tails = new Map();
  return async (id, fn) => {
    const prev = tails.get(id) ?? Promise.resolve();
    let release;
    const mine = new Promise((r) => { release = r; });
    const tail = prev.then(() => mine);
    tails.set(id, tail);
    await prev;
    try { return await fn(); } finally {
      release();
      if (tails.get(id) === tail) tails.delete(id);
    }
  };
}

/** ListObjectsV2 in byte order with opaque continuation tokens (s3rver's used single DES). */
async function listObjectsV2(req, res, store, bucket, query) {
  if (!(await store.getBucket(bucket))) return sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeysText = query.get('max-keys') ?? '1000';
  if (!/^\d+$/.test(maxKeysText)) return sendError(req, res, 400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
  const maxKeys = Math.min(1000, Number(maxKeysText));
  const token = query.get('continuation-token');
  let startAfter = query.get('start-after') ?? '';
  if (token !== null) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('cairn1:')) return sendError(req, res, 400, 'InvalidArgument', 'The continuation token provided is incorrect');
    startAfter = decoded.slice('cairn1:'.length);
  }
  const result = maxKeys === 0
    ? { objects: [], commonPrefixes: [], isTruncated: false }
    : await store.listObjects(bucket, { prefix, delimiter, startAfter, maxKeys });
  const urlEncode = query.get('encoding-type') === 'url';
  const enc = (s) => xmlEscape(urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>`,
    token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '',
    query.has('start-after') ? `<StartAfter>${enc(query.get('start-after'))}</StartAfter>` : '',
    `<KeyCount>${result.objects.length + result.commonPrefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
    delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '',
    urlEncode ? '<EncodingType>url</EncodingType>' : '',
    `<IsTruncated>${result.isTruncated}</IsTruncated>`,
    result.isTruncated ? `<NextContinuationToken>${Buffer.from(`cairn1:${result.lastKey}`, 'utf8').toString('base64url')}</NextContinuationToken>` : '',
    ...result.objects.map((o) => `<Contents><Key>${enc(o.key)}</Key><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>`
      + `<ETag>${xmlEscape(o.metadata.etag)}</ETag><Size>${o.size}</Size><StorageClass>${xmlEscape(o.metadata['x-amz-storage-class'] ?? 'STANDARD')}</StorageClass></Contents>`),
    ...result.commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`),
    '</ListBucketResult>',
  ];
  const body = parts.join('');
  res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** True when the object exists and was put with an archive storage class (GLACIER, DEEP_ARCHIVE). */
async function isArchived(store, bucket, key) {
  try {
    const cls = (await store.getMetadata(bucket, key))['x-amz-storage-class'];
    return cls === 'GLACIER' || cls === 'DEEP_ARCHIVE';
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') return false;
    throw err;
  }
}

/** If-None-Match / If-Match on a write, checked while the key's lock is held. */
async function preconditionFails(req, store, bucket, key) {
  const noneMatch = req.headers['if-none-match'];
  const match = req.headers['if-match'];
  if (noneMatch === undefined && match === undefined) return false;
  let etag;
  try { etag = (await store.getMetadata(bucket, key)).etag; } catch (err) { if (err.code !== 'ENOENT') throw err; }
  if (noneMatch !== undefined && etag !== undefined && (noneMatch === '*' || noneMatch === etag)) return true;
  if (match !== undefined && (etag === undefined || (match !== '*' && match !== etag))) return true;
  return false;
}

/**
 * How a bucket departs from AWS's defaults, to model what some real stores do (README.md, "Bucket
 * modes"): `objectLock` (a default retention: uploads must carry Content-MD5 or a checksum) and
 * `conditional` ('honour', as AWS; 'ignore', as older MinIO and some gateways: If-None-Match is
 * dropped; '501', as Backblaze B2 and Alibaba OSS: NotImplemented) and `region` (undefined: any
 * region is accepted, as s3rver does; a name: the bucket lives there, and a request signed for
 * another region gets AWS's 301 PermanentRedirect with `x-amz-bucket-region`).
 */
export const DEFAULT_MODES = Object.freeze({ objectLock: false, conditional: 'honour', region: undefined });

/**
 * The request handler: `s3rverHandler` is s3rver's Koa callback, `store` its (fixed) store,
 * `secretFor(accessKeyId)` the secret of a known key or undefined, `modesOf(bucket)` the bucket's
 * modes (DEFAULT_MODES unless given).
 */
export function createFrontHandler({ s3rverHandler, store, secretFor, modesOf = () => DEFAULT_MODES }) {
  const withKeyLock = createKeyLocks();
  const objectLock = createObjectLock();
  return async (req, res) => {
    try {
      const signing = {};
      const denied = verifySigV4(req, secretFor, signing);
      if (denied) return sendError(req, res, 403, denied.code, denied.message);
      const url = new URL(req.url, 'http://localhost');
      const [, bucketEnc = '', ...keyParts] = url.pathname.split('/');
      const bucket = decodeURIComponent(bucketEnc);
      const key = keyParts.length ? decodeURIComponent(keyParts.join('/')) : '';
      const q = url.searchParams;
      const modes = modesOf(bucket);
      // A bucket in another region (README.md, "Bucket modes"): a request signed for any other
      // region is answered as AWS answers it, 301 PermanentRedirect naming the bucket's region.
      const signedFor = String(signing.scope ?? '').split('/')[1];
      if (modes.region && bucket && signedFor !== modes.region) {
        req.resume();
        const body = req.method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>${xmlEscape(bucket)}.s3.${modes.region}.amazonaws.com</Endpoint><Bucket>${xmlEscape(bucket)}</Bucket><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
        res.writeHead(301, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), 'x-amz-bucket-region': modes.region });
        return res.end(body || undefined);
      }
      const locked = objectLock.enabled(bucket, modes);
      // Object Lock at the bucket level (object-lock.mjs): its configuration, and buckets created with it.
      if (bucket && !key && req.method === 'GET' && q.has('object-lock')) {
        if (!(await store.getBucket(bucket))) return sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
        const xml = objectLock.configuration(locked);
        if (!xml) return sendError(req, res, 404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket');
        res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
        return res.end(xml);
      }
      if (bucket && !key && req.method === 'PUT' && q.size === 0) {
        await requestContext.run({}, () => s3rverHandler(req, res));
        if (!res.writableFinished) await new Promise((r) => { res.once('finish', r); res.once('close', r); });
        if (res.statusCode === 200) objectLock.bucketCreated(bucket, req);
        return;
      }
      if (locked && bucket && !key && req.method === 'POST' && q.has('delete')) {
        if (!(await store.getBucket(bucket))) return sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
        return await objectLock.deleteMany(req, res, store, bucket);
      }
      let retention;
      if (key && (req.method === 'PUT' || (req.method === 'POST' && q.has('uploads')))) {
        try { retention = objectLock.retentionOf(req, locked); } catch (err) {
          if (err instanceof S3Error) return sendError(req, res, err.status, err.code, err.message);
          throw err;
        }
      }
      if (locked && key && req.method === 'DELETE' && !q.has('uploadId')) {
        const decision = objectLock.deleteDecision(bucket, key, q.get('versionId'));
        if (decision === 'refuse') return sendError(req, res, 403, 'AccessDenied', 'Access Denied because object protected by object lock.');
        if (decision === 'absent') { res.writeHead(204, { 'x-amz-version-id': q.get('versionId') }); return res.end(); }
        await requestContext.run({}, () => s3rverHandler(req, res));
        if (!res.writableFinished) await new Promise((r) => { res.once('finish', r); res.once('close', r); });
        if (res.statusCode < 300) objectLock.deleted(bucket, key);
        return;
      }
      if (locked && key && (req.method === 'HEAD' || req.method === 'GET') && !q.has('uploadId')) {
        for (const [name, value] of Object.entries(objectLock.headersOf(bucket, key))) res.setHeader(name, value);
      }
      if (locked && key && req.method === 'POST' && q.has('uploads')) objectLock.initiated(bucket, key, retention);
      // An aws-chunked body (streaming signature or checksum trailer) is decoded and checked
      // first; the store then writes the decoded bytes (see aws-chunked.mjs).
      let body;
      if (isAwsChunked(req) && (req.method === 'PUT' || req.method === 'POST')) {
        try { body = await decodeAwsChunked(req, signing); } catch (err) {
          if (err instanceof S3Error) return sendError(req, res, err.status, err.code, err.message);
          throw err;
        }
        const encoding = withoutAwsChunked(req.headers['content-encoding']);
        if (encoding === undefined) delete req.headers['content-encoding'];
        else req.headers['content-encoding'] = encoding;
        req.headers['content-length'] = String(body.length);
      }
      // PutObject and UploadPart: Content-MD5 / x-amz-checksum-* checked as S3 checks them (integrity.mjs).
      if (key && req.method === 'PUT' && !q.has('tagging') && !q.has('acl') && req.headers['x-amz-copy-source'] === undefined) {
        try { body = await verifyUpload(req, body, modes); } catch (err) {
          if (err instanceof S3Error) return sendError(req, res, err.status, err.code, err.message);
          throw err;
        }
        if (body !== undefined) req.headers['content-length'] = String(body.length);
      }
      if (req.method === 'GET' && bucket && !key && q.get('list-type') === '2') {
        return await listObjectsV2(req, res, store, bucket, q);
      }
      // GET of an object in an archive class: S3 answers 403 InvalidObjectState until it is restored (HEAD works).
      if (key && req.method === 'GET' && !q.has('uploadId') && await isArchived(store, bucket, key)) {
        return sendError(req, res, 403, 'InvalidObjectState', 'The operation is not valid for the object\'s storage class', '<StorageClass>GLACIER</StorageClass>');
      }
      const range = key && (req.method === 'GET' || req.method === 'HEAD') ? parseRange(req.headers.range) : undefined;
      const serve = () => requestContext.run({ range, body }, () => s3rverHandler(req, res));
      const isWrite = key && ((req.method === 'PUT' && !q.has('uploadId') && !q.has('tagging') && !q.has('acl'))
        || (req.method === 'POST' && q.has('uploadId')));
      if (!isWrite) return await serve();
      const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined;
      if (conditional && modes.conditional === '501') {
        return sendError(req, res, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', '<Header>If-None-Match</Header>');
      }
      return await withKeyLock(`${bucket}/${key}`, async () => {
        if (!(await store.getBucket(bucket))) return sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
        if (modes.conditional !== 'ignore' && await preconditionFails(req, store, bucket, key)) {
          return sendError(req, res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', '<Condition>If-None-Match</Condition>');
        }
        const versionId = locked ? objectLock.newVersionId() : undefined;
        if (versionId) res.setHeader('x-amz-version-id', versionId);
        await serve();
        if (!res.writableFinished) await new Promise((r) => { res.once('finish', r); res.once('close', r); });
        if (versionId && res.statusCode === 200) objectLock.stored(bucket, key, versionId, retention, req.method === 'POST');
      });
    } catch (err) {
      if (!res.headersSent) sendError(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      else res.destroy(err);
    }
  };
}
