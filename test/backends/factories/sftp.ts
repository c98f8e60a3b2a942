/** Builds SFTP clients against a local OpenSSH sshd (localstack/sftp) for the conformance suite and benchmarks. */
import type { Backend } from '../../../src/store/backend.js';
import { createSftpBackend } from '../../../backends/sftp/index.js';
import { tryStartServer } from '../../helpers/servers.js';

/** The `sftp://` URL of store `root` on the server described by `env` (as localstack/sftp/start.mjs reports it). */
export function sftpUrl(env: Record<string, string>, root: string, query: Record<string, string> = {}): URL {
  const url = new URL(`sftp://${env.SFTP_USER}@${env.SFTP_HOST}:${env.SFTP_PORT}${env.SFTP_ROOT}/${root}`);
  url.searchParams.set('identity', env.SFTP_IDENTITY ?? '');
  url.searchParams.set('known-hosts', env.SFTP_KNOWN_HOSTS ?? '');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** Starts sshd; `make(root)` opens a new client on the store folder `root`. An Error only outside CI. */
export async function startFactory(): Promise<{ make(root: string): Promise<Backend>; stop(): Promise<void>; env: Record<string, string> } | Error> {
  const server = await tryStartServer('sftp');
  if (server instanceof Error) return server;
  return {
    env: server.env,
    make: (root) => createSftpBackend(sftpUrl(server.env, root)),
    stop: () => server.stop(),
  };
}
