/**
 * Where each key lives on the server. A key's last segment is a file; every segment before it is
 * a folder named `<segment>~`. The suffix keeps a key and the keys below it apart ("k/a" is the
 * file `k~/a`, "k/a/b" is `k~/a~/b`); '~' is outside the key alphabet, so no key can name a
 * folder, and names starting with "." (temp files) can be no key either.
 */
import { randomBytes } from 'node:crypto';

export const DIR_SUFFIX = '~';

/** Server path of `key` under `root`. */
export function keyPath(root: string, key: string): string {
  const parts = key.split('/');
  const last = parts.pop() as string;
  return [root, ...parts.map((p) => p + DIR_SUFFIX), last].join('/');
}

/** Server path of the folder that holds the keys starting with `dirKey` ("" or ending in "/"). */
export function folderPath(root: string, dirKey: string): string {
  const parts = dirKey.split('/').filter(Boolean);
  return [root, ...parts.map((p) => p + DIR_SUFFIX)].join('/');
}

/** A fresh temp name next to `path`: hidden (leading "."), never listed, never a valid key. */
export function tempPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
}

/** The folders between `root` and the file at `key`, outermost first. */
export function parentFolders(root: string, key: string): string[] {
  const parts = key.split('/').slice(0, -1);
  return parts.map((_, i) => folderPath(root, parts.slice(0, i + 1).join('/')));
}
