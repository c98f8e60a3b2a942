/**
 * The OpenSSH client configuration (`~/.ssh/config`, then `/etc/ssh/ssh_config`) for the host
 * named in an `sftp://` URL, as `ssh` reads it: the first value obtained for each setting wins,
 * over every matching `Host` block in file order (parsed by the `ssh-config` package). The
 * settings cairn uses: HostName, Port, User, IdentityFile, IdentitiesOnly, UserKnownHostsFile,
 * GlobalKnownHostsFile, HostKeyAlias and ProxyJump. `Match exec` is never run, and `Include` is
 * not followed. `CAIRN_SSH_CONFIG=PATH` reads that file instead of both (like `ssh -F PATH`;
 * `none` reads none).
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { BackendError } from '../../src/store/errors.js';

export interface SshHostConfig {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  identitiesOnly?: boolean;
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  hostKeyAlias?: string;
  /** `[user@]host[:port]` hops, outermost first. */
  proxyJump?: string[];
}

const SYSTEM_CONFIG = '/etc/ssh/ssh_config';

function invalid(file: string, message: string): BackendError {
  return new BackendError(`ssh config ${file}: ${message}`, { backend: 'sftp' });
}

/** The files to read, in order: CAIRN_SSH_CONFIG alone, or the user's then the system's. */
export function configFiles(env: NodeJS.ProcessEnv): string[] {
  const chosen = env.CAIRN_SSH_CONFIG;
  if (chosen) return chosen === 'none' ? [] : [chosen];
  return [join(env.HOME || homedir(), '.ssh', 'config'), SYSTEM_CONFIG];
}

/** OpenSSH's `~` and `%` expansion for file names: ~, %d (home), %u (local user), %h, %r, %p, %%. */
function expandPath(value: string, tokens: { home: string; host: string; user: string; port: number }): string {
  const tilde = value === '~' ? tokens.home : value.startsWith('~/') ? join(tokens.home, value.slice(2)) : value;
  return tilde.replace(/%([%dhurp])/g, (_, t: string) => ({
    '%': '%', d: tokens.home, h: tokens.host, u: userInfo().username, r: tokens.user, p: String(tokens.port),
  })[t] as string);
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * What the ssh configuration says about `alias` (the URL's host), with URL parts still to
 * override it. A file that is missing is skipped; one that cannot be parsed is an error.
 */
export function sshHostConfig(alias: string, urlUser: string | undefined, env: NodeJS.ProcessEnv = process.env): SshHostConfig {
  const merged: Record<string, string | string[]> = {};
  for (const file of configFiles(env)) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (err) {
      if (env.CAIRN_SSH_CONFIG && file === env.CAIRN_SSH_CONFIG) throw invalid(file, `cannot be read (${(err as NodeJS.ErrnoException).code})`);
      continue;
    }
    let computed: Record<string, string | string[]>;
    try {
      const parsed = SSHConfig.parse(text);
      computed = parsed.compute({ Host: alias, ...(urlUser ? { User: urlUser } : {}) }, { ignoreCase: true, matchExec: false });
    } catch (err) {
      throw invalid(file, `cannot be parsed (${(err as Error).message})`);
    }
    for (const [k, v] of Object.entries(computed)) {
      const key = k.toLowerCase();
      if (key === 'identityfile') merged[key] = [...list(merged[key]), ...list(v)];
      else if (!(key in merged)) merged[key] = v;
    }
  }
  const out: SshHostConfig = {};
  const hostName = first(merged.hostname);
  if (hostName) out.hostName = hostName.replace(/%h/g, alias).replace(/%%/g, '%');
  const port = first(merged.port);
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(configFiles(env).join(', '), `Port ${port} for host ${alias} is not a port number`);
    out.port = n;
  }
  const user = first(merged.user);
  if (user) out.user = user;
  const home = env.HOME || homedir();
  const tokens = { home, host: out.hostName ?? alias, user: urlUser || out.user || env.USER || userInfo().username, port: out.port ?? 22 };
  const files = (key: string) => list(merged[key]).flatMap((v) => v.split(/\s+/)).filter(Boolean).map((v) => expandPath(v, tokens));
  if (merged.identityfile) out.identityFiles = files('identityfile').filter((f) => f.toLowerCase() !== 'none');
  if (first(merged.identitiesonly)?.toLowerCase() === 'yes') out.identitiesOnly = true;
  if (merged.userknownhostsfile) out.userKnownHostsFiles = files('userknownhostsfile').filter((f) => f !== 'none');
  if (merged.globalknownhostsfile) out.globalKnownHostsFiles = files('globalknownhostsfile').filter((f) => f !== 'none');
  const alias2 = first(merged.hostkeyalias);
  if (alias2) out.hostKeyAlias = alias2;
  const jump = first(merged.proxyjump);
  if (jump && jump.toLowerCase() !== 'none') out.proxyJump = jump.split(',').map((h) => h.trim()).filter(Boolean);
  if (first(merged.proxycommand) && first(merged.proxycommand)?.toLowerCase() !== 'none' && !out.proxyJump) {
    throw invalid(configFiles(env).join(', '), `ProxyCommand (host ${alias}) is not supported by cairn's SSH client; use ProxyJump or connect directly`);
  }
  return out;
}
