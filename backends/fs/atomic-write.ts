/**
 * Atomic file creation for the fs backend: write a hidden temp file in the target folder,
 * fsync it, then rename (overwrite) or link (create-only) it into place and fsync the folder.
 * Temp names start with "." and so can never be keys (see src/store/keys.ts). Objects are created
 * 0600 and folders 0700 (Borg's umask 077): the store holds the sealed key, which must not be
 * readable by other local users.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { errnoOf } from './errors.js';

/** Every temp file of the fs backend starts with this. */
export const TEMP_PREFIX = '.tmp-';
/** Mode of every object (file) the fs backend creates. */
export const FILE_MODE = 0o600;
/** Mode of every folder the fs backend creates, the root included. */
export const DIR_MODE = 0o700;

/** A fresh temp path in `dir`. */
export function tempPathIn(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`);
}

/** fsyncs a folder so a rename, link, unlink or mkdir inside it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates the folders between `root` (which must exist) and `dir`, one level at a time, so a
 * destroyed store is never silently re-created; each new folder is made durable in its parent.
 * Throws ENOENT when `root` is missing.
 */
export async function ensureDirs(root: string, dir: string): Promise<void> {
  const parts = relative(root, dir).split(sep).filter(Boolean);
  let current = root;
  for (const part of parts) {
    const next = join(current, part);
    try {
      await mkdir(next, DIR_MODE);
      await syncDir(current);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    current = next;
  }
}

/**
 * Writes `bytes` to `path` atomically. With `ifAbsent` the final step is link(2), which fails
 * with EEXIST when `path` exists, so two concurrent writers cannot both win. Missing folders
 * are created; a folder removed under us by a concurrent delete is re-created (a few tries).
 */
export async function writeAtomic(root: string, path: string, bytes: Uint8Array, ifAbsent: boolean, signal?: AbortSignal): Promise<void> {
  const dir = dirname(path);
  for (let attempt = 0; ; attempt++) {
    const temp = tempPathIn(dir);
    let handle;
    try {
      handle = await open(temp, 'wx', FILE_MODE);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT' || attempt >= 5) throw err;
      await ensureDirs(root, dir);
      continue;
    }
    let renamed = false;
    try {
      try {
        signal?.throwIfAborted();
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
          done += bytesWritten;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      signal?.throwIfAborted();
      if (ifAbsent) await link(temp, path);
      else {
        await rename(temp, path);
        renamed = true;
      }
      await syncDir(dir);
      return;
    } finally {
      // After link or a failure the temp name is still there; after a rename it is gone.
      if (!renamed) await unlink(temp).catch(() => {});
    }
  }
}
