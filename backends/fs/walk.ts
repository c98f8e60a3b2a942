/**
 * Sorted listing of an fs store. Keys map to paths one to one (`a/b/c` is the file `c` in the
 * folders `a/b`), so a walk that visits each folder's entries ordered by `name` for files and
 * `name + "/"` for folders yields keys in byte order of the full key: every key below a
 * child starts with that sort string, and no sort string of one folder is a proper prefix of
 * another's except a file `a` before the folder `ab/`, which byte order puts first too.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListEntry } from '../../src/store/backend.js';
import { compareKeys } from '../../src/store/keys.js';
import { errnoOf } from './errors.js';

interface Child {
  name: string;
  sortKey: string;
  isDir: boolean;
}

/** The visible children of `dir` in key order; temp and other dot-names, links and devices are skipped. */
async function children(dir: string): Promise<Child[] | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return undefined; // removed while we walked
    throw err;
  }
  const out: Child[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue; // temp files: never keys
    if (entry.isDirectory()) out.push({ name: entry.name, sortKey: `${entry.name}/`, isDir: true });
    else if (entry.isFile()) out.push({ name: entry.name, sortKey: entry.name, isDir: false });
  }
  return out.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/** Size and mtime (the store's time) of a regular file, or undefined when it vanished or is not a file any more. */
async function infoOf(path: string): Promise<{ size: number; modified: number } | undefined> {
  try {
    const st = await lstat(path);
    return st.isFile() ? { size: st.size, modified: Math.floor(st.mtimeMs) } : undefined;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Every object whose key starts with `prefix`, in key byte order. Starts in the deepest folder
 * the prefix names, so listing `data/ab/` never reads `index/`. Sizes and mtimes are read in small batches.
 */
export async function* walkSorted(root: string, prefix: string, signal?: AbortSignal): AsyncIterable<ListEntry> {
  const cut = prefix.lastIndexOf('/');
  const dirKey = cut < 0 ? '' : prefix.slice(0, cut);
  const namePrefix = prefix.slice(cut + 1);
  yield* walkDir(root, dirKey, namePrefix, signal);
}

async function* walkDir(root: string, dirKey: string, namePrefix: string, signal?: AbortSignal): AsyncIterable<ListEntry> {
  const dir = dirKey === '' ? root : join(root, ...dirKey.split('/'));
  const kids = (await children(dir))?.filter((c) => c.name.startsWith(namePrefix));
  if (!kids) return;
  const BATCH = 32;
  for (let i = 0; i < kids.length;) {
    signal?.throwIfAborted();
    // Consecutive files are sized together; a folder is walked in its place in the order.
    const kid = kids[i] as Child;
    if (kid.isDir) {
      yield* walkDir(root, dirKey === '' ? kid.name : `${dirKey}/${kid.name}`, '', signal);
      i += 1;
      continue;
    }
    let end = i;
    while (end < kids.length && end - i < BATCH && !(kids[end] as Child).isDir) end++;
    const batch = kids.slice(i, end);
    const infos = await Promise.all(batch.map((c) => infoOf(join(dir, c.name))));
    for (const [j, c] of batch.entries()) {
      const info = infos[j];
      if (info !== undefined) yield { key: dirKey === '' ? c.name : `${dirKey}/${c.name}`, ...info };
    }
    i = end;
  }
}
