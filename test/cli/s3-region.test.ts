// The S3 region as AWS users set it, and AWS's answers that the default harness does not give
// (issue 12), through the `cairn` executable and a counting proxy (test/helpers/fault-proxy.ts):
// - the region comes from the SDK's chain (a profile's `region` in AWS_CONFIG_FILE, AWS_PROFILE),
//   not a fixed us-east-1: against a bucket in eu-west-3 (`<bucket>-euwest3`, which answers 301
//   PermanentRedirect with `x-amz-bucket-region` to a request signed for another region) no request
//   is redirected;
// - without any region, the first 301 is followed and remembered: one redirect per run, not one
//   per request;
// - a 409 ConditionalRequestConflict (AWS: two conditional writes of one key raced) is retried.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn, ok } from './helpers.js';
import { s3Env, s3Url } from '../backends/factories/s3.js';
import { tryStartServer } from '../helpers/servers.js';
import { startHttpFaultProxy } from '../helpers/fault-proxy.js';

const server = await tryStartServer('s3');

if (server instanceof Error) {
  test('s3 region: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const proxy = await startHttpFaultProxy({ target: server.env.S3_ENDPOINT ?? '', flavor: 's3' });
  const dir = await mkdtemp(join(tmpdir(), 'cairn-s3-region-'));
  after(async () => { await proxy.close(); await server.stop(); await rm(dir, { recursive: true, force: true }); });
  const profiles = join(dir, 'aws-config');
  await writeFile(profiles, '[default]\noutput = json\n\n[profile paris]\nregion = eu-west-3\n');
  const empty = join(dir, 'aws-config-empty');
  await writeFile(empty, '');
  // The profile's credentials, as `aws configure --profile paris` writes them.
  const credentials = join(dir, 'aws-credentials');
  await writeFile(credentials, `[paris]\naws_access_key_id = ${server.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${server.env.AWS_SECRET_ACCESS_KEY}\n`);
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'a.txt'), 'where is my bucket\n');
  // No region anywhere but where each test puts it (the CI machine may set one).
  const base = {
    ...s3Env(server.env), CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache'),
    AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_SHARED_CREDENTIALS_FILE: empty,
  };
  /** The repository `root` through the proxy, in bucket `<bucket><suffix>`, with no `region=` in the URL. */
  const urlOf = (suffix: string, root: string) => {
    const url = s3Url({ ...server.env, S3_BUCKET: `${server.env.S3_BUCKET}${suffix}`, S3_ENDPOINT: proxy.url }, root);
    url.searchParams.delete('region');
    return url.href;
  };
  const redirects = () => proxy.counts.byStatus[301] ?? 0;

  test('the region of the AWS_PROFILE profile in AWS_CONFIG_FILE is used: no request to a bucket in eu-west-3 is redirected', async () => {
    const env = { ...base, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: profiles, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_PROFILE: 'paris' };
    const url = urlOf('-euwest3', 'profile/');
    proxy.resetCounts();
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    await ok(['-r', url, 'create', 'one', src], { env });
    assert.equal(redirects(), 0, JSON.stringify(proxy.counts.byStatus));
    assert.ok(proxy.counts.forwarded > 5);
  });

  test('no region configured: the first 301 is followed and remembered, one redirect per run', async () => {
    const env = { ...base, AWS_CONFIG_FILE: empty };
    const url = urlOf('-euwest3', 'redirect/');
    for (const args of [['rcreate', '-e', 'repokey'], ['create', 'one', src], ['--json', 'list', 'one']]) {
      proxy.resetCounts();
      await ok(['-r', url, ...args], { env });
      assert.equal(redirects(), 1, `${args[0]}: ${JSON.stringify(proxy.counts.byStatus)} of ${proxy.counts.forwarded} requests`);
    }
    // A region given in the URL is the user's word: a 301 is not followed but explained in one line.
    const wrong = `${url}&region=us-west-2`;
    const r = await cairn(['-r', wrong, '--retry-budget', '0', 'rlist'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /another region \(eu-west-3\): add \?region=eu-west-3 to the URL/);
  });

  test('409 ConditionalRequestConflict on a conditional write is retried, not taken for "already exists"', async () => {
    const env = { ...base, AWS_CONFIG_FILE: empty };
    const url = urlOf('', 'conflict/') + '&region=us-east-1';
    proxy.resetCounts();
    // rcreate's first write is its conditional-write probe (If-None-Match: *): AWS may answer it 409.
    proxy.injectNext('put', 'conflict', 1);
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env });
    assert.equal(proxy.counts.injected.conflict, 1);
    // A backup whose first conditional write (its lock) meets the same answer.
    proxy.injectNext('put', 'conflict', 1);
    const out = JSON.parse(await ok(['-r', url, '--json', 'create', 'one', src], { env }));
    assert.equal(proxy.counts.injected.conflict, 2);
    assert.ok(out.backend.retries >= 1);
  });
}
