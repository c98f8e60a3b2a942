/** Builds S3 clients against the local s3rver harness (localstack/s3) for the conformance suite and benchmarks. */
import type { Backend } from '../../../src/store/backend.js';
import { createS3Backend } from '../../../backends/s3/index.js';
import { tryStartServer } from '../../helpers/servers.js';

/**
 * The `s3://` URL of store `root` on the server described by `env` (as localstack/s3/start.mjs
 * reports it). A page size of 100 makes every listing past 100 keys really page.
 */
export function s3Url(env: Record<string, string>, root: string, query: Record<string, string> = {}): URL {
  const url = new URL(`s3://${env.S3_BUCKET}/${root}`);
  url.searchParams.set('endpoint', env.S3_ENDPOINT ?? '');
  url.searchParams.set('region', env.S3_REGION ?? 'us-east-1');
  url.searchParams.set('path-style', '1');
  url.searchParams.set('page-size', '100');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** The credentials the server generated, as an environment for createS3Backend. */
export function s3Env(env: Record<string, string>): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY };
}

/** Starts the harness; `make(root)` opens a new client on the key prefix `root`. An Error only outside CI. */
export async function startFactory(): Promise<{ make(root: string): Promise<Backend>; stop(): Promise<void>; env: Record<string, string> } | Error> {
  const server = await tryStartServer('s3');
  if (server instanceof Error) return server;
  return {
    env: server.env,
    make: (root) => createS3Backend(s3Url(server.env, root), { env: s3Env(server.env) }),
    stop: () => server.stop(),
  };
}
