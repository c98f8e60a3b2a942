/**
 * Reads an `sftp://user@host:port/path?identity=&known-hosts=&accept-unknown-host=1` URL, the
 * OpenSSH client configuration for its host (ssh-config.ts) and the environment into the settings
 * of one SFTP store, and finds the credentials to offer. Precedence, as in `ssh`: what the URL
 * says, then the ssh configuration, then the defaults.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../../src/store/errors.js';
import { sshHostConfig } from './ssh-config.js';

/** Where and how to log in: the store's server, or one ProxyJump hop on the way. */
export interface SshEndpoint {
  /** The address to connect to (the ssh config's HostName, else the URL's host). */
  host: string;
  port: number;
  username: string;
  /** The name and port known_hosts lists the host under (HostKeyAlias and 22, else `host` and `port`). */
  hostKeyName: string;
  hostKeyPort: number;
  /** Private keys to offer, in order (an `identity=` path alone when given). */
  keys: { path: string; data: Buffer }[];
  /** The agent socket (`SSH_AUTH_SOCK`), offered before the key files. */
  agent: string | undefined;
  knownHosts: string[];
  acceptUnknownHost: boolean;
  /** ProxyJump hops, outermost first: the connection to each goes through the one before. */
  jumps: SshEndpoint[];
}

export interface SftpConfig extends SshEndpoint {
  /** Absolute path of the store's root folder, or relative to the login folder (URL `/~/path`). */
  root: string;
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
  const path = decodeURIComponent(url.pathname).replace(/\/+$/, '');
  const root = path.startsWith('/~/') ? path.slice(3) : path === '/~' ? '.' : path;
  if (!root) throw invalid('a path is required: sftp://user@host:port/path (or /~/path under the login folder)');
  const endpoint = resolveEndpoint(host, decodeURIComponent(url.username) || undefined, url.port ? Number(url.port) : undefined, url, env, 0);
  const shownPort = url.port ? `:${url.port}` : '';
  return {
    ...endpoint, root,
    location: `sftp://${encodeURIComponent(endpoint.username)}@${url.hostname}${shownPort}${url.pathname}`,
  };
}

/** ProxyJump chains longer than this are refused (a loop in the ssh config would never end). */
const MAX_JUMPS = 8;

/** One host's login settings: URL parts (`urlUser`, `urlPort`, the query) over its ssh config over the defaults. */
function resolveEndpoint(alias: string, urlUser: string | undefined, urlPort: number | undefined, url: URL, env: NodeJS.ProcessEnv, depth: number): SshEndpoint {
  const ssh = sshHostConfig(alias, urlUser, env);
  const host = ssh.hostName ?? alias;
  const port = urlPort ?? ssh.port ?? 22;
  const username = urlUser || ssh.user || env.USER || userInfo().username;
  const home = env.HOME || homedir();
  const identity = url.searchParams.get('identity');
  const keys: SshEndpoint['keys'] = [];
  if (identity) {
    try { keys.push({ path: identity, data: readFileSync(identity) }); } catch (err) {
      throw new BackendError(`sftp: cannot read identity file ${identity} (${(err as NodeJS.ErrnoException).code})`, { backend: 'sftp', cause: err });
    }
  } else if (ssh.identityFiles?.length) {
    // Named by the ssh config: each one must be there, as ssh warns; a missing one is skipped.
    for (const file of ssh.identityFiles) {
      try { keys.push({ path: file, data: readFileSync(file) }); } catch { /* ssh skips it too */ }
    }
  } else {
    for (const name of DEFAULT_KEYS) {
      const file = join(home, '.ssh', name);
      try { keys.push({ path: file, data: readFileSync(file) }); } catch { /* not there: try the next one */ }
    }
  }
  const knownHostsOption = url.searchParams.get('known-hosts');
  const knownHosts = knownHostsOption
    ? [knownHostsOption]
    : [...(ssh.userKnownHostsFiles ?? [join(home, '.ssh', 'known_hosts')]), ...(ssh.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts'])];
  const jumps: SshEndpoint[] = [];
  for (const hop of ssh.proxyJump ?? []) {
    if (depth + jumps.length >= MAX_JUMPS) throw invalid(`more than ${MAX_JUMPS} ProxyJump hops to ${alias}: is there a loop in the ssh config?`);
    const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop);
    if (!m) throw invalid(`ProxyJump "${hop}" (host ${alias}) is not [user@]host[:port]`);
    const inner = resolveEndpoint(m[2]!.replace(/^\[(.*)\]$/, '$1'), m[1], m[3] ? Number(m[3]) : undefined, url, env, depth + jumps.length + 1);
    jumps.push(...inner.jumps, { ...inner, jumps: [] });
  }
  return {
    host, port, username,
    hostKeyName: ssh.hostKeyAlias ?? host,
    hostKeyPort: ssh.hostKeyAlias ? 22 : port,
    keys,
    agent: identity || ssh.identitiesOnly ? undefined : env.SSH_AUTH_SOCK || undefined,
    knownHosts,
    acceptUnknownHost: url.searchParams.get('accept-unknown-host') === '1',
    jumps,
  };
}
