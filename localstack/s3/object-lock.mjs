// S3 Object Lock as AWS enforces it, for the front layer (README.md, "Object Lock"): a bucket has
// Object Lock when its mode says so (`<bucket>-objectlock`) or when it was created with
// `x-amz-bucket-object-lock-enabled: true`. In such a bucket every object has a version id, an
// upload may carry `x-amz-object-lock-mode` + `x-amz-object-lock-retain-until-date`, HEAD and GET
// report them, and a delete of an object whose retention still runs is 403 AccessDenied, as AWS
// answers a DeleteObject of a locked version. State is kept in memory for the server's life.
//
// Where the model is narrower than AWS: only the current version is kept (an overwrite replaces
// the object and its retention, where AWS keeps the old version, still locked, as noncurrent), and
// a DeleteObject without a version id of a retained object is refused too (AWS would add a delete
// marker and keep the locked version): cairn always deletes by version id in such a bucket, and
// the refusal makes a client that does not visible in tests. Governance bypass is not modelled.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { S3Error } from './aws-chunked.mjs';

const MODES = new Set(['GOVERNANCE', 'COMPLIANCE']);
const xmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const xmlUnescape = (s) => s.replace(/&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);/gi, (_, e) => {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()];
  if (named) return named;
  return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
});

export function createObjectLock({ now = () => Date.now() } = {}) {
  /** Buckets created with Object Lock through the API (the mode map names the others). */
  const created = new Set();
  /** `bucket\nkey` → { versionId, mode?, until? (ms) } of the current version. */
  const objects = new Map();
  /** Retention named by CreateMultipartUpload, applied at CompleteMultipartUpload: `bucket\nkey` → retention. */
  const pending = new Map();
  const id = (bucket, key) => `${bucket}\n${key}`;
  const retainedNow = (entry) => entry?.until !== undefined && entry.until > now();

  return {
    enabled: (bucket, modes) => modes.objectLock || created.has(bucket),

    /** CreateBucket with the Object Lock header: remember it once the bucket exists. */
    bucketCreated(bucket, req) {
      if (String(req.headers['x-amz-bucket-object-lock-enabled'] ?? '').toLowerCase() === 'true') created.add(bucket);
    },

    /** The GetObjectLockConfiguration answer: `[status, xml]`. */
    configuration(enabled) {
      if (!enabled) return undefined;
      return '<?xml version="1.0" encoding="UTF-8"?>\n<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>';
    },

    /**
     * The retention an upload asks for, checked as S3 checks it (throws `S3Error`): undefined when
     * it names none. Headers on a bucket without Object Lock → 400 InvalidRequest.
     */
    retentionOf(req, enabled) {
      const mode = req.headers['x-amz-object-lock-mode'];
      const date = req.headers['x-amz-object-lock-retain-until-date'];
      if (mode === undefined && date === undefined) return undefined;
      if (!enabled) throw new S3Error(400, 'InvalidRequest', 'Bucket is missing Object Lock Configuration');
      if (mode === undefined || date === undefined) throw new S3Error(400, 'InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
      if (!MODES.has(mode)) throw new S3Error(400, 'InvalidArgument', 'Unknown wormMode directive.');
      const until = Date.parse(date);
      if (Number.isNaN(until)) throw new S3Error(400, 'InvalidArgument', 'The retain until date must be provided in ISO 8601 format');
      if (until <= now()) throw new S3Error(400, 'InvalidArgument', 'The retain until date must be in the future!');
      return { mode, until };
    },

    /** CreateMultipartUpload: keep the retention for the completion. */
    initiated(bucket, key, retention) {
      if (retention) pending.set(id(bucket, key), retention);
      else pending.delete(id(bucket, key));
    },

    /** A new current version was stored (PutObject, or CompleteMultipartUpload with `fromPending`). */
    stored(bucket, key, versionId, retention, fromPending = false) {
      const r = fromPending ? pending.get(id(bucket, key)) : retention;
      if (fromPending) pending.delete(id(bucket, key));
      objects.set(id(bucket, key), { versionId, ...(r ? { mode: r.mode, until: r.until } : {}) });
    },

    newVersionId: () => randomBytes(16).toString('base64url'),

    /** Response headers of a HEAD or GET: the version id and the object's retention. */
    headersOf(bucket, key) {
      const entry = objects.get(id(bucket, key));
      if (!entry) return {};
      const headers = { 'x-amz-version-id': entry.versionId };
      if (entry.until !== undefined) {
        headers['x-amz-object-lock-mode'] = entry.mode;
        headers['x-amz-object-lock-retain-until-date'] = new Date(entry.until).toISOString();
      }
      return headers;
    },

    /**
     * A DeleteObject: 'refuse' while the retention runs; 'absent' for a version id that is not the
     * current version (nothing to do here); otherwise 'delete' (and the entry is forgotten by `deleted`).
     */
    deleteDecision(bucket, key, versionId) {
      const entry = objects.get(id(bucket, key));
      if (retainedNow(entry)) return 'refuse';
      if (versionId !== null && versionId !== undefined && entry && versionId !== entry.versionId && versionId !== 'null') return 'absent';
      return 'delete';
    },

    deleted(bucket, key) {
      objects.delete(id(bucket, key));
    },

    /**
     * DeleteObjects in a bucket with Object Lock, answered here: each retained key gets an
     * AccessDenied error entry, the others are deleted from `store`.
     */
    async deleteMany(req, res, store, bucket) {
      const parts = [];
      for await (const part of req) parts.push(part);
      const xml = Buffer.concat(parts).toString('utf8');
      const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
      const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]));
      const out = [];
      for (const key of keys) {
        if (retainedNow(objects.get(id(bucket, key)))) {
          out.push(`<Error><Key>${xmlEscape(key)}</Key><Code>AccessDenied</Code><Message>Access Denied because object protected by object lock.</Message></Error>`);
          continue;
        }
        try { await store.deleteObject(bucket, key); } catch (err) { if (err.code !== 'ENOENT') throw err; }
        objects.delete(id(bucket, key));
        if (!quiet) out.push(`<Deleted><Key>${xmlEscape(key)}</Key></Deleted>`);
      }
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${out.join('')}</DeleteResult>`;
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}
