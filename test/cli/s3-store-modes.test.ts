// The S3 store modes that AWS's defaults do not show (issue 12), through the built `cairn`: a bucket
// with Object Lock (every upload needs Content-MD5 or a checksum), a store that ignores
// If-None-Match (older MinIO, gateways) and one that answers 501 to it (Backblaze B2, Alibaba OSS).
// The local server models each with a bucket of its own (localstack/s3/README.md, "Bucket modes").
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn, describeTree, ok, oneLine, assertSameTree } from './helpers.js';
import { s3Env, s3Url, startFactory } from '../backends/factories/s3.js';
import { createS3Backend } from '../../backends/s3/index.js';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const factory = await startFactory();

if (factory instanceof Error) {
  test('s3 store modes: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-s3-modes-'));
  after(async () => { await factory.stop(); await rm(dir, { recursive: true, force: true }); });
  const env = { ...s3Env(factory.env), CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache') };
  const urlIn = (bucketSuffix: string, root: string) => s3Url({ ...factory.env, S3_BUCKET: `${factory.env.S3_BUCKET}${bucketSuffix}` }, root).href;
  const keysIn = async (url: string): Promise<string[]> => {
    const backend = await createS3Backend(new URL(url), { env: s3Env(factory.env) });
    const out: string[] = [];
    for await (const { key } of backend.list('')) out.push(key);
    await backend.close();
    return out;
  };

  test('a bucket with Object Lock: rcreate, create (small files and a multipart-sized index), extract and check all succeed', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'hello object lock\n');
    await writeFile(join(src, 'sub', 'b.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    // A multipart threshold below the segment size makes segments go up in parts: each part needs its own MD5.
    const url = urlIn('-objectlock', 'repo/') + '&multipart-threshold=5242880&part-size=5242880';
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    await writeFile(join(src, 'sub', 'c.bin'), Buffer.alloc(12 * 1024 * 1024, 9).map((_, i) => (i * 2654435761) >>> 24));
    await ok(['-r', url, 'create', 'one', src, '-C', 'none'], { env });
    const target = join(dir, 'restored');
    await mkdir(target);
    await ok(['-r', url, 'extract', 'one'], { env, cwd: target });
    assertSameTree(await describeTree(join(target, src.slice(1))), await describeTree(src));
    await ok(['-r', url, 'check', '--verify-data'], { env });
  });

  test('a store that ignores If-None-Match: rcreate refuses with one line, exit 2, and leaves the store empty', async () => {
    const url = urlIn('-nocond', 'repo/');
    const r = await cairn(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /ignores conditional writes/);
    assert.deepEqual(await keysIn(url), []);
    assert.match(r.stderr, /lacks a feature cairn needs/, 'the ESTORE_UNSUPPORTED hint');
  });

  test('a store that answers 501 to If-None-Match: rcreate fails at once (not retried for the budget) with ESTORE_UNSUPPORTED', async () => {
    const url = urlIn('-cond501', 'repo/');
    const started = Date.now();
    const r = await cairn(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /does not support conditional writes.*lacks a feature cairn needs/, 'the ESTORE_UNSUPPORTED hint');
    assert.ok(Date.now() - started < 30_000, 'a 501 is permanent: no retries');
    assert.deepEqual(await keysIn(url), []);
  });

  test('segments moved to GLACIER by a lifecycle rule: extract fails with one line that says to restore them, not to check the credentials', async () => {
    const src = join(dir, 'cold-src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'f.txt'), 'cold data\n');
    const url = urlIn('', 'cold/');
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    await ok(['-r', url, 'create', 'one', src], { env });
    // What a lifecycle transition does: the same bytes, now in GLACIER.
    const s3 = new S3Client({ endpoint: factory.env.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
      credentials: { accessKeyId: factory.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: factory.env.AWS_SECRET_ACCESS_KEY ?? '' } });
    const Bucket = factory.env.S3_BUCKET;
    for (const key of (await keysIn(url)).filter((k) => k.startsWith('data/'))) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket, Key: `cold/${key}` }))).Body!.transformToByteArray();
      await s3.send(new PutObjectCommand({ Bucket, Key: `cold/${key}`, Body: body, StorageClass: 'GLACIER' }));
    }
    s3.destroy();
    const target = join(dir, 'cold-restored');
    await mkdir(target);
    const r = await cairn(['-r', url, '--retry-budget', '5s', 'extract', 'one'], { env, cwd: target });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /archive storage class and must be restored/);
    assert.doesNotMatch(r.stderr, /credentials/);
    const bad = await cairn(['-r', urlIn('', 'other/') + '&storage-class=GLACIER', 'rcreate', '-e', 'repokey'], { env });
    assert.equal(bad.code, 2);
    assert.match(oneLine(bad.stderr), /storage-class=GLACIER needs a restore/);
  });
}
