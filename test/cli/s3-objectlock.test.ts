// Object Lock as a repository feature (issue 12; docs/adr/0056-object-retention.md), through the
// `cairn` executable against the local S3 server, whose `<bucket>-objectlock` bucket models AWS's
// Object Lock (localstack/s3/object-lock.mjs): retention per object version, deletes of a retained
// version refused with 403 AccessDenied. Retention periods in seconds need CAIRN_TEST_SHORT_RETENTION=1.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { assertSameTree, cairn, describeTree, ok, oneLine } from './helpers.js';
import { s3Env, s3Url, startFactory } from '../backends/factories/s3.js';
import { createS3Backend } from '../../backends/s3/index.js';
import { TEST_RETENTION_SECONDS, compactOnceRetentionEnds, waitUntilPast } from '../helpers/retention.js';

const factory = await startFactory();

if (factory instanceof Error) {
  test('s3 object lock: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-s3-lock-'));
  const s3 = new S3Client({ endpoint: factory.env.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: factory.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: factory.env.AWS_SECRET_ACCESS_KEY ?? '' } });
  after(async () => { s3.destroy(); await factory.stop(); await rm(dir, { recursive: true, force: true }); });
  const env = { ...s3Env(factory.env), CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache'), CAIRN_TEST_SHORT_RETENTION: '1' };
  const lockBucket = `${factory.env.S3_BUCKET}-objectlock`;
  const urlIn = (bucket: string, root: string) => s3Url({ ...factory.env, S3_BUCKET: bucket }, root).href;
  const keysIn = async (url: string, prefix = ''): Promise<string[]> => {
    const backend = await createS3Backend(new URL(url), { env: s3Env(factory.env) });
    const out: string[] = [];
    for await (const { key } of backend.list(prefix)) out.push(key);
    await backend.close();
    return out;
  };

  test('rcreate --retention-*: refused with one line (exit 2, nothing written) on a bucket without Object Lock, on a folder, and for bad values', async () => {
    const plain = urlIn(factory.env.S3_BUCKET, 'nolock/');
    const r = await cairn(['-r', plain, 'rcreate', '-e', 'repokey', '--retention-mode', 'governance', '--retention-period', '30d'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /has no Object Lock/);
    assert.deepEqual(await keysIn(plain), []);
    const folder = join(dir, 'folder-repo');
    const f = await cairn(['-r', folder, 'rcreate', '-e', 'repokey', '--retention-mode', 'compliance', '--retention-period', '1y'], { env });
    assert.equal(f.code, 2, f.stderr);
    assert.match(oneLine(f.stderr), /cannot keep objects under retention/);
    const url = urlIn(lockBucket, 'bad/');
    for (const args of [['--retention-mode', 'governance'], ['--retention-period', '30d'], ['--retention-mode', 'forever', '--retention-period', '30d'],
      ['--retention-mode', 'governance', '--retention-period', '12h']]) {
      const bad = await cairn(['-r', url, 'rcreate', '-e', 'repokey', ...args], { env });
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.equal(oneLine(bad.stderr).split('\n').length, 1);
    }
    // Seconds are for tests only: without the switch the shortest period is one day.
    const short = await cairn(['-r', url, 'rcreate', '-e', 'repokey', '--retention-mode', 'governance', '--retention-period', '5s'], { env: { ...env, CAIRN_TEST_SHORT_RETENTION: '' } });
    assert.equal(short.code, 2, short.stderr);
    assert.deepEqual(await keysIn(url), []);
    // A bucket rcreate has to make is made with Object Lock, and the repository's objects are retained.
    const fresh = `${factory.env.S3_BUCKET}-fresh-lock`;
    await ok(['-r', urlIn(fresh, 'repo/'), 'rcreate', '-e', 'repokey', '--retention-mode', 'governance', '--retention-period', '1d'], { env });
    const head = await s3.send(new HeadObjectCommand({ Bucket: fresh, Key: 'repo/config' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
  });

  test('the harness models Object Lock: lock headers need a bucket with it, and a retained version cannot be deleted', async () => {
    const Body = Buffer.from('x');
    const ContentMD5 = createHash('md5').update(Body).digest('base64');
    const until = new Date(Date.now() + 60_000);
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: factory.env.S3_BUCKET, Key: 'h/x', Body, ContentMD5, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until })),
      (e: Error) => e.name === 'InvalidRequest');
    await s3.send(new PutObjectCommand({ Bucket: lockBucket, Key: 'h/x', Body, ContentMD5, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: lockBucket, Key: 'h/x' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
    assert.ok(Math.abs(head.ObjectLockRetainUntilDate!.getTime() - until.getTime()) < 1000);
    assert.ok(head.VersionId);
    await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: lockBucket, Key: 'h/x', VersionId: head.VersionId })), (e: Error) => e.name === 'AccessDenied');
  });

  test('a repository with retention: every object but the locks is retained; delete, prune and compact postpone what is retained, and a later run deletes it', async () => {
    const src = join(dir, 'src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.txt'), 'kept under retention\n');
    await writeFile(join(src, 'b.bin'), Buffer.alloc(200_000, 3));
    const url = urlIn(lockBucket, 'repo/');
    const started = Date.now();
    const created = JSON.parse(await ok(['-r', url, '--json', 'rcreate', '-e', 'repokey', '--retention-mode', 'governance', '--retention-period', `${TEST_RETENTION_SECONDS}s`], { env }));
    assert.deepEqual(created.retention, { mode: 'governance', seconds: TEST_RETENTION_SECONDS });
    await ok(['-r', url, 'create', 'one', src], { env });
    await writeFile(join(src, 'c.txt'), 'only in two\n');
    await ok(['-r', url, 'create', 'two', src], { env });

    // (Within the retention of 'one': delete and prune must find its record still retained.)
    // delete: the record is retained, so the archive stays, and the command says until when.
    const del = JSON.parse(await ok(['-r', url, '--json', 'delete', 'one'], { env }));
    assert.deepEqual(del.deleted, []);
    assert.equal(del.postponed.length, 1);
    assert.equal(del.postponed[0].name, 'one');
    assert.ok(Date.parse(del.postponed[0].until) > Date.now() - 1000);
    assert.ok((await keysIn(url, 'records/')).some((k) => k.includes('one')), 'the record is still there');
    const pruneHuman = await ok(['-r', url, 'prune', '--keep-last', '1', '--group-by', 'none'], { env });
    assert.match(pruneHuman, /postponed deleting archive one: the store keeps it under retention until/);

    // Every object cairn wrote is retained, locks excepted (none is left after the commands). Checked
    // after delete and prune, which postponed everything, so as not to lengthen the retention window.
    const keys = await keysIn(url);
    for (const prefix of ['config', 'keys/', 'data/', 'index/', 'records/']) assert.ok(keys.some((k) => k.startsWith(prefix)), prefix);
    assert.deepEqual(keys.filter((k) => k.startsWith('locks/')), []);
    for (const key of keys) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: lockBucket, Key: `repo/${key}` }));
      assert.equal(head.ObjectLockMode, 'GOVERNANCE', key);
      assert.ok(head.ObjectLockRetainUntilDate!.getTime() >= started + (TEST_RETENTION_SECONDS - 1) * 1000, key);
    }

    // Once the retention has ended, prune deletes the archive.
    await waitUntilPast(del.postponed[0].until);
    const pruned = (await ok(['-r', url, '--json', 'prune', '--keep-last', '1', '--group-by', 'none'], { env })).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(pruned.some((l) => l.name === 'one' && l.action === 'prune'));
    assert.ok(!pruned.some((l) => l.action === 'postponed'));
    assert.deepEqual((await ok(['-r', url, 'rlist', '--short'], { env })).trim().split('\n'), ['two']);

    // compact: what it writes now (the sweep's commit, the new index) it must delete at once, and cannot.
    const first = JSON.parse(await ok(['-r', url, '--json', 'compact', '--threshold', '100'], { env }));
    assert.ok(first.repository.postponed.objects > 0, JSON.stringify(first.repository));
    assert.ok(Date.parse(first.repository.postponed.until) > Date.now() - 1000);
    const human = await cairn(['-r', url, 'compact'], { env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /postponed deleting \d+ object\(s\) the store keeps under retention until .*: run compact again/);
    await ok(['-r', url, 'check'], { env });

    // After the retention: a later compaction deletes everything it postponed.
    await compactOnceRetentionEnds(url, env, first.repository.postponed.until);
    const index = await keysIn(url, 'index/');
    assert.equal(index.length, 1, index.join(' '));
    assert.match(index[0], /^index\/full-/);
    await ok(['-r', url, 'check', '--verify-data'], { env });
    const target = join(dir, 'restored');
    await mkdir(target);
    await ok(['-r', url, 'extract', 'two'], { env, cwd: target });
    assertSameTree(await describeTree(join(target, src.slice(1))), await describeTree(src));
  });

  test('a store writer who strips the retention from the plaintext config is caught by the sealed settings (ESECURITY_RETENTION)', async () => {
    const url = urlIn(lockBucket, 'tamper/');
    await ok(['-r', url, 'rcreate', '-e', 'repokey', '--retention-mode', 'compliance', '--retention-period', '30s'], { env });
    assert.deepEqual(JSON.parse(await ok(['-r', url, '--json', 'rinfo'], { env })).retention, { mode: 'compliance', seconds: 30 });
    const Key = 'tamper/config';
    const config = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: lockBucket, Key }))).Body!.transformToString());
    assert.deepEqual(config.retention, { mode: 'compliance', seconds: 30 });
    assert.equal(config.version, 2);
    // On AWS an overwrite adds a version (the old one stays retained); later writers would read this one.
    const Body = Buffer.from(JSON.stringify({ ...config, version: 1, retention: undefined }) + '\n');
    await s3.send(new PutObjectCommand({ Bucket: lockBucket, Key, Body, ContentMD5: createHash('md5').update(Body).digest('base64') }));
    const r = await cairn(['-r', url, '--json', 'rlist'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(JSON.parse(r.stderr.trim().split('\n').pop()!).error.code, 'ESECURITY_RETENTION');
  });
}
