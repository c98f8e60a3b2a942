// End to end through the cairn executable on each object store's local server: the request counts a
// command reports in --json equal the HTTP requests a counting proxy in front of the server saw,
// listings paged (page size 3) and large segments sent in parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ok, workspace } from './helpers.js';
import { tryStartServer, type RunningServer } from '../helpers/servers.js';

/**
 * A reverse proxy to `upstream` that counts the requests it forwards (headers, Host included,
 * unchanged). A `Location` naming the upstream (a GCS resumable session) is rewritten to the proxy,
 * so the session's requests come through it too. `url` keeps the upstream's path (Azurite's account).
 */
async function countingProxy(upstream: string): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  const target = new URL(upstream);
  let count = 0;
  let origin = '';
  const server: Server = createServer((req, res) => {
    count++;
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const headers = { ...up.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(target.origin, origin);
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${origin}${target.pathname.replace(/\/$/, '')}`,
    count: () => count,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

interface Target { name: string; endpointOf(env: Record<string, string>): string; url(env: Record<string, string>, proxy: string, root: string): string; env(env: Record<string, string>): NodeJS.ProcessEnv }

const TARGETS: Target[] = [
  {
    name: 's3',
    endpointOf: (env) => env.S3_ENDPOINT!,
    url: (env, proxy, root) => `s3://${env.S3_BUCKET}/${root}?endpoint=${encodeURIComponent(proxy)}&region=${env.S3_REGION ?? 'us-east-1'}&path-style=1&page-size=3&multipart-threshold=5242880&part-size=5242880`,
    env: (env) => ({ AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY }),
  },
  {
    name: 'gcs',
    endpointOf: (env) => env.GCS_ENDPOINT!,
    url: (env, proxy, root) => `gs://${env.GCS_BUCKET}/${root}?endpoint=${encodeURIComponent(proxy)}&page-size=3&resumable-threshold=1048576&chunk-size=1048576`,
    env: (env) => ({ GOOGLE_APPLICATION_CREDENTIALS: env.GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_PROJECT: env.GCS_PROJECT }),
  },
  {
    name: 'azure',
    endpointOf: (env) => env.AZURE_BLOB_ENDPOINT!,
    url: (env, proxy, root) => `az://${env.AZURE_ACCOUNT}/${env.AZURE_CONTAINER}/${root}?endpoint=${encodeURIComponent(proxy)}`,
    env: (env) => ({ ...env }),
  },
];

for (const t of TARGETS) {
  test(`${t.name}: reported request counts equal the HTTP requests the server was sent`, async (ctx) => {
    const server = await tryStartServer(t.name);
    if (server instanceof Error) {
      ctx.skip(`${t.name} server unavailable: ${server.message.split('\n')[0]}`);
      return;
    }
    const ws = await workspace();
    const proxy = await countingProxy(t.endpointOf((server as RunningServer).env));
    try {
      const src = join(ws.dir, 'src');
      await mkdir(src);
      for (let i = 0; i < 5; i++) await writeFile(join(src, `f${i}`), randomBytes(50_000 + i));
      // Big enough for a multipart (s3) or resumable (gcs) upload of its segment: one call, many requests.
      await writeFile(join(src, 'big'), randomBytes(12 * 1024 * 1024));
      const repo = t.url(server.env, proxy.url, `acct-${Date.now()}`);
      const options = { cwd: src, env: t.env(server.env) };
      const commands = [
        ['rcreate', '--encryption', 'repokey'],
        ['create', 'a1', '.'],
        ['list', 'a1'],
        ['extract', 'a1', '--target', join(ws.dir, 'out')],
        ['check', '--verify-data'],
        ['rdelete', '--yes'],
      ];
      for (const command of commands) {
        const before = proxy.count();
        const out = (await ok(['-r', repo, '--json', ...command], options)).trim().split('\n').at(-1)!;
        const { backend } = JSON.parse(out) as { backend: { requests: Record<string, number> } };
        const reported = Object.values(backend.requests).reduce((a, b) => a + b, 0);
        assert.equal(reported, proxy.count() - before, `${t.name} ${command[0]}: reported ${JSON.stringify(backend.requests)}`);
      }
    } finally {
      await proxy.close();
      await ws.cleanup();
      await server.stop();
    }
  });
}
