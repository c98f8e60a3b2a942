/**
 * INTERIM (deleted after merging t4-serve): the `ArchiveTree` interface of src/archive/browse.ts, with a minimal
 * implementation (no chunk cache) so that mount can be built and tested before that file lands.
 */
import { readRecord } from '../archive/archive-record.js';
import { fetchChunks } from '../archive/chunk-fetch.js';
import { PathNotFoundError } from '../archive/errors.js';
import { itemKind, pathText, S_IFDIR, type ChunkRef } from '../archive/item.js';
import { readItems } from '../archive/item-stream.js';
import type { ArchiveContext } from '../archive/ports.js';

export interface TreeEntry { name: string; path: string; type: 'file' | 'dir' | 'symlink' | 'other'; size: number; mode: number; uid: number; gid: number; user?: string; group?: string; mtimeNs: bigint; linkTarget?: string; nlink?: number }
export interface ArchiveTree {
  readonly archive: string;
  stat(path: string): Promise<TreeEntry | undefined>;
  list(path: string): Promise<TreeEntry[]>;
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
}

interface Node { entry: TreeEntry; kids?: Map<string, Node>; chunks?: ChunkRef[] }

export async function openArchiveTree(ctx: ArchiveContext, archive: string): Promise<ArchiveTree> {
  const record = await readRecord(ctx, archive);
  const dir = (name: string, path: string): Node => ({ entry: { name, path, type: 'dir', size: 0, mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtimeNs: record.start }, kids: new Map() });
  const root = dir('', '');
  const links = new Map<string, Node[]>();
  for await (const item of readItems(ctx, record.items)) {
    const path = pathText(item.path);
    const parts = path.split('/');
    let parent = root;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = parent.kids!.get(parts[i]);
      if (!next) parent.kids!.set(parts[i], next = dir(parts[i], parts.slice(0, i + 1).join('/')));
      parent = next;
    }
    const kind = itemKind(item.mode);
    const type = kind === 'file' || kind === 'dir' || kind === 'symlink' ? kind : 'other';
    const size = (item.chunks ?? []).reduce((s, c) => s + c.size, 0);
    const entry: TreeEntry = { name: parts[parts.length - 1], path, type, size: type === 'file' ? size : 0, mode: item.mode, uid: item.uid, gid: item.gid, mtimeNs: item.mtime, nlink: 1 };
    if (item.target) entry.linkTarget = pathText(item.target);
    const node: Node = { entry, kids: type === 'dir' ? parent.kids!.get(entry.name)?.kids ?? new Map() : undefined, chunks: item.chunks };
    if (item.hlid) {
      const key = Buffer.from(item.hlid).toString('hex');
      links.set(key, [...links.get(key) ?? [], node]);
    }
    parent.kids!.set(entry.name, node);
  }
  for (const group of links.values()) for (const n of group) n.entry.nlink = group.length;
  const find = (path: string): Node | undefined => {
    let node: Node | undefined = root;
    for (const part of path.split('/').filter(Boolean)) node = node?.kids?.get(part);
    return node;
  };
  return {
    archive,
    stat: async (path) => find(path)?.entry,
    async list(path) {
      const node = find(path);
      if (!node) throw new PathNotFoundError(archive, [path]);
      return [...node.kids?.values() ?? []].map((n) => n.entry);
    },
    async read(path, offset, length) {
      const node = find(path);
      if (!node) throw new PathNotFoundError(archive, [path]);
      const end = Math.min(node.entry.size, offset + length);
      if (!node.chunks || offset >= end) return new Uint8Array(0);
      const out = new Uint8Array(end - offset);
      let start = 0;
      const wanted: { ref: ChunkRef; start: number }[] = [];
      for (const ref of node.chunks) {
        if (start + ref.size > offset && start < end) wanted.push({ ref, start });
        start += ref.size;
      }
      let i = 0;
      for await (const r of fetchChunks(ctx, wanted.map((w) => w.ref))) {
        if (!r.data) throw r.error;
        const s = wanted[i++].start;
        const from = Math.max(offset, s);
        const to = Math.min(end, s + r.data.length);
        out.set(r.data.subarray(from - s, to - s), from - offset);
      }
      return out;
    },
  };
}
