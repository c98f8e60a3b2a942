/** Builds Azure clients against a local Azurite (localstack/azure) for the conformance suite and benchmarks. */
import type { Backend } from '../../../src/store/backend.js';
import { createAzureBackend } from '../../../backends/azure/index.js';
import { tryStartServer } from '../../helpers/servers.js';

/** Small listing pages, so that the 1 500-key listing really crosses page boundaries. */
export const TEST_PAGE_SIZE = 200;

/** The `az://` URL of store `root` inside the test container of the server described by `env`. */
export function azureUrl(env: Record<string, string>, root: string, query = ''): URL {
  return new URL(`az://${env.AZURE_ACCOUNT}/${env.AZURE_CONTAINER}/${root}${query}`);
}

/** Starts Azurite; `make(root)` opens a new client on the key prefix `root/`. An Error only outside CI. */
export async function startFactory(): Promise<{ make(root: string): Promise<Backend>; stop(): Promise<void>; env: Record<string, string> } | Error> {
  const server = await tryStartServer('azure');
  if (server instanceof Error) return server;
  const env = { ...process.env, ...server.env };
  return {
    env: server.env,
    make: (root) => createAzureBackend(azureUrl(server.env, root), { env, pageSize: TEST_PAGE_SIZE }),
    stop: () => server.stop(),
  };
}
