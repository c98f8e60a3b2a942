/**
 * Fault behaviour of the S3 backend against the local harness: the shared fault suite
 * (test/conformance/faults.ts), plus what is S3's own: a server killed mid-upload, and a
 * bucket-root store that create() makes and destroy() removes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createS3Backend } from '../../backends/s3/index.js';
import { NotFoundError, StoreMissingError, TransientError } from '../../src/store/errors.js';
import { faultSuite } from '../conformance/faults.js';
// @ts-expect-error -- plain JavaScript module without type declarations
import { freePort, stopPid } from '../../localstack/launch.mjs';
import { inCI } from '../helpers/servers.js';
import { s3Env, s3Url } from './factories/s3.js';

interface Harness { pid: number; env: Record<string, string> }

/** Starts localstack/s3 on a chosen port and state folder, so a restart serves the same objects. */
async function startHarness(port: number, stateDir: string, creds?: Record<string, string>): Promise<Harness> {
  const child = spawn(process.execPath, [join('localstack', 's3', 'start.mjs')], {
    env: { ...process.env, PORT: String(port), STATE_DIR: stateDir, ...creds },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /^CAIRN_READY (.*)$/m.exec(out);
      if (m) resolve(JSON.parse(m[1] as string));
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.once('exit', (code) => reject(new Error(`s3 harness exited (${code}): ${out.slice(-500)}`)));
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  return { pid: child.pid as number, env };
}

const stateDir = mkdtempSync(join(tmpdir(), 'cairn-s3-faults-'));
const started: number[] = [];
let port = 0;
let first: Harness | Error;
try {
  port = await freePort();
  first = await startHarness(port, stateDir);
  started.push(first.pid);
} catch (err) {
  if (inCI) throw err;
  first = err as Error;
}
after(async () => {
  for (const pid of started) await stopPid(pid);
  rmSync(stateDir, { recursive: true, force: true });
});

const oneLine = (err: unknown) => assert.ok(!String((err as Error).message).includes('\n'), 'message is one line');

if (first instanceof Error) {
  test('s3 faults: server unavailable outside CI', (t) => t.skip((first as Error).message.split('\n')[0]));
} else {
  const env = first.env;
  const creds = { CAIRN_S3_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID as string, CAIRN_S3_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY as string };
  const open = (root: string, query: Record<string, string> = {}, e = s3Env(env)) => createS3Backend(s3Url(env, root, query), { env: e });
  const endpoint = new URL(env.S3_ENDPOINT as string);
  faultSuite('s3', {
    make: (root, via) => createS3Backend(s3Url(via ? { ...env, S3_ENDPOINT: via.url } : env, root), { env: s3Env(env) }),
    makeWithBadCredentials: async (root) => {
      const secret = 'definitely-not-the-secret';
      return { backend: await open(root, {}, { ...s3Env(env), AWS_SECRET_ACCESS_KEY: secret }), secrets: [secret, env.AWS_SECRET_ACCESS_KEY as string] };
    },
    makeMissingRoot: () => {
      const url = s3Url(env, 'root');
      url.hostname = 'cairn-no-such-bucket';
      return createS3Backend(url, { env: s3Env(env) });
    },
    target: { host: endpoint.hostname, port: Number(endpoint.port) },
    proxy: 's3',
    statCannotTellMissingStore: true,
  });

  test('server killed during an upload: the put fails with TransientError', async () => {
    const b = await open('killed', { 'multipart-threshold': String(512 << 20) });
    await b.create();
    const bucketDir = join(stateDir, 's3', env.S3_BUCKET as string, 'killed');
    const put = b.put('big', new Uint8Array(96 << 20)).then(() => undefined, (e: unknown) => e);
    // Kill as soon as the server has begun writing the object: the request is then mid-flight.
    const victim = started.pop() as number;
    for (let i = 0; i < 2000; i++) {
      let names: string[] = [];
      try { names = readdirSync(bucketDir); } catch { /* not yet created */ }
      if (names.some((n) => n.includes('.tmp-'))) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    process.kill(victim, 'SIGKILL');
    const err = await put;
    assert.ok(err instanceof TransientError, `got ${String(err)}`);
    oneLine(err);
    await stopPid(victim);
    started.push((await startHarness(port, stateDir, creds)).pid);
    await b.close();
  });

  test('a missing bucket: create() makes it, destroy() of a bucket root removes it', async () => {
    const url = s3Url(env, '');
    url.hostname = 'cairn-missing-bucket';
    const b = await createS3Backend(url, { env: s3Env(env) });
    await b.destroy(); // idempotent on a missing bucket
    await b.create();
    await assert.rejects(b.get('k'), NotFoundError);
    await b.put('k', new Uint8Array([9]));
    await b.destroy();
    await assert.rejects(b.get('k'), StoreMissingError);
    await b.close();
  });
}
