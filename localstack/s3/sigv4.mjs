// Verifies AWS Signature Version 4 on header-signed requests, as real S3 does: s3rver 3.7.1
// only looks the access key up and accepts any signature, so a wrong secret would go unnoticed.
import { Buffer } from 'node:buffer';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const hmac = (key, data) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data) => createHash('sha256').update(data, 'utf8').digest('hex');
const strictEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(rawQuery) {
  if (!rawQuery) return '';
  return rawQuery.split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    const k = eq === -1 ? pair : pair.slice(0, eq);
    const v = eq === -1 ? '' : pair.slice(eq + 1);
    return [strictEncode(decodeURIComponent(k)), strictEncode(decodeURIComponent(v))];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Checks the request's `Authorization` header against `secretFor(accessKeyId)`. Returns
 * undefined when it is valid, else `{ code, message }` of the S3 error to answer with 403.
 * Requests signed in the query string (presigned URLs) are left to s3rver. When the signature is
 * valid and `signing` is given, it receives `{ key, amzDate, scope, signature }`, which an
 * aws-chunked body's chunk signatures chain from.
 */
export function verifySigV4(req, secretFor, signing) {
  const auth = req.headers.authorization;
  if (!auth) {
    if (/[?&]X-Amz-Signature=/.test(req.url)) return undefined;
    return { code: 'AccessDenied', message: 'Access Denied' };
  }
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { code: 'AccessDenied', message: 'Unsupported or malformed Authorization header' };
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m;
  const secret = secretFor(accessKeyId);
  if (secret === undefined) {
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  const q = req.url.indexOf('?');
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const headerLines = signedHeaders.split(';').map((name) => {
    const value = req.headers[name];
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
  }).join('');
  const canonical = [
    req.method, path || '/', canonicalQuery(q === -1 ? '' : req.url.slice(q + 1)),
    headerLines, signedHeaders, req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'] ?? '', scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, toSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return {
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  if (signing) Object.assign(signing, { key, amzDate: req.headers['x-amz-date'] ?? '', scope, signature });
  return undefined;
}
