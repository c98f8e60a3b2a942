/**
 * Host key checking against OpenSSH `known_hosts` files: plain and hashed (`|1|salt|hash`) host
 * names, `[host]:port` for non-standard ports, `*`/`?` wildcards, `!` negation and `@revoked`.
 * `@cert-authority` lines are ignored (host certificates are not supported).
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The verdict on one presented host key. */
export type HostKeyVerdict = 'known' | 'unknown' | 'changed' | 'revoked';

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` and ssh print it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The name under which OpenSSH records `host:port`. */
export function hostEntryName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * Checks `key` (the raw SSH wire form) for `host:port` against `files` (missing files are
 * skipped). `known` when a line lists this very key, `changed` when lines exist for the host but
 * none has this key, `revoked` when the key is marked `@revoked`, else `unknown`.
 */
export function checkHostKey(files: readonly string[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = hostEntryName(host, port);
  const wanted = key.toString('base64');
  let seenHost = false;
  let known = false;
  for (const file of files) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
      const [hosts, , blob] = fields;
      if (!hosts || !blob) continue;
      if (marker === '@revoked') { if (blob === wanted) return 'revoked'; continue; }
      if (marker !== undefined || !hostMatches(hosts, name)) continue;
      seenHost = true;
      if (blob === wanted) known = true;
    }
  }
  return known ? 'known' : seenHost ? 'changed' : 'unknown';
}

/** Key types (`ssh-ed25519`, `ssh-rsa`, ...) that `files` record for `host:port`, in file order. */
export function knownKeyTypes(files: readonly string[], host: string, port: number): string[] {
  const name = hostEntryName(host, port);
  const types = new Set<string>();
  for (const file of files) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const [hosts, type] = line.trim().split(/\s+/);
      if (hosts && type && !hosts.startsWith('#') && !hosts.startsWith('@') && hostMatches(hosts, name)) types.add(type);
    }
  }
  return [...types];
}
