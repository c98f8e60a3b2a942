/**
 * A read-only view of one archive as a tree of folders, for `cairn serve` and `cairn mount`: look up a path, list a
 * folder, read a byte range of a file. The folder index is built from the item stream once, on the first call; a
 * ranged read fetches only the chunks that cover the range (through chunk-fetch.ts, so every chunk is authenticated
 * and size-checked), and keeps the last few chunks read so that sequential small reads (FUSE's 128 KiB, an HTTP range
 * after another) do not fetch a chunk again.
 *
 * Paths are the items' paths as text (`pathText`), "/"-separated, with no leading or trailing "/"; "" is the root.
 * Folders that hold items but have no item of their own (the parents of a backed-up path) are shown with mode 0755,
 * owner 0:0 and the archive's start time. Items whose path could escape the tree (absolute, "", "." or ".." parts)
 * and items below a non-folder are left out and counted in `skipped`. The index holds every item's metadata and chunk
 * list in memory: about 300 bytes per item plus 40 per chunk.
 */
import { readRecord, type ArchiveRecord } from './archive-record.js';
import { fetchChunks } from './chunk-fetch.js';
import { PathNotFoundError } from './errors.js';
import { itemKind, pathText, S_IFDIR, type ChunkRef, type Item } from './item.js';
import { readItems } from './item-stream.js';
import type { ArchiveContext } from './ports.js';

/** One object of the tree: what `stat` and `list` return. Times are nanoseconds since the epoch. */
export interface TreeEntry {
  /** The last part of the path ("" for the root). */
  name: string;
  /** The full path, "/"-separated, no leading "/" ("" for the root). */
  path: string;
  /** `other` is a FIFO, a device or a socket (see `mode` for which). */
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Bytes of a regular file; 0 for anything else. */
  size: number;
  /** st_mode, type bits included. */
  mode: number;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  mtimeNs: bigint;
  /** A symlink's target, as text. */
  linkTarget?: string;
  /** Links to this file in the archive (hard links share an `hlid`); 1 when not hard-linked. */
  nlink?: number;
  /** Folders: the bytes of every regular file below (hard links counted once per link). */
  total?: number;
  /** Folders: the number of entries directly inside. */
  children?: number;
}

/** The read-only tree of one archive. */
export interface ArchiveTree {
  readonly archive: string;
  /** The archive's record (name, times, host, stats). */
  readonly record: ArchiveRecord;
  /** The entry at `path` ('' is the root; a leading or trailing "/" is ignored), or undefined when there is none. */
  stat(path: string): Promise<TreeEntry | undefined>;
  /** The children of the folder at `path`, sorted by name (UTF-16 code unit order); [] for a non-folder; `PathNotFoundError` when missing. */
  list(path: string): Promise<TreeEntry[]>;
  /**
   * Up to `length` bytes of the file at `path` from `offset` (fewer at the end of the file; none past it or for a
   * non-file). Fetches only the chunks covering the range, and those not among the last few read.
   * `PathNotFoundError` when missing.
   */
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
  /**
   * The bytes of the file at `path` from `offset`, `length` of them (default: to the end), in pieces as the chunks
   * arrive; a few chunks are fetched ahead and memory stays bounded whatever the length (downloads).
   */
  stream(path: string, offset?: number, length?: number): AsyncGenerator<Uint8Array>;
  /** Items left out of the tree (unsafe paths, items below a non-folder); builds the index. */
  skipped(): Promise<number>;
}

export interface ArchiveTreeOptions {
  /** Plaintext chunks kept after a `read` for the next one (default 4: at most 4 × the largest chunk). */
  cachedChunks?: number;
}

interface Node {
  entry: TreeEntry;
  /** Regular files: chunk list and the offset where each chunk starts (one more: the file size). */
  chunks?: ChunkRef[];
  starts?: Float64Array;
  /** Folders: children by name, and the sorted list once asked for. */
  kids?: Map<string, Node>;
  sorted?: TreeEntry[];
}

interface Index { root: Node; skipped: number }

const DIR_MODE = S_IFDIR | 0o755;

/** '' for the root; the path without a leading or trailing "/" otherwise. */
const clean = (path: string): string => path.replace(/^\/+/, '').replace(/\/+$/, '');

function typeOf(mode: number): TreeEntry['type'] {
  const kind = itemKind(mode);
  return kind === 'file' || kind === 'dir' || kind === 'symlink' ? kind : 'other';
}

function entryOf(item: Item, name: string, path: string): TreeEntry {
  const type = typeOf(item.mode);
  const entry: TreeEntry = { name, path, type, size: 0, mode: item.mode, uid: item.uid, gid: item.gid, mtimeNs: item.mtime };
  if (item.user !== undefined) entry.user = item.user;
  if (item.group !== undefined) entry.group = item.group;
  if (type === 'symlink' && item.target) entry.linkTarget = pathText(item.target);
  if (type === 'file') entry.nlink = 1;
  return entry;
}

function folder(name: string, path: string, mtimeNs: bigint): Node {
  return { entry: { name, path, type: 'dir', size: 0, mode: DIR_MODE, uid: 0, gid: 0, mtimeNs }, kids: new Map() };
}

/** The parts of an item path, or undefined when it could escape the tree. */
function partsOf(path: string): string[] | undefined {
  const parts = path.split('/');
  return parts.some((p) => p === '' || p === '.' || p === '..') ? undefined : parts;
}

/** Reads the item stream once and builds the folder index. */
async function buildIndex(ctx: ArchiveContext, record: ArchiveRecord): Promise<Index> {
  const root = folder('', '', record.start);
  let skipped = 0;
  const links = new Map<string, Node[]>();
  for await (const item of readItems(ctx, record.items)) {
    const path = pathText(item.path);
    const parts = partsOf(path);
    if (!parts) { skipped += 1; continue; }
    let parent: Node | undefined = root;
    for (let i = 0; i < parts.length - 1 && parent; i++) {
      let next: Node | undefined = parent.kids!.get(parts[i]);
      if (!next) parent.kids!.set(parts[i], next = folder(parts[i], parts.slice(0, i + 1).join('/'), record.start));
      parent = next.kids ? next : undefined;
    }
    if (!parent) { skipped += 1; continue; }
    const name = parts[parts.length - 1];
    const entry = entryOf(item, name, path);
    const old = parent.kids!.get(name);
    // A folder seen before its own item (its children came first) keeps its children.
    const node: Node = { entry, kids: entry.type === 'dir' ? old?.kids ?? new Map() : undefined };
    if (entry.type === 'file') {
      node.chunks = item.chunks ?? [];
      if (item.hlid) {
        const key = Buffer.from(item.hlid).toString('hex');
        const group = links.get(key);
        if (group) group.push(node); else links.set(key, [node]);
      }
    }
    parent.kids!.set(name, node);
  }
  // Hard links: every link carries the chunk list, but a link without one takes its group's.
  for (const group of links.values()) {
    const full = group.find((n) => n.chunks!.length > 0);
    for (const n of group) {
      if (n.chunks!.length === 0 && full) n.chunks = full.chunks;
      n.entry.nlink = group.length;
    }
  }
  sizeTree(root);
  return { root, skipped };
}

/** File sizes from the chunk lists (what a read returns), folder totals and child counts, depth first. */
function sizeTree(node: Node): number {
  if (node.chunks) {
    const starts = new Float64Array(node.chunks.length + 1);
    for (let i = 0; i < node.chunks.length; i++) starts[i + 1] = starts[i] + node.chunks[i].size;
    node.starts = starts;
    node.entry.size = starts[node.chunks.length];
    return node.entry.size;
  }
  if (!node.kids) return 0;
  let total = 0;
  for (const kid of node.kids.values()) total += sizeTree(kid);
  node.entry.total = total;
  node.entry.children = node.kids.size;
  return total;
}

/** The index of the chunk holding byte `offset` of a file (binary search over `starts`). */
function chunkAt(starts: Float64Array, offset: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/**
 * Opens the tree of archive `archive` (its record is read now: `ArchiveNotFoundError` when there is none). The item
 * stream is read on the first `stat`, `list` or `read`, once.
 */
export async function openArchiveTree(ctx: ArchiveContext, archive: string, options: ArchiveTreeOptions = {}): Promise<ArchiveTree> {
  const record = await readRecord(ctx, archive);
  const keep = Math.max(0, options.cachedChunks ?? 4);
  let building: Promise<Index> | undefined;
  const index = (): Promise<Index> => {
    building ??= buildIndex(ctx, record).catch((error: unknown) => { building = undefined; throw error; });
    return building;
  };
  const find = async (path: string): Promise<Node | undefined> => {
    const p = clean(path);
    let node: Node | undefined = (await index()).root;
    if (p === '') return node;
    for (const part of p.split('/')) {
      node = node?.kids?.get(part);
      if (!node) return undefined;
    }
    return node;
  };
  const need = async (path: string): Promise<Node> => {
    const node = await find(path);
    if (!node) throw new PathNotFoundError(archive, [clean(path)]);
    return node;
  };
  // The last chunks read, by id (hex), most recent last; a chunk being fetched is shared by concurrent reads.
  const recent = new Map<string, Promise<Uint8Array>>();
  const remember = (key: string, data: Promise<Uint8Array>): void => {
    recent.delete(key);
    recent.set(key, data);
    data.catch(() => recent.delete(key));
    while (recent.size > keep) recent.delete(recent.keys().next().value!);
  };

  /** The chunk range [first, last] of `node` covering [offset, end) (end > offset, both within the file). */
  const span = (node: Node, offset: number, end: number): [number, number] => [chunkAt(node.starts!, offset), chunkAt(node.starts!, end - 1)];

  return {
    archive,
    record,
    async stat(path) {
      return (await find(path))?.entry;
    },
    async list(path) {
      const node = await need(path);
      if (!node.kids) return [];
      node.sorted ??= [...node.kids.values()].map((n) => n.entry).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return node.sorted;
    },
    async read(path, offset, length) {
      const node = await need(path);
      const size = node.entry.size;
      if (!node.chunks || length <= 0 || offset >= size || offset < 0) return new Uint8Array(0);
      const end = Math.min(size, offset + length);
      const [first, last] = span(node, offset, end);
      const hex = (c: ChunkRef): string => Buffer.from(c.id).toString('hex');
      // This read's chunks: those kept from earlier reads, and one fetch for the others (neighbours of a segment
      // come in one request).
      const mine = new Map<string, Promise<Uint8Array>>();
      const missing: ChunkRef[] = [];
      for (let i = first; i <= last; i++) {
        const key = hex(node.chunks[i]);
        const kept = recent.get(key);
        if (kept) mine.set(key, kept);
        else if (!mine.has(key)) { mine.set(key, Promise.resolve(new Uint8Array(0))); missing.push(node.chunks[i]); }
      }
      if (missing.length > 0) {
        const pending = new Map<string, { resolve(d: Uint8Array): void; reject(e: unknown): void }>();
        for (const c of missing) {
          const promise = new Promise<Uint8Array>((resolve, reject) => pending.set(hex(c), { resolve, reject }));
          promise.catch(() => undefined);
          mine.set(hex(c), promise);
        }
        void (async () => {
          try {
            for await (const r of fetchChunks(ctx, missing)) {
              const p = pending.get(hex(r.ref));
              if (r.data) p?.resolve(r.data); else p?.reject(r.error);
            }
          } catch (error) {
            for (const p of pending.values()) p.reject(error);
          }
        })();
      }
      const out = new Uint8Array(end - offset);
      for (let i = first; i <= last; i++) {
        const key = hex(node.chunks[i]);
        const data = mine.get(key)!;
        const bytes = await data;
        remember(key, data);
        const from = Math.max(offset, node.starts![i]);
        const to = Math.min(end, node.starts![i + 1]);
        out.set(bytes.subarray(from - node.starts![i], to - node.starts![i]), from - offset);
      }
      return out;
    },
    async *stream(path, offset = 0, length) {
      const node = await need(path);
      const size = node.entry.size;
      const end = Math.min(size, length === undefined ? size : offset + length);
      if (!node.chunks || offset < 0 || offset >= end) return;
      const [first, last] = span(node, offset, end);
      let i = first;
      for await (const r of fetchChunks(ctx, node.chunks.slice(first, last + 1), { budget: 32 * 1024 * 1024 })) {
        if (r.data === undefined) throw r.error;
        const from = Math.max(offset, node.starts![i]);
        const to = Math.min(end, node.starts![i + 1]);
        yield r.data.subarray(from - node.starts![i], to - node.starts![i]);
        i += 1;
      }
    },
    async skipped() {
      return (await index()).skipped;
    },
  };
}
