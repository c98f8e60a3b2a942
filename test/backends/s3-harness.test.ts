/**
 * Proves each correction localstack/s3 makes to s3rver 3.7.1 (see its README.md), speaking S3
 * directly through the SDK, so the conformance run cannot pass by a backend working around them.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { tryStartServer } from '../helpers/servers.js';

const server = await tryStartServer('s3');
const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const nameOf = (err: unknown) => (err as Error).name;

/** SHA-256 / HMAC-SHA256 for @smithy/signature-v4 (the SDK's own signer), from node:crypto. */
class Sha256 {
  readonly #h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as ArrayBuffer));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) { this.#h.update(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer)); }
  async digest() { return new Uint8Array(this.#h.digest()); }
  reset() { /* single use */ }
}
const sha256hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

if (server instanceof Error) {
  test('s3 harness: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const env = server.env;
  const client = (secret = env.AWS_SECRET_ACCESS_KEY, id = env.AWS_ACCESS_KEY_ID) => new S3Client({
    endpoint: env.S3_ENDPOINT, region: env.S3_REGION, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: id ?? '', secretAccessKey: secret ?? '' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const s3 = client();
  const Bucket = env.S3_BUCKET;
  const put = (Key: string, body: string | Uint8Array) => s3.send(new PutObjectCommand({ Bucket, Key, Body: body }));
  const getText = async (Key: string, Range?: string) =>
    (await s3.send(new GetObjectCommand({ Bucket, Key, Range }))).Body!.transformToString();
  after(async () => { s3.destroy(); await server.stop(); });

  test('ranges: suffix, 0-0, open end, past the end, empty object', async () => {
    await put('h/range', '0123456789');
    await put('h/empty', '');
    assert.equal(await getText('h/range', 'bytes=-3'), '789');
    assert.equal(await getText('h/range', 'bytes=-30'), '0123456789');
    assert.equal(await getText('h/range', 'bytes=0-0'), '0');
    assert.equal(await getText('h/range', 'bytes=9-0'), '0123456789', 'an invalid range is ignored');
    assert.equal(await getText('h/range', 'bytes=7-'), '789');
    assert.equal(await getText('h/range', 'bytes=5-100'), '56789');
    for (const [Key, Range] of [['h/range', 'bytes=10-12'], ['h/range', 'bytes=-0'], ['h/empty', 'bytes=0-0']]) {
      await assert.rejects(getText(Key as string, Range), (err) => status(err) === 416 && nameOf(err) === 'InvalidRange', `${Key} ${Range}`);
    }
  });

  test('conditional PUT: If-None-Match * and If-Match are enforced, atomically', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      s3.send(new PutObjectCommand({ Bucket, Key: 'h/cond', Body: `v${i}`, IfNoneMatch: '*' }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal(status(r.reason), 412);
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket, Key: 'h/cond' }));
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket, Key: 'h/cond', Body: 'x', IfMatch: '"0"' })), (err) => status(err) === 412);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'h/cond', Body: 'y', IfMatch: ETag }));
    assert.equal(await getText('h/cond'), 'y');
  });

  test('signatures are verified: wrong secret, unknown key and anonymous requests get 403', async () => {
    const wrong = client('not-the-secret');
    const unknown = client(undefined, 'AKIDUNKNOWN');
    try {
      await assert.rejects(wrong.send(new HeadObjectCommand({ Bucket, Key: 'h/range' })), (err) => status(err) === 403);
      await assert.rejects(wrong.send(new ListObjectsV2Command({ Bucket })), (err) => nameOf(err) === 'SignatureDoesNotMatch');
      await assert.rejects(unknown.send(new ListObjectsV2Command({ Bucket })), (err) => nameOf(err) === 'InvalidAccessKeyId');
    } finally {
      wrong.destroy();
      unknown.destroy();
    }
    assert.equal((await fetch(`${env.S3_ENDPOINT}/${Bucket}/h/range`)).status, 403);
  });

  test('listing pages in byte order of the whole key, with keys like p, p/q, p-1', async () => {
    const keys = ['h/l/p', 'h/l/p/q', 'h/l/p-1', 'h/l/p/q/r', 'h/l/p0', 'h/l/p.x', 'h/l/o/z', 'h/l/q'];
    for (const key of keys) await put(key, key);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'h/l/', MaxKeys: 3, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      pages += 1;
    } while (token);
    assert.deepEqual(seen, [...keys].sort());
    assert.equal(pages, 3);
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'h/l/', Delimiter: '/', MaxKeys: 3 }));
    assert.deepEqual(grouped.CommonPrefixes?.map((p) => p.Prefix), ['h/l/o/']);
    assert.deepEqual(grouped.Contents?.map((o) => o.Key), ['h/l/p', 'h/l/p-1']);
  });

  test('DeleteObjects of many keys in one folder, racing puts into it, never fails', async () => {
    for (let round = 0; round < 3; round++) {
      const keys = Array.from({ length: 60 }, (_, i) => `h/d/${round}/k${i}`);
      await Promise.all(keys.map((k) => put(k, 'x')));
      const [res] = await Promise.all([
        s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } })),
        ...Array.from({ length: 10 }, (_, i) => put(`h/d/${round}/new${i}`, 'y')),
      ]);
      assert.equal(res.Errors?.length ?? 0, 0);
      const left = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `h/d/${round}/` }));
      assert.deepEqual(left.Contents?.map((o) => o.Key).sort(), Array.from({ length: 10 }, (_, i) => `h/d/${round}/new${i}`).sort());
    }
  });

  test('an overwrite is atomic: readers see the old or the new object, never a mix', async () => {
    const a = Buffer.alloc(4 << 20, 'a');
    const b = Buffer.alloc(2 << 20, 'b');
    await put('h/over', a);
    let writes = Promise.resolve();
    for (let i = 0; i < 6; i++) writes = writes.then(async () => { await put('h/over', i % 2 ? a : b); });
    let done = false;
    void writes.finally(() => { done = true; });
    let reads = 0;
    while (!done || reads === 0) {
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'h/over' }))).Body!.transformToByteArray());
      assert.ok(body.equals(a) || body.equals(b), `read ${body.length} bytes of a mixed object`);
      reads += 1;
    }
    await writes;
  });

  test('multipart upload: the object appears whole at completion with an ETag ending in -<parts>', async () => {
    const Key = 'h/multi';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const parts = [];
    for (const [i, text] of ['part-one|', 'part-two|', 'three'].entries()) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: text }));
      parts.push({ ETag, PartNumber: i + 1 });
    }
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket, Key })), (err) => status(err) === 404);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-3"$/);
    assert.equal(await getText(Key), 'part-one|part-two|three');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key }))).ETag, done.ETag);
  });

  /**
   * Sends a PUT whose headers the SDK's SigV4 signer signs (with `mode` as x-amz-content-sha256)
   * and whose body `frame(seed, signingKey, amzDate, scope)` builds; resolves to the answer.
   */
  const rawPut = async (Key: string, mode: string, decodedLength: number, extra: Record<string, string>,
    frame: (s: { seed: string; key: Buffer; amzDate: string; scope: string }) => Buffer) => {
    const url = new URL(`${env.S3_ENDPOINT}/${Bucket}/${Key}`);
    const signer = new SignatureV4({ service: 's3', region: env.S3_REGION as string, sha256: Sha256, uriEscapePath: false,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string } });
    const probe = { seed: '', key: Buffer.alloc(0), amzDate: '', scope: '' };
    const headers: Record<string, string> = {
      host: url.host, 'x-amz-content-sha256': mode, 'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(decodedLength), ...extra,
    };
    const signed = await signer.sign({ method: 'PUT', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers });
    const auth = String(signed.headers.authorization);
    const m = /Credential=[^/]+\/(\d{8})\/([^/]+)\/s3\/aws4_request.*Signature=([0-9a-f]{64})/.exec(auth) as RegExpExecArray;
    let key = createHmac('sha256', `AWS4${env.AWS_SECRET_ACCESS_KEY}`).update(m[1] as string).digest();
    for (const part of [m[2] as string, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    Object.assign(probe, { seed: m[3], key, amzDate: signed.headers['x-amz-date'], scope: `${m[1]}/${m[2]}/s3/aws4_request` });
    const body = frame(probe);
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers: { ...signed.headers, 'content-length': String(body.length) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing of `chunks`, each chunk signed and chained. */
  const signedFrame = (chunks: Buffer[], tamper?: (i: number, data: Buffer) => Buffer) => (s: { seed: string; key: Buffer; amzDate: string; scope: string }) => {
    let previous = s.seed;
    const parts: Buffer[] = [];
    for (const [i, data] of [...chunks, Buffer.alloc(0)].entries()) {
      const sig = createHmac('sha256', s.key).update(['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, sha256hex(''), sha256hex(data)].join('\n')).digest('hex');
      previous = sig;
      parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`), tamper ? tamper(i, data) : data, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  };
  const crcText = (data: Buffer) => { const b = Buffer.alloc(4); b.writeUInt32BE(crc32(data)); return b.toString('base64'); };
  const exists = (Key: string) => s3.send(new HeadObjectCommand({ Bucket, Key })).then(() => true, (err: unknown) => (status(err) === 404 ? false : Promise.reject(err)));

  test('aws-chunked: a stream body with the SDK default checksum (unsigned, CRC32 trailer) is stored decoded', async () => {
    const data = randomBytes(200_000);
    const sent: Record<string, string>[] = [];
    const streaming = new S3Client({
      endpoint: env.S3_ENDPOINT, region: env.S3_REGION, forcePathStyle: true, maxAttempts: 1,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
    });
    streaming.middlewareStack.add((next) => async (args) => {
      sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
      return next(args);
    }, { step: 'finalizeRequest', name: 'recordHeaders' });
    try {
      await streaming.send(new PutObjectCommand({ Bucket, Key: 'h/chunked-sdk', Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), ContentLength: data.length }));
      assert.equal(sent[0]?.['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'the SDK sent an aws-chunked body');
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'h/chunked-sdk' }));
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
      assert.equal(got.ContentLength, data.length);
      assert.notEqual(got.ContentEncoding, 'aws-chunked');
    } finally { streaming.destroy(); }
  });

  test('aws-chunked: signed chunks are decoded and their signatures checked; a bad checksum, a tampered or short body stores nothing', async () => {
    const chunks = [randomBytes(8192), randomBytes(8192), randomBytes(100)];
    const whole = Buffer.concat(chunks);
    const ok = await rawPut('h/chunked-signed', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', whole.length, {}, signedFrame(chunks));
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'h/chunked-signed' }))).Body!.transformToByteArray()), whole);

    const flipped = await rawPut('h/chunked-tampered', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', whole.length, {},
      signedFrame(chunks, (i, d) => (i === 1 ? Buffer.concat([Buffer.from([d[0]! ^ 1]), d.subarray(1)]) : d)));
    assert.equal(flipped.status, 403);
    assert.match(flipped.text, /<Code>SignatureDoesNotMatch<\/Code>/);

    const short = await rawPut('h/chunked-short', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', whole.length + 1, {}, signedFrame(chunks));
    assert.equal(short.status, 400);
    assert.match(short.text, /<Code>IncompleteBody<\/Code>/);

    const unsigned = (crc: string) => () => Buffer.concat([
      Buffer.from(`${whole.length.toString(16)}\r\n`), whole, Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`)]);
    const trailer = { 'x-amz-trailer': 'x-amz-checksum-crc32' };
    const bad = await rawPut('h/chunked-baddigest', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', whole.length, trailer, unsigned(crcText(Buffer.from('other'))));
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>BadDigest<\/Code>/);
    const good = await rawPut('h/chunked-trailer', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', whole.length, trailer, unsigned(crcText(whole)));
    assert.equal(good.status, 200, good.text);

    for (const Key of ['h/chunked-tampered', 'h/chunked-short', 'h/chunked-baddigest']) assert.equal(await exists(Key), false, Key);
    assert.equal(await exists('h/chunked-trailer'), true);
  });

  const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('base64');

  test('upload integrity: Content-MD5 and x-amz-checksum-* are compared with the body (BadDigest), nothing stored on a mismatch', async () => {
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket, Key: 'h/md5-bad', Body: 'payload', ContentMD5: md5('other') })),
      (err) => status(err) === 400 && nameOf(err) === 'BadDigest');
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket, Key: 'h/md5-bad', Body: 'payload', ContentMD5: 'not-base64' })),
      (err) => status(err) === 400 && nameOf(err) === 'InvalidDigest');
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket, Key: 'h/md5-bad', Body: 'payload', ChecksumCRC32: crcText(Buffer.from('other')) })),
      (err) => status(err) === 400 && nameOf(err) === 'BadDigest');
    assert.equal(await exists('h/md5-bad'), false);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'h/md5-good', Body: 'payload', ContentMD5: md5('payload') }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'h/crc-good', Body: 'payload', ChecksumCRC32: crcText(Buffer.from('payload')) }));
    assert.equal(await getText('h/md5-good'), 'payload');
    assert.equal(await getText('h/crc-good'), 'payload');
  });

  test('bucket modes: Object Lock refuses uploads without an integrity header (PutObject and UploadPart)', async () => {
    const Locked = `${Bucket}-objectlock`;
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: Locked, Key: 'x', Body: 'payload' })),
      (err) => status(err) === 400 && nameOf(err) === 'InvalidRequest');
    await s3.send(new PutObjectCommand({ Bucket: Locked, Key: 'x', Body: 'payload', ContentMD5: md5('payload') }));
    await s3.send(new PutObjectCommand({ Bucket: Locked, Key: 'y', Body: 'payload', ChecksumCRC32: crcText(Buffer.from('payload')) }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: Locked, Key: 'm' }));
    await assert.rejects(s3.send(new UploadPartCommand({ Bucket: Locked, Key: 'm', UploadId, PartNumber: 1, Body: 'part' })),
      (err) => status(err) === 400 && nameOf(err) === 'InvalidRequest');
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: Locked, Key: 'm', UploadId, PartNumber: 1, Body: 'part', ContentMD5: md5('part') }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: Locked, Key: 'm', UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }));
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: Locked, Key: 'm' }))).Body !== undefined, true);
  });

  test('bucket modes: one store ignores If-None-Match, another answers 501 NotImplemented', async () => {
    const ignoring = `${Bucket}-nocond`;
    await s3.send(new PutObjectCommand({ Bucket: ignoring, Key: 'c', Body: 'one', IfNoneMatch: '*' }));
    await s3.send(new PutObjectCommand({ Bucket: ignoring, Key: 'c', Body: 'two', IfNoneMatch: '*' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: ignoring, Key: 'c' }))).Body!.transformToString(), 'two');
    const refusing = `${Bucket}-cond501`;
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: refusing, Key: 'c', Body: 'one', IfNoneMatch: '*' })),
      (err) => status(err) === 501 && nameOf(err) === 'NotImplemented');
    await s3.send(new PutObjectCommand({ Bucket: refusing, Key: 'c', Body: 'one' }));
  });
}
