/**
 * Metadata of restored objects (owner when root, xattrs, mode, times), set so that no call can
 * follow a symlink: through the descriptor of the file or folder this run created, with l* calls
 * for symlinks, and on a special file under its temporary name right after an `lstat` check.
 */
import { fchmodSync, fchownSync, futimesSync } from 'node:fs';
import { chmod, constants, lchown, lstat, lutimes, open, type FileHandle } from 'node:fs/promises';
import { itemKind, pathText, type Item } from './item.js';
import type { Owners } from './owners.js';
import type { Identity } from './restore-fs.js';
import type { XattrAccess } from './xattrs.js';
import { exactTimes } from './exact-times.js';

/** What metadata restoring needs besides the item. */
export interface MetadataContext {
  owners: Owners;
  /** Restore owners by number even when the names exist on this system. */
  numericIds?: boolean;
  /** Set when xattrs are restored (their refusals are warnings, see xattrs.ts). */
  xattrs?: XattrAccess;
}

const NS = 1_000_000_000n;
const US = 1_000_000n;
/**
 * Whether this Node's utimes keeps nanoseconds: libuv 1.52 and later (Node 24's) pass the
 * double's fraction through as nanoseconds; older ones (Node 20's 1.46) truncate it to whole
 * microseconds.
 */
export const UTIMES_KEEPS_NANOSECONDS = versionAtLeast(process.versions.uv ?? '0', [1, 52]);

/**
 * Seconds as the double Node's utimes wants; a double of today's seconds is only exact to about
 * 0.24 µs. Where libuv keeps nanoseconds, the nearest double is within 0.12 µs. Where it truncates
 * to whole microseconds, round to the nearest microsecond and aim at the middle of it, which
 * truncation cannot miss. Either way the restored time is within 0.5 µs (it was up to 1.1 µs with
 * the plain conversion under truncation, which could land just below the microsecond).
 */
export function utimeSeconds(ns: bigint, keepsNanoseconds = UTIMES_KEEPS_NANOSECONDS): number {
  if (ns < 0n || keepsNanoseconds) return Number(ns / NS) + Number(ns % NS) / 1e9;
  const us = (ns + 500n) / 1000n;
  return Number(us / US) + (Number(us % US) + 0.5) / 1e6;
}

function versionAtLeast(version: string, least: number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < least.length; i++) {
    const v = parts[i] ?? 0;
    if (v !== least[i]) return v > least[i];
  }
  return true;
}

/** The owner to set: only root can give files away; names win over numbers unless `numericIds`. */
function ownerOf(item: Item, m: MetadataContext): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = (!m.numericIds && item.user !== undefined ? m.owners.uidOf(item.user) : undefined) ?? item.uid;
  const gid = (!m.numericIds && item.group !== undefined ? m.owners.gidOf(item.group) : undefined) ?? item.gid;
  return { uid, gid };
}

const atimeOf = (item: Item): number => utimeSeconds(item.atime ?? item.mtime);
const mtimeOf = (item: Item): number => utimeSeconds(item.mtime);

/*
 * Times are set to the nanosecond through libc (exact-times.ts) where that loads; otherwise through
 * Node's utimes, a double of seconds (within 0.5 µs, see utimeSeconds).
 */
function timesThroughFd(fd: number, item: Item): void {
  const exact = exactTimes();
  if (exact) exact.futimens(fd, item.atime ?? item.mtime, item.mtime);
  else futimesSync(fd, atimeOf(item), mtimeOf(item));
}

async function timesThroughHandle(handle: FileHandle, item: Item): Promise<void> {
  const exact = exactTimes();
  if (exact) exact.futimens(handle.fd, item.atime ?? item.mtime, item.mtime);
  else await handle.utimes(atimeOf(item), mtimeOf(item));
}

/** Times of `path` itself, never following a symlink. */
async function timesOfPath(path: Buffer, item: Item): Promise<void> {
  const exact = exactTimes();
  if (exact) exact.lutimens(path, item.atime ?? item.mtime, item.mtime);
  else await lutimes(path, atimeOf(item), mtimeOf(item));
}

/**
 * Sets owner, xattrs, mode and times of an open file or folder through its descriptor. The xattr
 * addon takes paths: `path` must name this object (it uses l* calls, which never follow a symlink).
 * Order: chown clears setuid bits and security.capability, so it comes first; chmod before the
 * xattrs could take away the write permission that user.* xattrs need when not root.
 */
export async function applyThroughHandle(handle: FileHandle, path: Buffer, item: Item, m: MetadataContext): Promise<void> {
  const owner = ownerOf(item, m);
  if (owner) await handle.chown(owner.uid, owner.gid);
  if (m.xattrs && item.xattrs) await m.xattrs.write(path, pathText(item.path), item.xattrs);
  await handle.chmod(item.mode & 0o7777);
  await timesThroughHandle(handle, item);
}

/** The same for a small file on this thread (no xattrs: such files take the asynchronous path). */
export function applyThroughFd(fd: number, item: Item, m: MetadataContext): void {
  const owner = ownerOf(item, m);
  if (owner) fchownSync(fd, owner.uid, owner.gid);
  fchmodSync(fd, item.mode & 0o7777);
  timesThroughFd(fd, item);
}

/** A symlink's own owner, xattrs and times (Linux has no lchmod: a symlink's mode is always 0777). */
export async function applyToSymlink(dest: Buffer, item: Item, m: MetadataContext): Promise<void> {
  const owner = ownerOf(item, m);
  if (owner) await lchown(dest, owner.uid, owner.gid);
  if (m.xattrs && item.xattrs) await m.xattrs.write(dest, pathText(item.path), item.xattrs);
  await timesOfPath(dest, item);
}

/**
 * A FIFO or device node under the random temporary name it was just made with (opening one could
 * block or act on a device, so no descriptor): chmod, which follows symlinks, is called only after
 * an `lstat` found the node of the right type there; everything else never follows.
 */
export async function applyToSpecial(temp: Buffer, item: Item, m: MetadataContext): Promise<void> {
  const owner = ownerOf(item, m);
  if (owner) await lchown(temp, owner.uid, owner.gid);
  if (m.xattrs && item.xattrs) await m.xattrs.write(temp, pathText(item.path), item.xattrs);
  const st = await lstat(temp);
  const kind = itemKind(item.mode);
  if (!(kind === 'fifo' ? st.isFIFO() : kind === 'chardev' ? st.isCharacterDevice() : st.isBlockDevice())) throw new Error(`${pathText(item.path)}: the new special file was replaced while being restored`);
  await chmod(temp, item.mode & 0o7777);
  await timesOfPath(temp, item);
}

const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * A folder's metadata, after its contents: it is opened without following a symlink and must be
 * the folder recorded when it was created or checked (same dev and inode). Returns false, having
 * changed nothing, when `dest` no longer names that folder.
 */
export async function applyToFolder(dest: Buffer, expected: Identity, item: Item, m: MetadataContext): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(dest, FOLDER_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') return false;
    if (code !== 'EACCES') throw error;
    return applyToUnreadableFolder(dest, expected, item, m);
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (st.dev !== expected.dev || st.ino !== expected.ino) return false;
    await applyThroughHandle(handle, dest, item, m);
    return true;
  } finally {
    await handle.close();
  }
}

/**
 * A folder this user may not open (one found in the target without read permission; never for
 * root): each path call comes right after an `lstat` that found the recorded folder there.
 */
async function applyToUnreadableFolder(dest: Buffer, expected: Identity, item: Item, m: MetadataContext): Promise<boolean> {
  const same = async (): Promise<boolean> => {
    const st = await lstat(dest, { bigint: true }).catch(() => undefined);
    return st !== undefined && st.isDirectory() && st.dev === expected.dev && st.ino === expected.ino;
  };
  if (!await same()) return false;
  if (m.xattrs && item.xattrs) await m.xattrs.write(dest, pathText(item.path), item.xattrs);
  if (!await same()) return false;
  await chmod(dest, item.mode & 0o7777);
  await timesOfPath(dest, item);
  return true;
}
