/**
 * A repository location on a remote backend's local server (localstack/), reached through a fault
 * proxy of the test harness (test/helpers/fault-proxy.ts): what the end-to-end fault tests and the
 * backup-cost benchmark hand to the `cairn` executable.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { s3Url } from '../backends/factories/s3.js';
import { gcsUrl } from '../backends/factories/gcs.js';
import { sftpUrl } from '../backends/factories/sftp.js';
import { startHttpFaultProxy, startTcpFaultProxy, type FaultRates, type HttpFaultProxy, type TcpFaultProxy } from './fault-proxy.js';
import { tryStartServer, type RunningServer } from './servers.js';

export const REMOTE_BACKENDS = ['sftp', 's3', 'gcs', 'azure'] as const;
export type RemoteName = typeof REMOTE_BACKENDS[number];

export interface RemoteRepo {
  name: RemoteName;
  server: RunningServer;
  /** HTTP proxy (s3, gcs, azure) or TCP proxy (sftp). */
  proxy: HttpFaultProxy | TcpFaultProxy;
  /** The repository URL through the proxy, and the environment with its credentials. */
  url: string;
  env: NodeJS.ProcessEnv;
  /** The same repository reached directly (environment: `directEnv`), for checks behind cairn's back. */
  directUrl: string;
  directEnv: NodeJS.ProcessEnv;
  setFaults(rates: FaultRates): void;
  /** 100 % failure on (busy answers over HTTP, resets over TCP) or off. */
  failAll(on: boolean): void;
  /** known_hosts for the proxy's port (sftp only). */
  knownHosts?: string;
  close(): Promise<void>;
}

/** Starts server `name` and a proxy in front of it; the repository is `root` on it. An Error only outside CI. */
export async function startRemoteRepo(name: RemoteName, root: string, options: { seed?: number; stallMs?: number; retryAfterSeconds?: number } = {}): Promise<RemoteRepo | Error> {
  const server = await tryStartServer(name);
  if (server instanceof Error) return server;
  const e = server.env;
  const close = async (proxy: { close(): Promise<void> }) => { await proxy.close(); await server.stop(); };
  if (name === 'sftp') {
    const proxy = await startTcpFaultProxy({ host: '127.0.0.1', port: Number(e.SFTP_PORT), seed: options.seed, stallMs: options.stallMs ?? 4_000, resetWithinBytes: 24 * 1024 });
    // (A command's SSH connection carries 5-15 KiB when it moves no object data: faults strike early.)
    // The host key is the server's; only the port the client dials changes.
    const knownHosts = join(server.stateDir, 'known_hosts_proxy');
    writeFileSync(knownHosts, readFileSync(e.SFTP_KNOWN_HOSTS as string, 'utf8').replace(`]:${e.SFTP_PORT} `, `]:${proxy.port} `));
    return {
      name, server, proxy, env: {}, directEnv: {}, knownHosts,
      url: sftpUrl({ ...e, SFTP_PORT: String(proxy.port), SFTP_KNOWN_HOSTS: knownHosts }, root).href,
      directUrl: sftpUrl(e, root).href,
      setFaults: (r) => proxy.setFaults(r), failAll: (on) => proxy.failAll(on), close: () => close(proxy),
    };
  }
  const endpoint = new URL((name === 's3' ? e.S3_ENDPOINT : name === 'gcs' ? e.GCS_ENDPOINT : e.AZURE_BLOB_ENDPOINT) as string);
  const proxy = await startHttpFaultProxy({ target: endpoint.origin, flavor: name, seed: options.seed, stallMs: options.stallMs ?? 30_000, retryAfterSeconds: options.retryAfterSeconds ?? 1 });
  const common = { name, server, proxy, setFaults: (r: FaultRates) => proxy.setFaults(r), failAll: (on: boolean) => proxy.failAll(on ? 'busy' : undefined), close: () => close(proxy) };
  if (name === 's3') {
    const env = { AWS_ACCESS_KEY_ID: e.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: e.AWS_SECRET_ACCESS_KEY };
    return { ...common, env, directEnv: env, url: s3Url({ ...e, S3_ENDPOINT: proxy.url }, root).href, directUrl: s3Url(e, root).href };
  }
  if (name === 'gcs') {
    const env = { GOOGLE_APPLICATION_CREDENTIALS: e.GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_PROJECT: e.GCS_PROJECT };
    return { ...common, env, directEnv: env, url: gcsUrl({ ...e, GCS_ENDPOINT: proxy.url }, root).href, directUrl: gcsUrl(e, root).href };
  }
  const cs = e.AZURE_STORAGE_CONNECTION_STRING as string;
  const url = `az://${e.AZURE_ACCOUNT}/${e.AZURE_CONTAINER}/${root}`;
  return {
    ...common, url, directUrl: url,
    env: { AZURE_STORAGE_CONNECTION_STRING: cs.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxy.url}${endpoint.pathname}`) },
    directEnv: { AZURE_STORAGE_CONNECTION_STRING: cs },
  };
}
