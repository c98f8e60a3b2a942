/**
 * What `cairn mount` shows: the file system calls of the FUSE worker answered from archive trees (browse.ts). One
 * archive is the mount's root; with `--all` the root holds one folder per archive, each archive's tree opened on first
 * use. Inode numbers are given per path as paths are first seen (root 1), so they are stable while mounted.
 */
import { constants } from 'node:os';
import { PathNotFoundError } from '../archive/errors.js';
import type { ArchiveTree, TreeEntry } from '../archive/browse.js';
import type { Attr, FsReply, FsRequest } from './protocol.js';

const { ENOENT, EIO, ENOTDIR, EISDIR, EINVAL } = constants.errno;
const S_IFDIR = 0o040000;

/** Where a mount path lives: an archive's tree and the path inside it, or the `--all` root itself. */
type Place = { tree: ArchiveTree; path: string } | { root: true };

export interface MountViewOptions {
  /** The one archive shown at the root, or (with `archives`) none. */
  tree?: () => Promise<ArchiveTree>;
  /** `--all`: the archive names, one folder each, and how to open one. */
  archives?: { names: readonly string[]; open(name: string): Promise<ArchiveTree>; timeNs: bigint };
  /** Called with a failure that is not "no such file" (the call returns EIO). */
  onError(path: string, error: unknown): void;
}

/** Answers the worker's calls; never throws (a failure becomes an errno). */
export class MountView {
  readonly #options: MountViewOptions;
  readonly #inodes = new Map<string, number>([['/', 1]]);
  readonly #trees = new Map<string, Promise<ArchiveTree>>();

  constructor(options: MountViewOptions) {
    this.#options = options;
  }

  async answer(request: FsRequest): Promise<FsReply> {
    try {
      switch (request.op) {
        case 'getattr': return await this.#getattr(request.path);
        case 'readdir': return await this.#readdir(request.path);
        case 'readlink': return await this.#readlink(request.path);
        case 'read': return await this.#read(request.path, request.offset, request.length);
      }
    } catch (error) {
      if (error instanceof PathNotFoundError) return { errno: ENOENT };
      this.#options.onError(request.path, error);
      return { errno: EIO };
    }
  }

  #tree(name: string): Promise<ArchiveTree> {
    let tree = this.#trees.get(name);
    if (!tree) {
      tree = this.#options.archives!.open(name);
      // A failed open is tried again on the next call (a transient store error must not stick).
      tree.catch(() => this.#trees.delete(name));
      this.#trees.set(name, tree);
    }
    return tree;
  }

  async #place(path: string): Promise<Place | undefined> {
    const inner = path.replace(/^\/+/, '');
    if (this.#options.tree) return { tree: await this.#options.tree(), path: inner };
    if (inner === '') return { root: true };
    const slash = inner.indexOf('/');
    const name = slash < 0 ? inner : inner.slice(0, slash);
    if (!this.#options.archives!.names.includes(name)) return undefined;
    return { tree: await this.#tree(name), path: slash < 0 ? '' : inner.slice(slash + 1) };
  }

  #ino(path: string): number {
    let ino = this.#inodes.get(path);
    if (ino === undefined) this.#inodes.set(path, ino = this.#inodes.size + 1);
    return ino;
  }

  async #entry(path: string): Promise<TreeEntry | 'root' | undefined> {
    const place = await this.#place(path);
    if (!place) return undefined;
    if ('root' in place) return 'root';
    return place.tree.stat(place.path);
  }

  async #getattr(path: string): Promise<FsReply> {
    const entry = await this.#entry(path);
    if (!entry) return { errno: ENOENT };
    const ino = this.#ino(path);
    if (entry === 'root') return { attr: { ino, mode: S_IFDIR | 0o555, nlink: 1, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, size: 0, mtimeNs: this.#options.archives!.timeNs } };
    return { attr: attrOf(ino, entry) };
  }

  async #readdir(path: string): Promise<FsReply> {
    const place = await this.#place(path);
    if (!place) return { errno: ENOENT };
    if ('root' in place) return { names: [...this.#options.archives!.names] };
    const entry = await place.tree.stat(place.path);
    if (!entry) return { errno: ENOENT };
    if (entry.type !== 'dir') return { errno: ENOTDIR };
    return { names: (await place.tree.list(place.path)).map((e) => e.name) };
  }

  async #readlink(path: string): Promise<FsReply> {
    const entry = await this.#entry(path);
    if (!entry) return { errno: ENOENT };
    if (entry === 'root' || entry.linkTarget === undefined) return { errno: EINVAL };
    return { target: entry.linkTarget };
  }

  async #read(path: string, offset: number, length: number): Promise<FsReply> {
    const place = await this.#place(path);
    if (!place) return { errno: ENOENT };
    if ('root' in place) return { errno: EISDIR };
    return { bytes: await place.tree.read(place.path, offset, length) };
  }
}

/** `struct stat` of an archive entry: a symlink's size is its target's length in bytes, as lstat(2) gives it. */
function attrOf(ino: number, entry: TreeEntry): Attr {
  const size = entry.type === 'symlink' ? Buffer.byteLength(entry.linkTarget ?? '') : entry.size;
  // Folders say 1 link: "unknown", so tools such as find(1) do not count subfolders by it.
  const nlink = entry.type === 'dir' ? 1 : entry.nlink ?? 1;
  return { ino, mode: entry.mode, nlink, uid: entry.uid, gid: entry.gid, size, mtimeNs: entry.mtimeNs };
}
