/** Builds GCS clients against the local GCS test server (localstack/gcs) for the conformance suite and benchmarks. */
import type { Backend } from '../../../src/store/backend.js';
import { createGcsBackend } from '../../../backends/gcs/index.js';
import { tryStartServer } from '../../helpers/servers.js';

/** Objects per listing request in tests: small, so the 1 500-key listing really crosses pages. */
export const TEST_PAGE_SIZE = 100;

/** The `gs://` URL of store `root` (a key prefix in the test bucket) on the server described by `env`. */
export function gcsUrl(env: Record<string, string>, root: string, query: Record<string, string> = {}): URL {
  const url = new URL(`gs://${env.GCS_BUCKET}/${root}`);
  url.searchParams.set('endpoint', env.GCS_ENDPOINT ?? '');
  url.searchParams.set('page-size', String(TEST_PAGE_SIZE));
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** The environment a client gets: the server's service-account key and project, nothing from the caller. */
export function gcsEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { GOOGLE_APPLICATION_CREDENTIALS: env.GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_PROJECT: env.GCS_PROJECT };
}

/** Starts the server; `make(root)` opens a new client on the store `root`. An Error only outside CI. */
export async function startFactory(): Promise<{ make(root: string): Promise<Backend>; stop(): Promise<void>; env: Record<string, string> } | Error> {
  const server = await tryStartServer('gcs');
  if (server instanceof Error) return server;
  return {
    env: server.env,
    make: (root) => createGcsBackend(gcsUrl(server.env, root), { env: gcsEnv(server.env) }),
    stop: () => server.stop(),
  };
}
