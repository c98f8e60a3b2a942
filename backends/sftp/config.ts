/**
 * Reads an `sftp://user@host:port/path?identity=&known-hosts=&accept-unknown-host=1` URL and the
 * environment into the settings of one SFTP store, and finds the credentials to offer.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../../src/store/errors.js';

export interface SftpConfig {
  host: string;
  port: number;
  username: string;
  /** Absolute path of the store's root folder, or relative to the login folder (URL `/~/path`). */
  root: string;
  /** Private keys to offer, in order (an `identity=` path alone when given). */
  keys: { path: string; data: Buffer }[];
  /** The agent socket (`SSH_AUTH_SOCK`), offered before the key files. */
  agent: string | undefined;
  knownHosts: string[];
  acceptUnknownHost: boolean;
  /** Display form, without secrets. */
  location: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const OPTIONS = new Set(['identity', 'known-hosts', 'accept-unknown-host']);

function invalid(message: string): BackendError {
  return new BackendError(`sftp URL: ${message}`, { backend: 'sftp' });
}

/** Parses `url`; throws `BackendError` (one line) for a malformed URL or an unreadable identity. */
export function readConfig(url: URL, env: NodeJS.ProcessEnv = process.env): SftpConfig {
  if (url.password) throw invalid('passwords are not supported; use a key (identity=, ~/.ssh or an agent)');
  for (const name of url.searchParams.keys()) if (!OPTIONS.has(name)) throw invalid(`unknown option "${name}"`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw invalid('a host is required: sftp://user@host:port/path');
  const port = url.port ? Number(url.port) : 22;
  const username = decodeURIComponent(url.username) || env.USER || userInfo().username;
  const path = decodeURIComponent(url.pathname).replace(/\/+$/, '');
  const root = path.startsWith('/~/') ? path.slice(3) : path === '/~' ? '.' : path;
  if (!root) throw invalid('a path is required: sftp://user@host:port/path (or /~/path under the login folder)');

  const home = env.HOME || homedir();
  const identity = url.searchParams.get('identity');
  const keys: SftpConfig['keys'] = [];
  if (identity) {
    try { keys.push({ path: identity, data: readFileSync(identity) }); } catch (err) {
      throw new BackendError(`sftp: cannot read identity file ${identity} (${(err as NodeJS.ErrnoException).code})`, { backend: 'sftp', cause: err });
    }
  } else {
    for (const name of DEFAULT_KEYS) {
      const file = join(home, '.ssh', name);
      try { keys.push({ path: file, data: readFileSync(file) }); } catch { /* not there: try the next one */ }
    }
  }
  const knownHostsOption = url.searchParams.get('known-hosts');
  const knownHosts = knownHostsOption ? [knownHostsOption] : [join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const shownPort = url.port ? `:${url.port}` : '';
  return {
    host, port, username, root, keys,
    agent: identity ? undefined : env.SSH_AUTH_SOCK || undefined,
    knownHosts,
    acceptUnknownHost: url.searchParams.get('accept-unknown-host') === '1',
    location: `sftp://${encodeURIComponent(username)}@${url.hostname}${shownPort}${url.pathname}`,
  };
}
