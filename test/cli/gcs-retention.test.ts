// GCS object retention (the equivalent of S3 Object Lock; docs/backends/gcs.md, "Object retention")
// through the `cairn` executable against the local GCS server, whose front layer models it
// (localstack/gcs/README.md): buckets created with enableObjectRetention=true, `retention` kept per
// object, a delete or overwrite of a retained object refused with 403 retentionPolicyNotMet.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSameTree, cairn, describeTree, ok, oneLine } from './helpers.js';
import { gcsEnv, gcsUrl, startFactory } from '../backends/factories/gcs.js';
import { createGcsBackend } from '../../backends/gcs/index.js';
import { translateError } from '../../backends/gcs/translate-error.js';
import { RetainedObjectError } from '../../src/store/errors.js';
import { TEST_RETENTION_SECONDS, compactOnceRetentionEnds, waitUntilPast } from '../helpers/retention.js';

const factory = await startFactory();

test('a 403 retentionPolicyNotMet (bucket retention policy, object retention) is ERETAINED, not a credentials problem', () => {
  const err = Object.assign(new Error('Object is subject to bucket\'s retention policy'), { code: 403, errors: [{ reason: 'retentionPolicyNotMet' }] });
  const mapped = translateError(err, 'data/x');
  assert.ok(mapped instanceof RetainedObjectError);
  assert.equal(mapped.code, 'ERETAINED');
  assert.equal(translateError(Object.assign(new Error('no'), { code: 403, errors: [{ reason: 'forbidden' }] })).code, 'EPERMISSION');
});

if (factory instanceof Error) {
  test('gcs retention: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-gcs-retention-'));
  after(async () => { await factory.stop(); await rm(dir, { recursive: true, force: true }); });
  const env = { ...gcsEnv(factory.env), CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache'), CAIRN_TEST_SHORT_RETENTION: '1' };
  const urlIn = (bucket: string, root: string) => gcsUrl({ ...factory.env, GCS_BUCKET: bucket }, root).href;

  test('rcreate --retention-*: refused on a bucket without object retention; a bucket it creates gets it', async () => {
    const plainBucket = `${factory.env.GCS_BUCKET}-plain`;
    await ok(['-r', urlIn(plainBucket, 'first/'), 'rcreate', '-e', 'repokey'], { env });
    const r = await cairn(['-r', urlIn(plainBucket, 'second/'), 'rcreate', '-e', 'repokey', '--retention-mode', 'governance', '--retention-period', '30d'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /does not have object retention enabled/);
  });

  test('the harness models object retention: a plain delete or an overwrite of a retained object is 403 retentionPolicyNotMet (ERETAINED)', async () => {
    const backend = await createGcsBackend(new URL(urlIn(`${factory.env.GCS_BUCKET}-harness`, 'h/')), { env: gcsEnv(factory.env) });
    try {
      await backend.create({ retention: true });
      const until = new Date(Date.now() + 60_000);
      await backend.put('data/x', new Uint8Array([1, 2, 3]), { retention: { mode: 'governance', until } });
      await assert.rejects(backend.delete('data/x'), (e: Error & { code?: string }) => e.code === 'ERETAINED');
      await assert.rejects(backend.put('data/x', new Uint8Array([4])), (e: Error & { code?: string }) => e.code === 'ERETAINED');
      await assert.rejects(backend.delete('data/x', { retained: true }),
        (e: unknown) => e instanceof RetainedObjectError && Math.abs(e.retainUntil!.getTime() - until.getTime()) < 1000);
      assert.deepEqual([...await backend.get('data/x')], [1, 2, 3]);
      await backend.put('data/y', new Uint8Array([5]));
      await backend.delete('data/y', { retained: true });
      assert.equal(await backend.stat('data/y'), undefined);
    } finally {
      await backend.close();
    }
  });

  test('a repository with retention on GCS: delete, prune and compact postpone what is retained, a later run deletes it, restores stay exact', async () => {
    const src = join(dir, 'src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.txt'), 'kept under retention\n');
    const url = urlIn(`${factory.env.GCS_BUCKET}-retained`, 'repo/');
    await ok(['-r', url, 'rcreate', '-e', 'repokey', '--retention-mode', 'governance', '--retention-period', `${TEST_RETENTION_SECONDS}s`], { env });
    await ok(['-r', url, 'create', 'one', src], { env });
    await writeFile(join(src, 'b.txt'), 'only in two\n');
    await ok(['-r', url, 'create', 'two', src], { env });

    const del = JSON.parse(await ok(['-r', url, '--json', 'delete', 'one'], { env }));
    assert.deepEqual(del.deleted, []);
    assert.equal(del.postponed[0].name, 'one');
    await waitUntilPast(del.postponed[0].until);
    const again = JSON.parse(await ok(['-r', url, '--json', 'delete', 'one'], { env }));
    assert.deepEqual(again.deleted, ['one']);

    const first = JSON.parse(await ok(['-r', url, '--json', 'compact', '--threshold', '100'], { env }));
    assert.ok(first.repository.postponed.objects > 0, JSON.stringify(first.repository));
    await compactOnceRetentionEnds(url, env, first.repository.postponed.until);
    await ok(['-r', url, 'check', '--verify-data'], { env });
    const target = join(dir, 'restored');
    await mkdir(target);
    await ok(['-r', url, 'extract', 'two'], { env, cwd: target });
    assert.deepEqual([...(await ok(['-r', url, 'rlist', '--short'], { env })).trim().split('\n')], ['two']);
    assertSameTree(await describeTree(join(target, src.slice(1))), await describeTree(src));
  });
}
