/**
 * Atomic file creation for the fs backend: write a hidden temp file in the target folder,
 * fsync it, then rename (overwrite) or link (create-only) it into place and fsync the folder.
 * On a file system without hard links (FAT, exFAT, many FUSE and network mounts: link(2) answers
 * EPERM, ENOTSUP...), create-only takes an exclusive claim instead: the hidden file
 * `.claim-<name>` made with O_CREAT|O_EXCL (which every file system does atomically) is held
 * while the writer checks that the name is free and renames the complete temp file onto it, then
 * removed. Every create-only writer of a name takes the same claim, so exactly one of them
 * publishes, and the name appears with all its bytes at once.
 * Temp names start with "." and so can never be keys (see src/store/keys.ts). Objects are created
 * 0600 and folders 0700 (Borg's umask 077): the store holds the sealed key, which must not be
 * readable by other local users.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { BackendError } from '../../src/store/errors.js';
import { errnoOf } from './errors.js';

/** Every temp file of the fs backend starts with this. */
export const TEMP_PREFIX = '.tmp-';
/** Mode of every object (file) the fs backend creates. */
export const FILE_MODE = 0o600;
/** Mode of every folder the fs backend creates, the root included. */
export const DIR_MODE = 0o700;

/** Prefix of the claim file a create-only put holds on a file system without hard links. */
export const CLAIM_PREFIX = '.claim-';
/** How long a create-only put waits for another writer's claim on the same name to go. */
const CLAIM_WAIT_MS = 5_000;
/** What link(2) answers where the file system has no hard links (FAT/exFAT: EPERM; FUSE, SMB: ENOTSUP...). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * How create-only puts publish in one store, chosen once per store (per backend instance): by
 * link(2) until the file system refuses it, then by claim (see the module comment).
 */
export interface LinkSupport {
  /** undefined until the first create-only put has tried link(2). */
  usable?: boolean;
}

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
export async function writeAtomic(root: string, path: string, bytes: Uint8Array, ifAbsent: boolean, signal?: AbortSignal, links: LinkSupport = {}): Promise<void> {
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
      if (ifAbsent && links.usable !== false) {
        try {
          await link(temp, path);
          links.usable = true;
        } catch (err) {
          // Our own fresh file in a folder we can write: a refusal here means "no hard links".
          if (links.usable === true || !NO_HARD_LINKS.has(errnoOf(err) ?? '')) throw err;
          links.usable = false;
        }
      }
      if (ifAbsent && links.usable === false) {
        await publishByClaim(temp, path);
        renamed = true;
      } else if (!ifAbsent) {
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

const exists = (path: string) => lstat(path).then(() => true, (err: unknown) => {
  if (errnoOf(err) === 'ENOENT') return false;
  throw err;
});

function alreadyExists(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: file already exists, ${path}`), { code: 'EEXIST', path });
}

/**
 * Create-only publication without link(2): holds the name's claim (O_EXCL) while checking that
 * the name is free and renaming `temp` onto it. Throws an EEXIST error when the name exists.
 * A claim held by another writer is waited for (a writer holds it for one lstat and one rename);
 * one that stays while the name is free was left by a writer that died holding it, and is
 * reported, never broken: two writers breaking the same claim could both win.
 */
async function publishByClaim(temp: string, path: string): Promise<void> {
  const claim = join(dirname(path), `${CLAIM_PREFIX}${basename(path)}`);
  for (let waited = 0; ;) {
    try {
      await (await open(claim, 'wx', FILE_MODE)).close();
      break;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    if (await exists(path)) throw alreadyExists(path);
    if (waited >= CLAIM_WAIT_MS) {
      throw new BackendError(`fs: ${claim} was left by an interrupted write; if no cairn process is using this repository, delete that file and try again`, { backend: 'fs' });
    }
    const pause = Math.min(50, 5 + waited / 10);
    await sleep(pause);
    waited += pause;
  }
  try {
    if (await exists(path)) throw alreadyExists(path);
    await rename(temp, path);
  } finally {
    // Left behind, it would only make a later create-only put of this name report it.
    await unlink(claim).catch(() => {});
  }
}
