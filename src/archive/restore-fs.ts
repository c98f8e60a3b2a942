/**
 * The file system side of `extract`: destination paths that never leave the target and never pass
 * through a symlink, the record of the folders this run created or checked (which no later item
 * may replace), and special files. The promise these keep is ADR 0043.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UnsafePathError } from './errors.js';
import { itemKind, pathText, type Item } from './item.js';

export { utimeSeconds } from './restore-meta.js';

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

/** Which object a path named when it was checked: it is trusted only while it still names that one. */
export interface Identity { dev: bigint; ino: bigint }

/**
 * One item is refused and skipped (a warning, the run goes on): `EUNSAFE_PATH` when a parent is
 * not a real folder (a symlink, a file), `ECONFLICT` when a folder is where a non-folder goes.
 */
export class RefusedItemError extends Error {
  readonly code: 'EUNSAFE_PATH' | 'ECONFLICT';
  constructor(code: 'EUNSAFE_PATH' | 'ECONFLICT', message: string) {
    super(message);
    this.name = 'RefusedItemError';
    this.code = code;
  }
}

interface Folder extends Identity {
  /** Created by this run: nothing can be in it that this run did not put there. */
  fresh: boolean;
}

const key = (path: Buffer): string => path.toString('latin1');

/**
 * The folders below the target that this run created or found (by `lstat`) to be real folders.
 * A folder once recorded is never removed or replaced by this run, so a path made of recorded
 * folders cannot lead through a symlink, whatever items come later.
 */
export class SafeTree {
  readonly root: Buffer;
  readonly #folders = new Map<string, Folder>();

  constructor(root: string) {
    this.root = Buffer.from(root.replace(/\/+$/, '') || '/');
  }

  /** Records the target itself (followed if it is a symlink: the user named it). */
  async init(created: boolean): Promise<void> {
    const st = await stat(this.root, { bigint: true });
    this.#folders.set(key(this.root), { dev: st.dev, ino: st.ino, fresh: created });
  }

  /**
   * The destination of `parts`, after making sure every parent is a recorded folder: a missing
   * one is created (0700), an existing real folder is recorded, anything else refuses the item.
   */
  async prepare(parts: Buffer[]): Promise<Buffer> {
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      dir = Buffer.concat([dir, Buffer.from('/'), parts[i]]);
      if (this.#folders.has(key(dir))) continue;
      let st;
      try {
        st = await lstat(dir, { bigint: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await this.#make(dir);
        continue;
      }
      if (!st.isDirectory()) {
        const shown = pathText(Buffer.concat(parts.slice(0, i + 1).flatMap((p, j) => (j ? [Buffer.from('/'), p] : [p]))));
        throw new RefusedItemError('EUNSAFE_PATH', `skipped: ${shown} is not a real folder (${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}), nothing is written through it`);
      }
      this.#folders.set(key(dir), { dev: st.dev, ino: st.ino, fresh: false });
    }
    return Buffer.concat([dir, Buffer.from('/'), parts[parts.length - 1]]);
  }

  /** True when `dest`'s folder was created by this run (so `dest` exists only if an item repeats). */
  inFreshDir(dest: Buffer): boolean {
    return this.#folders.get(key(dest.subarray(0, dest.lastIndexOf(SLASH))))?.fresh === true;
  }

  /** The identity recorded for the folder at `dest`, if it is one. */
  folder(dest: Buffer): Identity | undefined {
    return this.#folders.get(key(dest));
  }

  /**
   * What is at `dest`: a recorded or real folder (recorded now), another object, or nothing.
   * `assumeEmpty` (in a fresh folder) skips the `lstat`: the caller then handles `EEXIST`.
   */
  async occupant(dest: Buffer, assumeEmpty: boolean): Promise<'none' | 'folder' | 'other'> {
    if (this.#folders.has(key(dest))) return 'folder';
    if (assumeEmpty) return 'none';
    let st;
    try {
      st = await lstat(dest, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw error;
    }
    if (!st.isDirectory()) return 'other';
    this.#folders.set(key(dest), { dev: st.dev, ino: st.ino, fresh: false });
    return 'folder';
  }

  /**
   * Makes room at `dest` for a non-folder item: removes a non-folder there (never following it);
   * a folder there refuses the item (`ECONFLICT`): no folder is ever replaced by a non-folder.
   */
  async clearFor(dest: Buffer, shown: string, assumeEmpty: boolean): Promise<void> {
    const there = await this.occupant(dest, assumeEmpty);
    if (there === 'folder') throw new RefusedItemError('ECONFLICT', `skipped: a folder is already at ${shown}; it is not replaced by a non-folder`);
    if (there === 'other') await unlink(dest).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  }

  /** Creates the folder at `dest` unless a folder is there (a non-folder there is removed); returns it. */
  async makeFolder(dest: Buffer, assumeEmpty: boolean): Promise<Identity> {
    let there = await this.occupant(dest, assumeEmpty);
    if (there === 'none') {
      try {
        return await this.#make(dest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        there = await this.occupant(dest, false);
      }
    }
    if (there === 'other') {
      await unlink(dest);
      return this.#make(dest);
    }
    return this.#folders.get(key(dest))!;
  }

  async #make(dir: Buffer): Promise<Folder> {
    await mkdir(dir, { mode: 0o700 });
    const st = await lstat(dir, { bigint: true });
    const folder = { dev: st.dev, ino: st.ino, fresh: true };
    this.#folders.set(key(dir), folder);
    return folder;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The path as the text Node would encode back to the same bytes (UTF-8), or undefined. */
function asText(path: Buffer): string | undefined {
  try {
    return utf8.decode(path);
  } catch {
    return undefined;
  }
}

/**
 * Creates a FIFO or device node at `dest` with the system's mkfifo/mknod (Node has no mknod).
 * The commands take text: the node is made under a random ASCII name in `dest`'s folder when that
 * folder's path is UTF-8 (so the text names exactly those bytes), else in the target folder (whose
 * path is the text the user gave). `finish` sets its metadata there; it is then renamed to `dest`.
 */
export async function makeSpecial(tree: SafeTree, dest: Buffer, item: Item, finish: (temp: Buffer) => Promise<void>): Promise<void> {
  const name = `.cairn-tmp-${randomBytes(6).toString('hex')}`;
  const here = dest.subarray(0, dest.lastIndexOf(SLASH));
  const dir = asText(here) === undefined ? tree.root : here;
  const temp = Buffer.concat([dir, Buffer.from(`/${name}`)]);
  const text = asText(temp)!;
  const kind = itemKind(item.mode);
  const rdev = BigInt(item.rdev ?? 0);
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  if (kind === 'fifo') await run('mkfifo', ['-m', '600', '--', text]);
  else await run('mknod', ['-m', '600', '--', text, kind === 'chardev' ? 'c' : 'b', String(major), String(minor)]);
  try {
    await finish(temp);
    await rename(temp, dest);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
