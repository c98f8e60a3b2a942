/**
 * `dump`: one file of an archive as its bytes, or a folder (or several paths) as a tar stream (tar-format.ts), written
 * to a sink as it is read. Memory is bounded: a few chunks are fetched ahead of the sink, each authenticated and
 * size-checked before a byte of it is written, and the sink's backpressure stops the fetching.
 */
import { fetchChunks } from './chunk-fetch.js';
import { readRecord } from './archive-record.js';
import { UnsafePathError } from './errors.js';
import { itemKind, pathText, type ChunkRef, type Item } from './item.js';
import { readItems } from './item-stream.js';
import { DAMAGED_FILE } from './salvage.js';
import { itemFilter } from './item-filter.js';
import { compilePatterns } from './patterns.js';
import type { ArchiveContext } from './ports.js';
import { safeParts } from './restore-fs.js';
import { padding, tarEnd, tarHeader, type TarType } from './tar-format.js';
import type { Warning } from './walk.js';

/** Where the bytes go: resolves to false when the reader has gone, and the dump stops. */
export type DumpSink = (bytes: Uint8Array) => Promise<boolean>;

export interface DumpOptions {
  /** Archive paths or patterns (extract's); "/" or "." alone is the whole archive. */
  paths: readonly string[];
  /** A tar stream even when one regular file is named. */
  tar?: boolean;
  /** Leave out paths matching one of these patterns (as extract's `--exclude`). */
  exclude?: readonly string[];
  /** Remove this many leading path parts from every member (as extract's); items with no part left are left out. */
  stripComponents?: number;
  /** Chunks fetched ahead of the sink (default 4: at most 4 × 8 MiB of plaintext in memory). */
  ahead?: number;
  onWarning?(warning: Warning): void;
}

export interface DumpResult {
  /** `file`: the bytes of one file; `tar`: a tar stream. */
  format: 'file' | 'tar';
  /** Members written (1 for a file). */
  items: number;
  /** Bytes of file contents written. */
  bytes: number;
  /** The reader went away before the end (a closed pipe); nothing is wrong with the archive. */
  stopped: boolean;
  /** Patterns that selected nothing. */
  unmatched: string[];
}

/** Batches small writes (headers, small files) into blocks of this size before they reach the sink. */
const FLUSH_AT = 256 * 1024;

/** Archive paths have no leading "/" or "./" and no trailing "/" (as patterns.ts reads them). */
export function normalizeArchivePath(path: string): string {
  return path.replace(/^(?:\/+|\.\/+)+/, '').replace(/\/+$/, '');
}

const WHOLE = new Set(['', '.']);
const SLASH = Buffer.from('/');

/**
 * Writes the selected items to `sink`: when one path is given, names a regular file exactly and neither `tar` nor
 * `stripComponents` is set, that file's bytes; otherwise a tar stream of every item matching a path (and what is
 * below it) and no `exclude` pattern, with extended attributes (SCHILY.xattr), sparse files written dense. Items whose path
 * could escape the folder where the tar is unpacked (absolute, `..`, `.`, empty parts) and sockets are skipped with
 * a warning. A damaged chunk rejects (`ArchiveCorruptError` or the repository's error) after what came before it.
 */
export async function dumpArchive(ctx: ArchiveContext, name: string, sink: DumpSink, options: DumpOptions): Promise<DumpResult> {
  const record = await readRecord(ctx, name);
  const paths = options.paths.map(normalizeArchivePath);
  const everything = paths.length === 0 || paths.some((p) => WHOLE.has(p));
  const named = options.paths.filter((p) => !WHOLE.has(normalizeArchivePath(p)));
  const match = everything ? () => true : compilePatterns(named);
  const singles = named.map((raw) => ({ raw, match: compilePatterns([raw]) }));
  const used = new Set<string>();
  const out = new BufferedSink(sink);
  const result: DumpResult = { format: 'tar', items: 0, bytes: 0, stopped: false, unmatched: [] };
  const warn = (path: string, code: string, message: string): void => options.onWarning?.({ path, code, message });
  const links = new Map<string, Uint8Array>();
  const ahead = Math.max(1, options.ahead ?? 4);
  const single = !options.tar && paths.length === 1 && !everything && options.stripComponents === undefined ? paths[0] : undefined;
  const select = itemFilter({ exclude: options.exclude, stripComponents: options.stripComponents });

  for await (const item of readItems(ctx, record.items)) {
    const shown = pathText(item.path);
    if (!match(shown)) continue;
    for (const s of singles) if (!used.has(s.raw) && s.match(shown)) used.add(s.raw);
    const damaged = (): void => { if (item.healthy) warn(shown, 'EDAMAGED_FILE', DAMAGED_FILE); };
    if (result.items === 0 && single !== undefined && shown === single && item.chunks !== undefined && itemKind(item.mode) === 'file') {
      result.format = 'file';
      result.items = 1;
      damaged();
      for await (const data of fileContents(ctx, item.chunks, ahead)) {
        if (!await out.write(data)) { result.stopped = true; break; }
        result.bytes += data.length;
      }
      if (!result.stopped && !await out.flush()) result.stopped = true;
      return result;
    }
    let parts: Buffer[];
    try {
      parts = safeParts(item.path);
    } catch (error) {
      if (!(error instanceof UnsafePathError)) throw error;
      warn(shown, 'EUNSAFE_PATH', 'skipped: the path is absolute or has "." or ".." parts, so unpacking it could write outside the target folder');
      continue;
    }
    const kept = select(shown, parts);
    if (!kept) continue;
    const path = kept.length === parts.length ? item.path : Buffer.concat(kept.flatMap((part, i) => (i === 0 ? [part] : [SLASH, part])));
    const kind = itemKind(item.mode);
    if (kind === 'socket') { warn(shown, 'ESOCKET', 'skipped: tar has no sockets'); continue; }
    const hlid = item.hlid ? Buffer.from(item.hlid).toString('hex') : undefined;
    const first = hlid !== undefined ? links.get(hlid) : undefined;
    const type: TarType = first ? 'hardlink' : kind;
    const size = type === 'file' ? (item.chunks ?? []).reduce((n, c) => n + c.size, 0) : 0;
    const header = tarHeader({
      path, type, mode: item.mode, uid: item.uid, gid: item.gid, uname: item.user, gname: item.group, size,
      mtime: item.mtime, linkname: first ?? (kind === 'symlink' ? item.target : undefined), xattrs: item.xattrs, ...device(item),
    });
    if (!await out.write(header)) { result.stopped = true; break; }
    result.items += 1;
    if (hlid !== undefined && !first && kind === 'file') links.set(hlid, path);
    if (type !== 'file') continue;
    damaged();
    let stopped = false;
    for await (const data of fileContents(ctx, item.chunks ?? [], ahead)) {
      if (!await out.write(data)) { stopped = true; break; }
      result.bytes += data.length;
    }
    if (stopped || !await out.write(new Uint8Array(padding(size)))) { result.stopped = true; break; }
  }
  // Nothing selected: nothing written, not even the end of an empty tar (the caller reports the unmatched paths).
  if (!result.stopped && result.items > 0 && !(await out.write(tarEnd()) && await out.flush())) result.stopped = true;
  result.unmatched = named.filter((p) => !used.has(p));
  return result;
}

/** Major and minor numbers of a device item (Linux's dev_t encoding). */
function device(item: Item): { devmajor?: number; devminor?: number } {
  if (item.rdev === undefined) return {};
  const rdev = BigInt(item.rdev);
  return { devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)), devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) };
}

/** The largest chunk a file has (the data chunker's limit): `ahead` chunks of it are the fetch budget. */
const MAX_CHUNK = 8 * 1024 * 1024;

/**
 * A file's plaintext, chunk by chunk in order, through the one chunk-fetch path (opened on the
 * codec's workers): at most `ahead` × 8 MiB fetched and not yet consumed. A bad chunk throws.
 */
async function* fileContents(ctx: ArchiveContext, refs: readonly ChunkRef[], ahead: number): AsyncGenerator<Uint8Array> {
  for await (const fetched of fetchChunks(ctx, refs, { budget: ahead * MAX_CHUNK, offload: true })) {
    if (fetched.data === undefined) throw fetched.error;
    yield fetched.data;
  }
}

/** Gathers small pieces into one write; big pieces go through at once (after what was gathered). */
class BufferedSink {
  readonly #sink: DumpSink;
  #parts: Uint8Array[] = [];
  #size = 0;
  constructor(sink: DumpSink) { this.#sink = sink; }
  async write(bytes: Uint8Array): Promise<boolean> {
    if (bytes.length === 0) return true;
    if (bytes.length >= FLUSH_AT) return await this.flush() && this.#sink(bytes);
    this.#parts.push(bytes);
    this.#size += bytes.length;
    return this.#size >= FLUSH_AT ? this.flush() : true;
  }
  async flush(): Promise<boolean> {
    if (this.#size === 0) return true;
    const bytes = Buffer.concat(this.#parts);
    this.#parts = [];
    this.#size = 0;
    return this.#sink(bytes);
  }
}
