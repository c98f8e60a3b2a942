/**
 * `import-tar`: a tar stream (tar-read.ts; gzip or zstd by its magic, tar-filter.ts) stored as a new archive through
 * create's own machinery: contents chunked, deduplicated and stored by `storeStream` and the `ChunkWriter`, items
 * into the `ItemStreamWriter`, then one commit and `publishArchive`. Nothing is committed before the whole tar was
 * read and checked, so a bad tar leaves no archive (its chunks are uncommitted, and `compact` removes them).
 */
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { recordExists, type ArchiveRecord } from './archive-record.js';
import { ChunkWriter } from './chunk-writer.js';
import { publishArchive, type CreateStats } from './create.js';
import { ArchiveExistsError, InterruptedError, TarFormatError } from './errors.js';
import { pathText, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, type Item } from './item.js';
import { ItemStreamWriter } from './item-stream.js';
import type { ArchiveContext } from './ports.js';
import { abortable, storeStream } from './read-item.js';
import { SMALL_FILE } from './small-file.js';
import { decompressed } from './tar-filter.js';
import { readTar, type TarMember } from './tar-read.js';
import type { TarType } from './tar-format.js';

export interface ImportTarOptions {
  /** The new archive's name; an existing name → `ArchiveExistsError` before anything is read. */
  name: string;
  /** The tar bytes (plain, gzip or zstd), fresh buffers. */
  source: AsyncIterable<Uint8Array>;
  /** What the record lists as its source (`paths`), e.g. "tar:/abs/file.tar" or "tar:stdin". */
  label: string;
  tags?: readonly string[];
  comment?: string;
  command?: readonly string[];
  host?: string;
  user?: string;
  /** Stops reading; nothing is committed and `InterruptedError` is thrown. */
  signal?: AbortSignal;
  /** After each member: members and bytes of contents read so far. */
  onProgress?(progress: { items: number; bytes: number; path: Uint8Array }): void;
}

export interface ImportTarResult {
  archive: ArchiveRecord;
  stats: CreateStats;
}

const TYPE_BITS: Record<Exclude<TarType, 'hardlink'>, number> = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK, chardev: S_IFCHR, blockdev: S_IFBLK, fifo: S_IFIFO };
const NS_PER_MS = 1_000_000n;

/**
 * Imports a tar as archive `options.name`. Member names are made relative archive paths: "." and empty parts are
 * dropped ("./a//b" is "a/b", the "./" member itself is left out); an absolute name or one with a ".." part is
 * refused (`TarFormatError`), as is a hard link to anything but an earlier regular file. The items are held in
 * memory until the end (a hard link's first name gets its link id only once a second name is seen): about
 * 200 bytes per member plus 40 per chunk, as `diff` holds an archive.
 */
export async function importTar(ctx: ArchiveContext, options: ImportTarOptions): Promise<ImportTarResult> {
  const started = performance.now();
  const start = BigInt(Date.now()) * NS_PER_MS;
  if (await recordExists(ctx, options.name)) throw new ArchiveExistsError(options.name);
  const stats: CreateStats = { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0, filesRead: 0, filesUnchanged: 0, items: 0, durationMs: 0 };
  const writer = new ChunkWriter(ctx, stats);
  const items: Item[] = [];
  const files = new Map<string, Item>();
  let bytes = 0;
  const interrupted = (): void => {
    if (options.signal?.aborted) throw new InterruptedError(String(options.signal.reason));
  };
  const pending: Promise<unknown>[] = [];
  try {
    // Abortable at the source: a pipe that stays open and idle must not hold up a Ctrl-C.
    const source = options.signal ? abortable(options.source, options.signal) : options.source;
    for await (const { member, data } of readTar(decompressed(source))) {
      interrupted();
      const path = archivePath(member.path, member);
      if (path === undefined) continue;
      const item = baseItem(member, path);
      if (member.type === 'file') {
        const store = storeStream(ctx, writer, data, member.size >= SMALL_FILE, options.signal);
        pending.push(store.catch(() => undefined));
        item.chunks = await store;
        item.size = item.chunks.reduce((n, c) => n + c.size, 0);
        stats.filesRead += 1;
        bytes += item.size;
        files.set(key(path), item);
      } else if (member.type === 'hardlink') {
        const target = archivePath(member.linkname!, member);
        const first = target === undefined ? undefined : files.get(key(target));
        if (!first) throw new TarFormatError(member.offset, `hard link ${show(path)} names ${show(member.linkname!)}, which is not an earlier regular file of the tar`);
        first.hlid ??= createHash('sha256').update('tar:').update(first.path).digest().subarray(0, 16);
        Object.assign(item, { hlid: first.hlid, chunks: first.chunks, size: first.size });
        if (item.xattrs === undefined && first.xattrs) item.xattrs = first.xattrs;
      } else if (member.type === 'symlink') {
        item.target = member.linkname;
      } else if (member.type === 'chardev' || member.type === 'blockdev') {
        item.rdev = makedev(member.devmajor, member.devminor);
      }
      items.push(item);
      stats.items += 1;
      if (item.chunks) { stats.files += 1; stats.original += item.size ?? 0; }
      options.onProgress?.({ items: stats.items, bytes, path });
    }
    interrupted();
  } finally {
    // No put may outlive a failure: the caller closes the repository next.
    await Promise.allSettled(pending);
  }
  const stream = new ItemStreamWriter(ctx, writer);
  for (const item of items) await stream.add(item);
  const ids = await stream.finish();
  interrupted();
  await ctx.repository.commit();
  const archive: ArchiveRecord = {
    name: options.name, start, end: BigInt(Date.now()) * NS_PER_MS, host: options.host ?? hostname(), user: options.user ?? userInfo().username,
    command: [...(options.command ?? [])], comment: options.comment ?? '', checkpoint: false, items: ids, paths: [options.label],
    tags: [...new Set(options.tags ?? [])],
    stats: { files: stats.files, original: stats.original, compressed: stats.compressed, deduplicated: stats.deduplicated, chunks: stats.chunks },
  };
  await publishArchive(ctx, archive);
  stats.durationMs = Math.round(performance.now() - started);
  return { archive, stats };
}

/** The item of a member without its contents: type bits from the tar type, owner names when the tar has them. */
function baseItem(member: TarMember, path: Uint8Array): Item {
  const type = member.type === 'hardlink' ? 'file' : member.type;
  const item: Item = { path, mode: TYPE_BITS[type] | member.mode, uid: member.uid, gid: member.gid, mtime: member.mtime };
  if (member.uname) item.user = member.uname;
  if (member.gname) item.group = member.gname;
  if (member.xattrs.size > 0) item.xattrs = member.xattrs;
  return item;
}

const SLASH = 0x2f;
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/**
 * A member name as an archive path: "." and empty parts dropped; undefined when nothing is left (the "./" folder).
 * Absolute names and ".." parts are refused: stored, they could make a later extract write outside its target.
 */
function archivePath(name: Uint8Array, member: TarMember): Uint8Array | undefined {
  if (name.includes(0)) throw new TarFormatError(member.offset, `member ${show(name)} has a NUL byte in its name`);
  if (name[0] === SLASH) throw new TarFormatError(member.offset, `member ${show(name)} has an absolute name: cairn refuses it (make the tar with relative names, e.g. tar -C / -cf x.tar etc)`);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i < name.length && name[i] !== SLASH) continue;
    const part = Buffer.from(name.subarray(start, i));
    start = i + 1;
    if (part.length === 0 || part.equals(DOT)) continue;
    if (part.equals(DOTDOT)) throw new TarFormatError(member.offset, `member ${show(name)} has a ".." part, which could lead outside the folder it is extracted to: cairn refuses it`);
    parts.push(part);
  }
  if (parts.length === 0) {
    if (member.type === 'dir') return undefined;
    throw new TarFormatError(member.offset, `a member of type ${member.type} has no name`);
  }
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('/'), p])));
}

/** Linux's dev_t from major and minor (glibc's makedev), as items keep `rdev`. */
function makedev(major: number, minor: number): number {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return Number((mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n));
}

function key(path: Uint8Array): string {
  return Buffer.from(path).toString('latin1');
}

function show(name: Uint8Array): string {
  return JSON.stringify(pathText(name));
}
