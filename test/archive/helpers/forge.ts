// Hand-made archives, written with the library as any key holder (or a writer of a "none"
// repository) can: any item sequence, repeated paths and odd orders included. Also a strict
// snapshot of a folder tree, to prove extraction changed nothing outside its target.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { ChunkWriter } from '../../../src/archive/chunk-writer.js';
import { ItemStreamWriter } from '../../../src/archive/item-stream.js';
import { writeRecord } from '../../../src/archive/archive-record.js';
import { S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, type ChunkRef, type Item } from '../../../src/archive/item.js';
import type { ArchiveContext } from '../../../src/archive/ports.js';

/** An item to forge; a file's `data` is stored in chunks of `chunkSize` bytes (default: one chunk). */
export interface Forged extends Omit<Item, 'path'> {
  path: string | Uint8Array;
  data?: Uint8Array;
  chunkSize?: number;
}

/** Writes archive `name` holding exactly `items`, in that order; returns the chunk refs of each file. */
export async function forgeArchive(ctx: ArchiveContext & { repository: { commit(): Promise<void> } }, name: string, items: Forged[]): Promise<ChunkRef[][]> {
  const stats = { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0 };
  const writer = new ChunkWriter(ctx, stats);
  const stream = new ItemStreamWriter(ctx, writer);
  const refs: ChunkRef[][] = [];
  for (const forged of items) {
    const { data, chunkSize, ...rest } = forged;
    const item: Item = { ...rest, path: typeof forged.path === 'string' ? Buffer.from(forged.path) : forged.path };
    if ((item.mode & 0o170000) === S_IFREG && !item.chunks) {
      const bytes = data ?? Buffer.from('owned');
      const step = chunkSize ?? Math.max(1, bytes.length);
      item.chunks = [];
      for (let at = 0; at < bytes.length; at += step) item.chunks.push(await writer.store(bytes.subarray(at, at + step)));
      item.size = bytes.length;
    }
    refs.push(item.chunks ?? []);
    await stream.add(item);
  }
  const ids = await stream.finish();
  await ctx.repository.commit();
  await writeRecord(ctx, { name, start: 0n, end: 0n, host: 'h', user: 'u', command: [], comment: '', checkpoint: false, items: ids, stats }, { ifAbsent: true });
  return refs;
}

const base = { uid: 0, gid: 0, mtime: 1_000_000_000_000_000_000n };
export const dir = (path: string, mode = 0o755): Forged => ({ ...base, path, mode: S_IFDIR | mode });
export const file = (path: string, data?: Uint8Array, mode = 0o644): Forged => ({ ...base, path, mode: S_IFREG | mode, data });
export const symlinkTo = (path: string, target: string): Forged => ({ ...base, path, mode: S_IFLNK | 0o777, target: Buffer.from(target) });
export const fifo = (path: string | Uint8Array, mode = 0o600): Forged => ({ ...base, path, mode: S_IFIFO | mode });

/**
 * Everything about every object below `root`, by relative path: type and mode, owner, size, link
 * count, inode, mtime and ctime in ns (any chmod, chown, utimes, write or link changes the ctime),
 * contents hash, symlink target. Equal snapshots mean nothing there was created, removed or changed.
 */
export async function strictSnapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (path: Buffer, rel: string): Promise<void> => {
    const st = await lstat(path, { bigint: true });
    let extra = '';
    if (st.isFile()) extra = createHash('sha256').update(await readFile(path)).digest('hex');
    if (st.isSymbolicLink()) extra = (await readlink(path, { encoding: 'buffer' })).toString('hex');
    out.set(rel, [st.mode, st.uid, st.gid, st.size, st.nlink, st.ino, st.mtimeNs, st.ctimeNs, extra].join(' '));
    if (st.isDirectory()) {
      for (const name of (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare)) {
        await visit(Buffer.concat([path, Buffer.from('/'), name]), `${rel}/${name.toString('hex')}`);
      }
    }
  };
  await visit(Buffer.from(root), '.');
  return out;
}
