/**
 * The S3 backend's own options: URL parsing (every mistake is an error, never a silent default),
 * storage class on data segments only, an explicit endpoint that is never swapped for AWS.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3Backend } from '../../backends/s3/index.js';
import { parseS3Url } from '../../backends/s3/config.js';
import { InvalidUrlError, TransientError } from '../../src/store/errors.js';
// @ts-expect-error -- plain JavaScript module without type declarations
import { freePort } from '../../localstack/launch.mjs';
import { tryStartServer } from '../helpers/servers.js';
import { s3Env, s3Url } from './factories/s3.js';

test('URL: bucket, prefix, endpoint, region, storage class, path style and sizes', () => {
  const c = parseS3Url(new URL('s3://my-bucket/backups/host1?endpoint=https://s3.example.net:9000/&region=eu-west-3&storage-class=standard_ia&page-size=50'));
  assert.equal(c.bucket, 'my-bucket');
  assert.equal(c.prefix, 'backups/host1/');
  assert.equal(c.endpoint, 'https://s3.example.net:9000');
  assert.equal(c.region, 'eu-west-3');
  assert.equal(c.storageClass, 'STANDARD_IA');
  assert.equal(c.forcePathStyle, false);
  assert.equal(c.pageSize, 50);
  const local = parseS3Url(new URL('s3://b-1/?endpoint=http://127.0.0.1:9000'));
  assert.equal(local.prefix, '');
  assert.equal(local.forcePathStyle, true, 'an IP endpoint cannot take the bucket in its host name');
  assert.equal(parseS3Url(new URL('s3://b-1/p?endpoint=http://127.0.0.1:9000&path-style=0')).forcePathStyle, false);
  assert.equal(parseS3Url(new URL('s3://b-1/p')).endpoint, undefined);
});

test('URL: mistakes are one-line InvalidUrlErrors, never defaults', () => {
  for (const bad of [
    's3://b-1/p?endpint=http://x', 's3://b-1/p?endpoint=not a url', 's3://b-1/p?endpoint=ftp://x',
    's3://b-1/p?storage-class=COLD', 's3://b-1/p?storage-class=GLACIER', 's3://b-1/p?storage-class=deep_archive', 's3://b-1/p?page-size=0', 's3://b-1/p?page-size=1001', 's3://b-1/p?path-style=yes',
    's3://B_1/p', 's3://key:secret@b-1/p', 's3://b-1/.hidden', 's3://b-1/p?multipart-threshold=1',
  ]) {
    assert.throws(() => parseS3Url(new URL(bad)), (err) => err instanceof InvalidUrlError && err.code === 'EINVALID_URL' && !err.message.includes('\n'), bad);
  }
  assert.throws(() => parseS3Url(new URL('s3://key:hunter2@b-1/p')), (err) => !(err as Error).message.includes('hunter2'));
});

test('an unreachable explicit endpoint fails there (transient), never falling back to AWS', async () => {
  const port = await freePort();
  const b = await createS3Backend(new URL(`s3://some-bucket/p?endpoint=http://127.0.0.1:${port}&region=us-east-1`), {
    env: { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' },
  });
  const err = await b.get('k').catch((e: unknown) => e);
  assert.ok(err instanceof TransientError && /ECONNREFUSED/.test(err.message), `got ${String(err)}`);
  await b.close();
});

const server = await tryStartServer('s3');
if (server instanceof Error) {
  test('s3 options: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  after(() => server.stop());
  const env = server.env;

  test('storage-class applies to keys under data/ only; multipart uploads carry it too', async () => {
    const b = await createS3Backend(s3Url(env, 'sc', { 'storage-class': 'STANDARD_IA', 'multipart-threshold': String(5 << 20), 'part-size': String(5 << 20) }), { env: s3Env(env) });
    const s3 = new S3Client({
      endpoint: env.S3_ENDPOINT, region: env.S3_REGION, forcePathStyle: true,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
    });
    try {
      await b.create();
      await b.put('data/0/1', new Uint8Array(10));
      await b.put('data/0/2', new Uint8Array(11 << 20)); // three parts
      await b.put('config', new Uint8Array(10));
      await b.put('index/0-1', new Uint8Array(10));
      const classOf = async (key: string) => (await s3.send(new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: `sc/${key}` }))).StorageClass;
      assert.equal(await classOf('data/0/1'), 'STANDARD_IA');
      assert.equal(await classOf('data/0/2'), 'STANDARD_IA');
      assert.equal(await classOf('config'), undefined);
      assert.equal(await classOf('index/0-1'), undefined);
      const head = await s3.send(new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: 'sc/data/0/2' }));
      assert.match(head.ETag ?? '', /-3"$/, 'uploaded in three parts');
      assert.equal(head.ContentLength, 11 << 20);
    } finally {
      await b.destroy();
      await b.close();
      s3.destroy();
    }
  });
}
