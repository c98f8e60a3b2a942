/**
 * Finding a repository that would enclose a new one: `rcreate` refuses a location inside another
 * repository's folders or prefix, whose listing, compaction and deletion would take the inner
 * repository with them. Local folders are checked up to `/`; object-store prefixes (s3, gs, az)
 * up to the bucket or container, one small read per level. SFTP and other schemes are not checked
 * (a connection per level is not cheap).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError, PermissionError, StoreMissingError, type Backend } from '../index.js';

const isConfig = (bytes: Uint8Array): boolean => {
  try {
    return (JSON.parse(Buffer.from(bytes).toString('utf8')) as { format?: unknown } | null)?.format === 'cairn-repository';
  } catch {
    return false;
  }
};

/**
 * The nearest enclosing repository's location (a strict ancestor of `location`), if any. `open`
 * opens an ancestor's store: the caller's limits and request counter (openSideStore), so these
 * reads are retried, timed and reported like every other request of the command.
 */
export async function enclosingRepository(location: string, open: (ancestor: string) => Promise<Backend>): Promise<string | undefined> {
  const local = localPath(location);
  if (local !== undefined) {
    for (let dir = dirname(resolve(local)); ; dir = dirname(dir)) {
      const bytes = await readFile(join(dir, 'config')).catch(() => undefined);
      if (bytes && isConfig(bytes)) return dir;
      if (dirname(dir) === dir) return undefined;
    }
  }
  const url = new URL(location);
  const keep = { 's3:': 0, 'gs:': 0, 'az:': 1 }[url.protocol];
  if (keep === undefined) return undefined;
  const parts = url.pathname.split('/').filter(Boolean);
  for (let n = parts.length - 1; n >= keep; n--) {
    const ancestor = new URL(url.href);
    ancestor.pathname = `/${parts.slice(0, n).join('/')}`;
    const backend = await open(ancestor.href).catch(() => undefined);
    if (!backend) continue;
    try {
      // No config there, or no right to read it (a key scoped to the new prefix): not a repository
      // we can see. Any other failure (one that outlasted the retries) fails rcreate.
      const bytes = await backend.get('config').catch((err: unknown) => {
        if (err instanceof NotFoundError || err instanceof StoreMissingError || err instanceof PermissionError) return undefined;
        throw err;
      });
      if (bytes && isConfig(bytes)) return ancestor.href;
    } finally {
      await backend.close().catch(() => undefined);
    }
  }
  return undefined;
}

function localPath(location: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]+:/i.test(location)) return location;
  if (location.startsWith('file:')) {
    try {
      return fileURLToPath(location);
    } catch {
      return undefined; // openBackend gives the one-line error
    }
  }
  return undefined;
}
