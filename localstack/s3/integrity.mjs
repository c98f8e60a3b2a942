// Upload integrity as real S3 checks it: a `Content-MD5` or `x-amz-checksum-*` header sent with a
// PutObject or UploadPart is compared with the bytes received (400 BadDigest / InvalidDigest), and a
// bucket with Object Lock (default retention) refuses an upload that carries neither (400
// InvalidRequest). s3rver checks none of this, so a client that sends no header, or a wrong one,
// would pass here and fail against AWS. The body is read into memory (bounded) only when there is
// something to check.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { CHECKSUMS, S3Error } from './aws-chunked.mjs';

const MAX_BODY = Number(process.env.CAIRN_S3_MAX_CHUNKED_BYTES ?? 1024 ** 3);

/** The `x-amz-checksum-<algorithm>` header a request carries (not the algorithm/type hints), or undefined. */
function checksumHeader(headers) {
  return Object.keys(headers).find((h) => h in CHECKSUMS);
}

/** True when an upload names an integrity check: Content-MD5, a checksum header, or a checksum trailer. */
export function hasIntegrityHeader(req) {
  return req.headers['content-md5'] !== undefined || checksumHeader(req.headers) !== undefined
    || /^x-amz-checksum-/.test(String(req.headers['x-amz-trailer'] ?? ''));
}

async function readBody(req) {
  const parts = [];
  let size = 0;
  for await (const part of req) {
    size += part.length;
    if (size > MAX_BODY) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/**
 * Checks an upload's Content-MD5 and checksum header against its body. `body` is the decoded
 * aws-chunked body when there was one (its trailer was checked by the decoder), else undefined and
 * the request is read here. Returns the body (to hand to the store), or undefined when the request
 * names no check. Throws `S3Error` as S3 answers.
 */
export async function verifyUpload(req, body, { objectLock }) {
  if (objectLock && !hasIntegrityHeader(req)) {
    throw new S3Error(400, 'InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
  }
  const md5 = req.headers['content-md5'];
  const checksum = checksumHeader(req.headers);
  if (md5 === undefined && checksum === undefined) return body;
  const bytes = body ?? await readBody(req);
  if (md5 !== undefined) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(bytes).digest('base64') !== md5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  if (checksum !== undefined && CHECKSUMS[checksum](bytes) !== req.headers[checksum]) {
    throw new S3Error(400, 'BadDigest', `The ${checksum.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`);
  }
  return bytes;
}
