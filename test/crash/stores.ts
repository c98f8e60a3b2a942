/** The remote stores the crash test runs on: a local server of localstack/ and a fresh root on it. */
import { startServer } from '../helpers/servers.js';
import { s3Env, s3Url } from '../backends/factories/s3.js';
import { sftpUrl } from '../backends/factories/sftp.js';

export interface CrashStore {
  location: string;
  env: NodeJS.ProcessEnv;
  /** The location of another store root on the same server (the kill campaign's related repository). */
  at(root: string): string;
  stop(): Promise<void>;
}

/** Starts the `s3` or `sftp` server; the store is `root` on it (created by the crash test). */
export async function crashStore(name: string, root: string): Promise<CrashStore> {
  const server = await startServer(name) as { env: Record<string, string>; stop(): Promise<void> };
  const env = server.env;
  if (name === 's3') return { location: s3Url(env, root).href, env: s3Env(env), at: (r) => s3Url(env, r).href, stop: () => server.stop() };
  return { location: sftpUrl(env, root).href, env: {}, at: (r) => sftpUrl(env, r).href, stop: () => server.stop() };
}
