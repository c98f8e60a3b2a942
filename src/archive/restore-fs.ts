/**
 * The file system side of `extract`: safe destination paths (never outside the target, never
 * through a symlink), special files, and metadata (owner when root, xattrs, mode, times).
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, lutimes, mkdir, rename, rmdir, unlink, utimes } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UnsafePathError } from './errors.js';
import { itemKind, pathText, type Item } from './item.js';
import type { Owners } from './owners.js';
import type { XattrAccess } from './xattrs.js';

const run = promisify(execFile);
const SLASH = 0x2f;

/** Splits raw path bytes on "/" and refuses absolute paths, "..", "." and empty parts. */
export function safeParts(path: Uint8Array): Buffer[] {
  const text = pathText(path);
  if (path.length === 0 || path[0] === SLASH) throw new UnsafePathError(text);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      const part = Buffer.from(path.subarray(start, i));
      if (part.length === 0 || part.equals(Buffer.from('..')) || part.equals(Buffer.from('.'))) throw new UnsafePathError(text);
      parts.push(part);
      start = i + 1;
    }
  }
  return parts;
}

/** Creates missing parent folders and checks existing ones are real folders (not symlinks). */
export class SafeTree {
  readonly #root: Buffer;
  readonly #verified = new Set<string>();
  /** Folders this run created: nothing can be in the way inside them, so no lstat is needed. */
  readonly #fresh = new Set<string>();

  constructor(root: string) {
    this.#root = Buffer.from(root.replace(/\/+$/, '') || '/');
  }

  /** The destination of `parts` below the root, after making sure every parent is a folder. */
  async prepare(parts: Buffer[]): Promise<Buffer> {
    let dir = this.#root;
    for (const part of parts.slice(0, -1)) {
      dir = Buffer.concat([dir, Buffer.from('/'), part]);
      const key = dir.toString('latin1');
      if (this.#verified.has(key)) continue;
      try {
        const st = await lstat(dir);
        if (!st.isDirectory()) throw new UnsafePathError(pathText(Buffer.concat(parts.map((p, i) => i ? Buffer.concat([Buffer.from('/'), p]) : p))));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await mkdir(dir, { mode: 0o700 });
        this.#fresh.add(key);
      }
      this.#verified.add(key);
    }
    return Buffer.concat([dir, Buffer.from('/'), parts[parts.length - 1]]);
  }

  /** Marks a folder this run created (`fresh`) or kept as safe to descend into. */
  trust(dir: Buffer, fresh = false): void {
    this.#verified.add(dir.toString('latin1'));
    if (fresh) this.#fresh.add(dir.toString('latin1'));
  }

  /** True when `dest`'s folder was created by this run (so `dest` cannot exist unless an item repeats). */
  inFreshDir(dest: Buffer): boolean {
    return this.#fresh.has(dest.subarray(0, dest.lastIndexOf(SLASH)).toString('latin1'));
  }

  /** Removes what is at `dest` so a new object can take its place (an existing folder is kept for a folder). */
  async clear(dest: Buffer, keepDir: boolean): Promise<void> {
    let st;
    try {
      st = await lstat(dest);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      if (!keepDir) await rmdir(dest);
    } else await unlink(dest);
  }
}

/** Creates a FIFO or device node with the system's mkfifo/mknod (Node has no mknod). */
export async function makeSpecial(dest: Buffer, item: Item): Promise<void> {
  // The commands take text arguments: create under a temporary ASCII name, then rename to the raw bytes.
  const dir = dest.subarray(0, dest.lastIndexOf(SLASH));
  const temp = Buffer.concat([dir, Buffer.from(`/cairn-tmp-${randomBytes(6).toString('hex')}`)]);
  const kind = itemKind(item.mode);
  const rdev = BigInt(item.rdev ?? 0);
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  if (kind === 'fifo') await run('mkfifo', ['-m', '600', temp.toString('latin1')]);
  else await run('mknod', ['-m', '600', temp.toString('latin1'), kind === 'chardev' ? 'c' : 'b', String(major), String(minor)]);
  await rename(temp, dest);
}

const NS = 1_000_000_000n;
const US = 1_000_000n;
/**
 * Seconds as the double Node's utimes wants. libuv truncates it to whole microseconds, and a double
 * of today's seconds is only exact to about 0.24 µs: so round to the nearest microsecond and aim at
 * the middle of it, which truncation cannot miss. The restored time is then within 0.5 µs (it was
 * up to 1.1 µs with the plain conversion, which could land just below the microsecond).
 */
export function utimeSeconds(ns: bigint): number {
  if (ns < 0n) return Number(ns / NS) + Number(ns % NS) / 1e9;
  const us = (ns + 500n) / 1000n;
  return Number(us / US) + (Number(us % US) + 0.5) / 1e6;
}

/** Applies owner (when running as root), xattrs (when given access), mode and times to an extracted object. */
export async function applyMetadata(dest: Buffer, item: Item, owners: Owners, options: { numericIds?: boolean }, xattrs?: XattrAccess): Promise<void> {
  const kind = itemKind(item.mode);
  if (process.getuid?.() === 0) {
    const uid = (!options.numericIds && item.user !== undefined ? owners.uidOf(item.user) : undefined) ?? item.uid;
    const gid = (!options.numericIds && item.group !== undefined ? owners.gidOf(item.group) : undefined) ?? item.gid;
    await lchown(dest, uid, gid);
  }
  // After chown (which clears security.capability) and before chmod (which may take away the
  // write permission that setting user.* xattrs needs when not root).
  if (xattrs && item.xattrs) await xattrs.write(dest, pathText(item.path), item.xattrs);
  // Linux has no lchmod: a symlink's own mode is always 0777.
  if (kind !== 'symlink') await chmod(dest, item.mode & 0o7777);
  const atime = utimeSeconds(item.atime ?? item.mtime);
  const mtime = utimeSeconds(item.mtime);
  if (kind === 'symlink') await lutimes(dest, atime, mtime);
  else await utimes(dest, atime, mtime);
}

/**
 * Creates a small regular file (no xattrs, not sparse) with its contents, owner, mode and times in
 * one go on this thread, through its descriptor: six file system calls without six thread-pool
 * round trips, which cost more than the calls themselves for small files. Refuses to follow a
 * symlink or to replace anything (O_NOFOLLOW | O_EXCL), as the asynchronous path does. Returns bytes.
 */
export function writeSmallFile(dest: Buffer, item: Item, chunks: readonly Uint8Array[], owners: Owners, options: { numericIds?: boolean }): number {
  const fd = openSync(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let size = 0;
  try {
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.length) at += writeSync(fd, chunk, at, chunk.length - at, size + at);
      size += chunk.length;
    }
    if (process.getuid?.() === 0) {
      const uid = (!options.numericIds && item.user !== undefined ? owners.uidOf(item.user) : undefined) ?? item.uid;
      const gid = (!options.numericIds && item.group !== undefined ? owners.gidOf(item.group) : undefined) ?? item.gid;
      fchownSync(fd, uid, gid);
    }
    fchmodSync(fd, item.mode & 0o7777);
    futimesSync(fd, utimeSeconds(item.atime ?? item.mtime), utimeSeconds(item.mtime));
  } finally {
    closeSync(fd);
  }
  return size;
}
