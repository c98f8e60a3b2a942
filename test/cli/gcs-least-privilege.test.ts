// GCS with the least-privilege roles docs/backends/gcs.md names (issue 12), through the `cairn`
// executable. The local server enforces an IAM role per bucket (localstack/gcs/README.md, "Bucket
// modes"): `<bucket>-objectadmin` grants roles/storage.objectAdmin (storage.objects.*, no
// storage.buckets.get: every bucket lookup, update or create is 403), `<bucket>-objectviewer`
// roles/storage.objectViewer (objects may be read and listed, not written). Then the credential
// kinds cairn documents: a service-account key file (every test here) and workload identity
// federation (an `external_account` file whose OIDC token the server's STS exchanges, as on
// GitHub Actions).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSameTree, cairn, describeTree, ok, oneLine } from './helpers.js';
import { gcsEnv, gcsUrl } from '../backends/factories/gcs.js';
import { tryStartServer } from '../helpers/servers.js';
import { createGcsBackend } from '../../backends/gcs/index.js';
import { NotFoundError, PermissionError } from '../../src/store/errors.js';

const server = await tryStartServer('gcs');

if (server instanceof Error) {
  test('gcs least privilege: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-gcs-iam-'));
  after(async () => { await server.stop(); await rm(dir, { recursive: true, force: true }); });
  const env = { ...gcsEnv(server.env), CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache') };
  const urlIn = (suffix: string, root: string) => gcsUrl({ ...server.env, GCS_BUCKET: `${server.env.GCS_BUCKET}${suffix}` }, root).href;

  test('the harness enforces objectAdmin: bucket metadata GET/PATCH and bucket create are 403, object calls work', async () => {
    const bucket = `${server.env.GCS_BUCKET}-objectadmin`;
    const backend = await createGcsBackend(new URL(urlIn('-objectadmin', 'probe/')), { env: gcsEnv(server.env) });
    const { Storage } = await import('@google-cloud/storage');
    const storage = new Storage({ apiEndpoint: server.env.GCS_ENDPOINT, keyFilename: server.env.GOOGLE_APPLICATION_CREDENTIALS, useAuthWithCustomEndpoint: true, retryOptions: { autoRetry: false } });
    storage.authClient.useJWTAccessWithScope = true;
    try {
      for (const call of [() => storage.bucket(bucket).getMetadata(), () => storage.bucket(bucket).setMetadata({ labels: { a: 'b' } }), () => storage.createBucket(bucket)]) {
        const err = await call().then(() => undefined, (e: unknown) => e as { code?: unknown });
        assert.equal(err?.code, 403);
      }
      await backend.put('k', new Uint8Array([1, 2, 3]));
      assert.deepEqual(await backend.get('k'), new Uint8Array([1, 2, 3]));
      await backend.delete('k');
    } finally {
      await backend.close();
    }
  });

  test('objectAdmin (no storage.buckets.get): the library treats a 403 on the bucket lookup as "the bucket exists"', async () => {
    const backend = await createGcsBackend(new URL(urlIn('-objectadmin', 'lib/')), { env: gcsEnv(server.env) });
    try {
      await backend.create(); // the bucket exists; we may not look at it: nothing to do
      assert.equal(await backend.stat('missing'), undefined);
      const err = await backend.get('missing').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof NotFoundError, String(err));
      await backend.delete('missing'); // idempotent
      await backend.put('k', new Uint8Array([4]), { ifAbsent: true });
      assert.deepEqual(await backend.get('k'), new Uint8Array([4]));
      await backend.destroy();
    } finally {
      await backend.close();
    }
  });

  test('objectAdmin: rcreate, create, extract and check through the cairn executable', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'least privilege\n');
    await writeFile(join(src, 'sub', 'b.bin'), Buffer.alloc(2 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24));
    const url = urlIn('-objectadmin', 'repo/');
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    await ok(['-r', url, 'create', 'one', src], { env });
    const target = join(dir, 'restored');
    await mkdir(target);
    await ok(['-r', url, 'extract', 'one'], { env, cwd: target });
    assertSameTree(await describeTree(join(target, src.slice(1))), await describeTree(src));
    await ok(['-r', url, 'check', '--verify-data'], { env });
  });

  test('a 403 on an object call is still a permission error: objectViewer cannot rcreate (exit 2, one line, EPERMISSION) and nothing is written', async () => {
    const url = urlIn('-objectviewer', 'repo/');
    const r = await cairn(['-r', url, '--json', '--retry-budget', '5s', 'rcreate', '-e', 'repokey'], { env });
    assert.equal(r.code, 2, r.stderr);
    const error = (JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error;
    assert.equal(error.code, 'EPERMISSION', r.stderr);
    const backend = await createGcsBackend(new URL(url), { env: gcsEnv(server.env) });
    try {
      const keys: string[] = [];
      for await (const { key } of backend.list('')) keys.push(key);
      assert.deepEqual(keys, []);
      const err = await backend.put('x', new Uint8Array(1)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PermissionError, String(err));
    } finally {
      await backend.close();
    }
  });
  const federation = async () => (await (await fetch(`${server.env.GCS_ENDPOINT}/_cairn/federation`)).json()) as { issued: number; refused: number };
  const wifEnv = { GOOGLE_APPLICATION_CREDENTIALS: server.env.GCS_EXTERNAL_ACCOUNT_FILE, GOOGLE_CLOUD_PROJECT: server.env.GCS_PROJECT,
    CAIRN_SECURITY_DIR: join(dir, 'wif-security'), XDG_CACHE_HOME: join(dir, 'wif-cache') };
  const wifUrl = gcsUrl({ ...server.env, GCS_BUCKET: `${server.env.GCS_BUCKET}-objectadmin` }, 'wif/').href;

  test('workload identity federation (external_account file, as GitHub Actions): the OIDC token is exchanged at the STS and its token used, with objectAdmin only', async () => {
    const before = await federation();
    const src = join(dir, 'wif-src');
    await mkdir(src);
    await writeFile(join(src, 'f.txt'), 'federated\n');
    await ok(['-r', wifUrl, 'rcreate', '-e', 'repokey'], { env: wifEnv });
    await ok(['-r', wifUrl, 'create', 'one', src], { env: wifEnv });
    const names = (JSON.parse(await ok(['-r', wifUrl, '--json', 'rlist'], { env: wifEnv })) as { archives: { name: string }[] }).archives.map((a) => a.name);
    assert.deepEqual(names, ['one']);
    assert.ok((await federation()).issued >= before.issued + 3, 'a token exchange per command');
  });

  test('workload identity federation with a subject token the STS refuses: exit 2, one line, EPERMISSION', async () => {
    const external = JSON.parse(await readFile(server.env.GCS_EXTERNAL_ACCOUNT_FILE as string, 'utf8')) as { credential_source: { file: string } };
    const wrongToken = join(dir, 'wrong-oidc');
    await writeFile(wrongToken, 'eyJ.not-the-token.oidc');
    const wrongFile = join(dir, 'external-wrong.json');
    await writeFile(wrongFile, JSON.stringify({ ...external, credential_source: { file: wrongToken } }));
    const r = await cairn(['-r', wifUrl, '--json', '--retry-budget', '5s', 'rlist'], { env: { ...wifEnv, GOOGLE_APPLICATION_CREDENTIALS: wrongFile } });
    assert.equal(r.code, 2, r.stderr);
    assert.equal((JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error.code, 'EPERMISSION', r.stderr);
  });
}
