/**
 * The local servers of localstack/ proven with clients cairn did not write: Debian's `rclone`
 * (its own S3, GCS JSON API, Azure Blob and SFTP implementations) writes, lists, reads back and
 * deletes through each of them; `restic` (minio-go, which signs aws-chunked bodies over plain
 * http) backs up to and restores from the S3 server. A harness that stores bytes other than the
 * ones sent (the aws-chunked framing, a torn overwrite, a lost key in a listing) fails here.
 * rclone is required in CI (.ci/run installs it); restic is optional (benchmarks install it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { inCI, tryStartServer, type RunningServer } from '../helpers/servers.js';

const has = (cmd: string) => spawnSync(cmd, ['version'], { stdio: 'ignore' }).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'cairn-independent-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Out { code: number; stdout: Buffer; stderr: string }
/** Runs a command (bounded by `timeoutMs`), collecting stdout as bytes. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Out> {
  return new Promise((resolve, reject) => {
    // AWS_CA_BUNDLE (set on some machines for https) makes rclone's S3 client refuse a plain-http endpoint.
    const { AWS_CA_BUNDLE: _ca, ...inherited } = process.env;
    const child = spawn(cmd, args, { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }); });
  });
}

/** A self-signed service-account JWT, as the Google SDKs send it, for rclone's static token option. */
function gcsToken(keyFile: string): string {
  const k = JSON.parse(readFileSync(keyFile, 'utf8')) as { client_email: string; private_key: string; private_key_id: string };
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const data = `${b64({ alg: 'RS256', typ: 'JWT', kid: k.private_key_id })}.${b64({ iss: k.client_email, sub: k.client_email, aud: 'https://storage.googleapis.com/', iat: now, exp: now + 3600 })}`;
  const sig = createSign('RSA-SHA256').update(data).sign(k.private_key).toString('base64url');
  return JSON.stringify({ access_token: `${data}.${sig}`, token_type: 'Bearer', expiry: new Date((now + 3000) * 1000).toISOString() });
}

/** rclone's environment for remote `t` on each server, and the path of a test folder on it. */
function rcloneRemote(name: string, env: Record<string, string>): { vars: NodeJS.ProcessEnv; base: string } {
  const v = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, val]) => [`RCLONE_CONFIG_T_${k}`, val]));
  switch (name) {
    case 's3': return {
      vars: v({ TYPE: 's3', PROVIDER: 'Other', ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID!, SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY!,
        ENDPOINT: env.S3_ENDPOINT!, REGION: env.S3_REGION!, FORCE_PATH_STYLE: 'true', UPLOAD_CUTOFF: '5M', CHUNK_SIZE: '5M' }),
      base: `t:${env.S3_BUCKET}/rclone`,
    };
    case 'gcs': return {
      vars: v({ TYPE: 'google cloud storage', TOKEN: gcsToken(env.GOOGLE_APPLICATION_CREDENTIALS!), ENDPOINT: `${env.GCS_ENDPOINT}/storage/v1/`,
        PROJECT_NUMBER: env.GCS_PROJECT!, BUCKET_POLICY_ONLY: 'true' }),
      base: `t:${env.GCS_BUCKET}/rclone`,
    };
    case 'azure': {
      // rclone 1.60 takes `endpoint` as a domain suffix; a container SAS URL addresses Azurite's path-style endpoint.
      const key = /AccountKey=([^;]+)/.exec(env.AZURE_STORAGE_CONNECTION_STRING!)![1]!;
      const sas = generateBlobSASQueryParameters({
        containerName: env.AZURE_CONTAINER!, permissions: ContainerSASPermissions.parse('racwdl'),
        expiresOn: new Date(Date.now() + 3600_000), version: '2020-10-02',
      }, new StorageSharedKeyCredential(env.AZURE_ACCOUNT!, key)).toString();
      return { vars: v({ TYPE: 'azureblob', SAS_URL: `${env.AZURE_BLOB_ENDPOINT}/${env.AZURE_CONTAINER}?${sas}` }), base: `t:${env.AZURE_CONTAINER}/rclone` };
    }
    default: return {
      vars: v({ TYPE: 'sftp', HOST: env.SFTP_HOST!, PORT: env.SFTP_PORT!, USER: env.SFTP_USER!, KEY_FILE: env.SFTP_IDENTITY!,
        KNOWN_HOSTS_FILE: env.SFTP_KNOWN_HOSTS! }),
      base: `t:${env.SFTP_ROOT}/rclone`,
    };
  }
}

const rcloneMissing = !has('rclone');
for (const name of ['s3', 'gcs', 'azure', 'sftp']) {
  test(`rclone writes, lists, reads back and deletes through the local ${name} server`, async (t) => {
    if (rcloneMissing) {
      if (inCI) assert.fail('rclone is not installed (apt-get install rclone; .ci/run does)');
      return t.skip('rclone is not installed');
    }
    const server = await tryStartServer(name);
    if (server instanceof Error) return t.skip(server.message.split('\n')[0]);
    try {
      if (name === 'azure') {
        // A SAS URL cannot create its container: make it as an account owner would.
        await BlobServiceClient.fromConnectionString(server.env.AZURE_STORAGE_CONNECTION_STRING!).getContainerClient(server.env.AZURE_CONTAINER!).createIfNotExists();
      }
      const { vars, base } = rcloneRemote(name, server.env);
      const common = ['--config', '/dev/null', '--retries', '1', '--low-level-retries', '1', '-q'];
      const rc = async (...args: string[]) => {
        const r = await run('rclone', [...common, ...args], vars);
        assert.equal(r.code, 0, `rclone ${args.join(' ')}: ${r.stderr.slice(-1000)}`);
        return r.stdout;
      };
      const local = join(scratch, name);
      mkdirSync(join(local, 'sub'), { recursive: true });
      // Big enough for rclone's multipart / chunked paths on s3 (5 MiB cutoff) and a few SFTP writes.
      const files: Record<string, Buffer> = { 'small.txt': Buffer.from('hello from rclone\n'), 'big.bin': randomBytes(11 * 1024 * 1024 + 5), 'sub/ünï cødé.bin': randomBytes(70_001), 'empty': Buffer.alloc(0) };
      for (const [rel, data] of Object.entries(files)) writeFileSync(join(local, rel), data);
      await rc('copy', local, base);

      const listed = JSON.parse((await rc('lsjson', '-R', '--files-only', base)).toString('utf8')) as { Path: string; Size: number }[];
      assert.deepEqual(listed.map((e) => [e.Path, e.Size]).sort(), Object.entries(files).map(([p, d]) => [p, d.length]).sort());
      for (const [rel, data] of Object.entries(files)) {
        assert.ok((await rc('cat', `${base}/${rel}`)).equals(data), `${rel} reads back byte for byte`);
      }
      // An overwrite, then a ranged read.
      const replaced = randomBytes(4096);
      writeFileSync(join(local, 'small.txt'), replaced);
      await rc('copyto', join(local, 'small.txt'), `${base}/small.txt`);
      assert.ok((await rc('cat', '--offset', '100', '--count', '50', `${base}/small.txt`)).equals(replaced.subarray(100, 150)));

      await rc('delete', base);
      const left = JSON.parse((await rc('lsjson', '-R', '--files-only', base).catch(() => Buffer.from('[]'))).toString('utf8')) as unknown[];
      assert.deepEqual(left, []);
    } finally {
      await (server as RunningServer).stop();
    }
  });
}

test('restic backs up to the local s3 server and restores byte for byte (signed aws-chunked uploads)', async (t) => {
  if (!has('restic')) {
    if (inCI) assert.fail('restic is not installed (apt-get install restic; .ci/run does)');
    return t.skip('restic is not installed');
  }
  const server = await tryStartServer('s3');
  if (server instanceof Error) return t.skip(server.message.split('\n')[0]);
  try {
    const env = server.env;
    const vars = { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY, RESTIC_PASSWORD: 'independent', RESTIC_CACHE_DIR: join(scratch, 'restic-cache') };
    const repo = `s3:${env.S3_ENDPOINT}/${env.S3_BUCKET}/restic`;
    const restic = async (...args: string[]) => {
      const r = await run('restic', ['-r', repo, '--no-cache', '-q', ...args], vars);
      assert.equal(r.code, 0, `restic ${args.join(' ')}: ${r.stderr.slice(-1000)}`);
    };
    const source = join(scratch, 'restic-src');
    mkdirSync(source, { recursive: true });
    const data = randomBytes(6 * 1024 * 1024 + 3);
    writeFileSync(join(source, 'data.bin'), data);
    await restic('init');
    await restic('backup', source);
    await restic('check', '--read-data');
    const target = join(scratch, 'restic-dst');
    await restic('restore', 'latest', '--target', target);
    assert.ok(readFileSync(join(target, source, 'data.bin')).equals(data));
  } finally {
    await (server as RunningServer).stop();
  }
});
