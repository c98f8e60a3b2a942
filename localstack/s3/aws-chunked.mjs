// Decodes `aws-chunked` request bodies as S3 does, so the object holds the bytes the client meant
// and not the framing. Two framings exist (AWS "Signature Calculations ... Chunked Upload" and
// "... Trailing Headers"):
//
//   signed   (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]):
//     <hex size>;chunk-signature=<64 hex>\r\n <size bytes> \r\n   ... repeated, then a 0-size chunk
//   unsigned (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER):
//     <hex size>\r\n <size bytes> \r\n                             ... repeated, then a 0-size chunk
//   after the 0-size chunk, in the -TRAILER variants: trailer lines `name:value\r\n`, for the
//   signed one a last `x-amz-trailer-signature:<64 hex>\r\n`, then an empty line `\r\n`.
//
// Chunk n's signature is HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n"
// signature(n-1) "\n" sha256("") "\n" sha256(chunk data)), chained from the request's (seed)
// signature; the trailer's is HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n"
// last chunk signature "\n" sha256(trailer lines)). The checksum the trailer names
// (`x-amz-trailer`: x-amz-checksum-crc32 | crc32c | sha1 | sha256) is compared with the decoded
// bytes, and the decoded length with `x-amz-decoded-content-length`. Any mismatch is an S3 error
// and nothing is stored.
import { Buffer } from 'node:buffer';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

const SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const MAX_LINE = 4096;
/** Bodies are decoded in memory (this is a test server): bigger ones are refused. */
const MAX_DECODED = Number(process.env.CAIRN_S3_MAX_CHUNKED_BYTES ?? 1024 ** 3);

/** An S3 error answer: `status`, `code`, `message`. */
export class S3Error extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/** True when the request body is aws-chunked (judged by the signed payload-hash header). */
export function isAwsChunked(req) {
  const mode = req.headers['x-amz-content-sha256'];
  return typeof mode === 'string' && mode.startsWith('STREAMING-');
}

let crc32cTable;
function crc32c(buf) {
  if (!crc32cTable) {
    crc32cTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crc32cTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of buf) c = crc32cTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const be32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b.toString('base64'); };
/** The flexible checksums S3 accepts, as header name → base64 digest of a body. */
export const CHECKSUMS = {
  'x-amz-checksum-crc32': (buf) => be32(crc32(buf)),
  'x-amz-checksum-crc32c': (buf) => be32(crc32c(buf)),
  'x-amz-checksum-sha1': (buf) => createHash('sha1').update(buf).digest('base64'),
  'x-amz-checksum-sha256': (buf) => createHash('sha256').update(buf).digest('base64'),
};

/** Reads a request body piece by piece with a cursor, bounded by the caller. */
class Reader {
  #it; #buf = Buffer.alloc(0); #done = false;
  constructor(stream) { this.#it = stream[Symbol.asyncIterator](); }
  async #fill(n) {
    while (this.#buf.length < n && !this.#done) {
      const { value, done } = await this.#it.next();
      if (done) this.#done = true;
      else this.#buf = this.#buf.length ? Buffer.concat([this.#buf, value]) : Buffer.from(value);
    }
  }
  /** The next line without its CRLF; throws when it is longer than MAX_LINE or the body ends. */
  async line() {
    for (;;) {
      const i = this.#buf.indexOf('\r\n');
      if (i !== -1) { const s = this.#buf.subarray(0, i).toString('latin1'); this.#buf = this.#buf.subarray(i + 2); return s; }
      if (this.#buf.length > MAX_LINE) throw new S3Error(400, 'InvalidChunkSizeError', 'Only the last chunk is allowed to have a size less than 8192 bytes');
      if (this.#done) throw new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly');
      await this.#fill(this.#buf.length + 1);
    }
  }
  async bytes(n) {
    await this.#fill(n);
    if (this.#buf.length < n) throw new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly');
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
  async atEnd() { await this.#fill(1); return this.#buf.length === 0; }
}

const sigEqual = (a, hex) => /^[0-9a-f]{64}$/.test(hex) && timingSafeEqual(a, Buffer.from(hex, 'hex'));
const mismatch = () => new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');

/**
 * Reads and decodes the whole aws-chunked body of `req`. `signing` is what verifySigV4 filled in
 * (`{ key, amzDate, scope, signature }`) for the request's seed signature. Resolves to the
 * decoded bytes; rejects with an S3Error.
 */
export async function decodeAwsChunked(req, signing) {
  const mode = req.headers['x-amz-content-sha256'];
  if (![SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER].includes(mode)) {
    throw new S3Error(400, 'InvalidArgument', `x-amz-content-sha256 ${mode} is not supported`);
  }
  const signed = mode !== UNSIGNED_TRAILER;
  const trailer = mode !== SIGNED;
  if (signed && !signing?.key) throw new S3Error(403, 'AccessDenied', 'a signed chunked upload needs a header-signed request');
  const declaredText = req.headers['x-amz-decoded-content-length'];
  if (!/^\d+$/.test(declaredText ?? '')) throw new S3Error(411, 'MissingContentLength', 'You must provide the x-amz-decoded-content-length HTTP header.');
  const declared = Number(declaredText);
  if (declared > MAX_DECODED) throw new S3Error(400, 'EntityTooLarge', `this test server decodes at most ${MAX_DECODED} bytes of an aws-chunked body`);
  const wantedTrailer = trailer ? String(req.headers['x-amz-trailer'] ?? '').toLowerCase() : '';
  if (trailer && wantedTrailer && !CHECKSUMS[wantedTrailer]) throw new S3Error(400, 'InvalidRequest', `trailer ${wantedTrailer} is not supported`);

  const reader = new Reader(req);
  const out = Buffer.alloc(declared);
  let filled = 0;
  let previous = signing?.signature;
  const hmac = (data) => createHmac('sha256', signing.key).update(data, 'utf8').digest();
  for (;;) {
    const header = await reader.line();
    const m = signed ? /^([0-9a-fA-F]{1,16});chunk-signature=(.*)$/.exec(header) : /^([0-9a-fA-F]{1,16})$/.exec(header);
    if (!m) throw new S3Error(400, 'IncompleteBody', 'malformed chunk header');
    const size = parseInt(m[1], 16);
    if (filled + size > declared) throw new S3Error(400, 'IncompleteBody', 'the chunks hold more bytes than x-amz-decoded-content-length');
    const data = await reader.bytes(size);
    if (signed) {
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, previous, EMPTY_SHA256,
        createHash('sha256').update(data).digest('hex')].join('\n');
      const expected = hmac(toSign);
      if (!sigEqual(expected, m[2])) throw mismatch();
      previous = m[2];
    }
    data.copy(out, filled);
    filled += size;
    if (size === 0) break;
    if ((await reader.line()) !== '') throw new S3Error(400, 'IncompleteBody', 'a chunk does not end with CRLF');
  }
  if (filled !== declared) throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header');

  if (!trailer) {
    if ((await reader.line()) !== '') throw new S3Error(400, 'IncompleteBody', 'the final chunk does not end with CRLF');
  } else {
    const lines = [];
    let trailerSig;
    for (;;) {
      const line = await reader.line();
      if (line === '') break;
      if (lines.length > 16) throw new S3Error(400, 'MalformedTrailerError', 'too many trailing headers');
      const i = line.indexOf(':');
      if (i <= 0) throw new S3Error(400, 'MalformedTrailerError', 'malformed trailing header');
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      if (name === 'x-amz-trailer-signature') trailerSig = value;
      else lines.push([name, value]);
    }
    if (signed) {
      const canonical = lines.map(([n, v]) => `${n}:${v}\n`).join('');
      const toSign = ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, previous,
        createHash('sha256').update(canonical).digest('hex')].join('\n');
      if (!trailerSig || !sigEqual(hmac(toSign), trailerSig)) throw mismatch();
    }
    if (wantedTrailer) {
      const sent = lines.find(([n]) => n === wantedTrailer)?.[1];
      if (sent === undefined) throw new S3Error(400, 'MalformedTrailerError', `the trailer ${wantedTrailer} announced in x-amz-trailer is missing`);
      if (CHECKSUMS[wantedTrailer](out) !== sent) {
        throw new S3Error(400, 'BadDigest', `The ${wantedTrailer.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`);
      }
    }
  }
  if (!(await reader.atEnd())) throw new S3Error(400, 'IncompleteBody', 'bytes after the last chunk');
  return out;
}

/** Content-Encoding as S3 stores it: without the `aws-chunked` token (undefined when nothing is left). */
export function withoutAwsChunked(contentEncoding) {
  const rest = String(contentEncoding ?? '').split(',').map((s) => s.trim()).filter((s) => s && s.toLowerCase() !== 'aws-chunked');
  return rest.length ? rest.join(',') : undefined;
}
