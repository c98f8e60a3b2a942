/**
 * `create`: walk the sources, store what the repository lacks, write the item stream and the
 * archive record. Several files are read at once; items still enter the stream in walk order.
 * Checkpoints (commit + a `<name>.checkpoint` record) bound the work an interruption can lose.
 */
import pLimit from 'p-limit';
import { availableParallelism, hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { recordExists, recordName, writeRecord, type ArchiveRecord } from './archive-record.js';
import { ChunkWriter } from './chunk-writer.js';
import { ArchiveError, ArchiveExistsError, InterruptedError } from './errors.js';
import { Fifo } from './fifo.js';
import { FilesCache, repositoryCacheDir } from './files-cache.js';
import { itemKind, pathText, type ChunkRef, type Item } from './item.js';
import { ItemStreamWriter } from './item-stream.js';
import { loadOwners } from './owners.js';
import { compilePatterns, type PathMatcher } from './patterns.js';
import type { ArchiveContext } from './ports.js';
import { counted, itemFromStat, readLinkTarget, storeFile, storeStream } from './read-item.js';
import { archiveRootPath, walk, type WalkEntry, type Warning } from './walk.js';
import { countSources, type SourceTotals } from './source-count.js';
import type { CreateOptions, CreateResult, CreateStats, ItemStatus } from './create-types.js';
import { isSmallFile, storeSmallFile } from './small-file.js';
import { createXattrAccess } from './xattrs.js';

export type { Warning } from './walk.js';

export type { CreateOptions, CreateProgress, CreateResult, CreateStats, ItemStatus, StreamSource } from './create-types.js';

interface Built {
  item?: Item;
  status: ItemStatus;
  path: Uint8Array;
}

const KIND_STATUS: Partial<Record<ReturnType<typeof itemKind>, ItemStatus>> = { dir: 'd', symlink: 's', fifo: 'f', chardev: 'c', blockdev: 'b', file: 'A' };
const NS_PER_MS = 1_000_000n;
/** Entries (mostly small files) being read at once; each holds at most SMALL_FILE bytes plus its sealed copy. */
const SMALL_FILES_IN_FLIGHT = 64;
/**
 * Entries waiting in walk order in all: those that read nothing (folders, links, files the files
 * cache knows) hold only their item, so the walk goes on past a large file being read (a day-2
 * backup walks its unchanged files while the workers chunk the changed ones).
 */
const ENTRIES_IN_FLIGHT = 32768;
/** Walk entries between two turns of the event loop. */
const YIELD_EVERY = 64;

/**
 * Large files read at once: `concurrency` when given, else one per core up to 4. Large files share
 * the pipeline's workers (one per core by default): more of them in flight than workers adds
 * memory (each holds a window of big chunks), not speed (docs/performance.md).
 */
export function largeFileLimit(concurrency: number | undefined, cores = availableParallelism()): number {
  return Math.max(1, concurrency ?? Math.min(4, cores));
}
const nowNs = (): bigint => BigInt(Date.now()) * NS_PER_MS;

/** Creates an archive; see `CreateOptions`. The repository is committed when this resolves. */
export async function createArchive(ctx: ArchiveContext, options: CreateOptions): Promise<CreateResult> {
  const started = performance.now();
  const start = nowNs();
  const stdinPath = options.stdin && streamPath(options.stdin.name);
  if (await recordExists(ctx, options.name)) throw new ArchiveExistsError(options.name);
  const exclude = excludeMatcher(options);
  const sources = sourcePaths(options);
  const tags = [...new Set(options.tags ?? [])];
  const stats: CreateStats = { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0, filesRead: 0, filesUnchanged: 0, items: 0, durationMs: 0 };
  const warnings: Warning[] = [];
  const warn = (w: Warning): void => { warnings.push(w); options.onWarning?.(w); };
  const writer = new ChunkWriter(ctx, stats);
  const stream = new ItemStreamWriter(ctx, writer);
  const limit = largeFileLimit(options.concurrency);
  /** Large files read at once; a pLimit queue is first in, first out, so the walk's first waits least. */
  const largeReads = pLimit(limit);
  const owners = loadOwners();
  const cache = await FilesCache.load(options.cacheDir ?? repositoryCacheDir(ctx.repository.config.id));
  const xattrs = options.xattrs === false ? undefined : createXattrAccess({ onWarning: warn });
  const hardLinks = new Map<string, Promise<ChunkRef[] | undefined>>();
  const dryRun = options.dryRun === true;
  let processed = 0;
  let total: SourceTotals | undefined;
  const progress = (path: Uint8Array): void => options.onProgress?.({ files: stats.files, original: stats.original, deduplicated: stats.deduplicated, path, processed, total });
  const record = (checkpoint: boolean, items: Uint8Array[]): ArchiveRecord => ({
    name: checkpoint ? `${options.name}.checkpoint` : options.name, start, end: nowNs(),
    host: options.host ?? hostname(), user: options.user ?? userInfo().username, command: [...(options.command ?? [])],
    comment: options.comment ?? '', checkpoint, items, paths: sources, tags, stats: { files: stats.files, original: stats.original, compressed: stats.compressed, deduplicated: stats.deduplicated, chunks: stats.chunks },
  });

  /** The chunks of a file the files cache knows unchanged and whose chunks are all stored: it is not read. */
  const unchangedChunks = (entry: WalkEntry): ChunkRef[] | undefined => {
    if (!entry.stat.isFile() || options.noFilesCache) return undefined;
    const cached = cache.lookup(entry.archivePath, entry.stat);
    return cached && writer.hasAll(cached) ? cached : undefined;
  };

  const chunksOf = async (entry: WalkEntry, item: Item, slot: Built, unchanged: ChunkRef[] | undefined): Promise<ChunkRef[] | undefined> => {
    if (unchanged) {
      stats.filesUnchanged += 1;
      slot.status = 'U';
      processed += Number(entry.stat.size);
      return unchanged;
    }
    stats.filesRead += 1;
    slot.status = !options.noFilesCache && cache.knows(entry.archivePath) ? 'M' : 'A';
    if (dryRun) {
      processed += Number(entry.stat.size);
      return [];
    }
    const small = isSmallFile(ctx, entry.stat);
    const onRead = (n: number): void => { processed += n; progress(entry.archivePath); };
    const chunks = small ? await storeSmallFile(ctx, writer, entry.fsPath, entry.stat) : await largeReads(() => storeFile(ctx, writer, entry.fsPath, entry.stat, options.signal, onRead));
    if (small) processed += Number(entry.stat.size);
    // A file modified within the last second may change again unnoticed in the same mtime tick.
    if (entry.stat.mtimeNs < start - 1_000_000_000n) cache.remember(entry.archivePath, entry.stat, chunks);
    item.size = chunks.reduce((n, c) => n + c.size, 0);
    return chunks;
  };

  const build = async (entry: WalkEntry, unchanged: ChunkRef[] | undefined): Promise<Built> => {
    const item = itemFromStat(entry.archivePath, entry.stat, owners, { atime: options.atime });
    const slot: Built = { status: KIND_STATUS[itemKind(item.mode)] ?? 'A', path: entry.archivePath };
    try {
      if (entry.stat.isSymbolicLink()) item.target = await readLinkTarget(entry.fsPath);
      const found = await xattrs?.read(entry.fsPath, pathText(entry.archivePath), entry.stat.dev);
      if (found) item.xattrs = found;
      if (!entry.stat.isFile()) return { ...slot, item };
      let chunks: Promise<ChunkRef[] | undefined>;
      const key = item.hlid && Buffer.from(item.hlid).toString('hex');
      const first = key ? hardLinks.get(key) : undefined;
      if (first) {
        chunks = first;
        slot.status = 'h';
      } else {
        chunks = chunksOf(entry, item, slot, unchanged);
        if (key) hardLinks.set(key, chunks.catch(() => undefined));
      }
      const list = await chunks;
      if (!list) return { ...slot, status: 'E' };
      if (first) processed += Number(entry.stat.size);
      item.chunks = list;
      item.size = dryRun ? Number(entry.stat.size) : list.reduce((n, c) => n + c.size, 0);
      return { ...slot, item };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException)?.code;
      if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code) || code.startsWith('EARCHIVE') || error instanceof InterruptedError) throw error;
      const p = Buffer.from(entry.archivePath).toString();
      warn({ path: p, code, message: `cannot read ${p}: ${code}` });
      return { ...slot, status: 'E' };
    }
  };

  // The cache is a hint: one that cannot be saved (a full or read-only cache folder) is a warning, the archive stands.
  let cacheWarned = false;
  const saveCache = async (): Promise<void> => {
    try {
      await cache.save();
    } catch (error) {
      if (cacheWarned) return;
      cacheWarned = true;
      const code = (error as { code?: unknown })?.code;
      const why = typeof code === 'string' ? code : String(error).split('\n')[0];
      warn({ path: cache.file, code: 'ECACHE_UNWRITABLE', message: `the files cache cannot be saved (${why}): the archive is stored, but the next create reads every file again; free space there, or set XDG_CACHE_HOME to another folder` });
    }
  };
  const queue = new Fifo<Promise<Built>>();
  let lastCheckpoint = performance.now();
  let bytesAtCheckpoint = 0;
  const intervalMs = (options.checkpointInterval ?? 1800) * 1000;
  const checkpoint = async (snapshot?: Uint8Array[]): Promise<void> => {
    // No put may run during a commit (the repository's contract): let the files in flight finish first.
    await Promise.allSettled([...queue]);
    const items = snapshot ?? await stream.snapshot();
    if (!snapshot) await ctx.repository.commit();
    // An append-only repository cannot overwrite the checkpoint record: the commit alone then
    // keeps the stored chunks for the next run (which finds them through `has`).
    if (!ctx.repository.config.appendOnly) await writeRecord(ctx, record(true, items), { ifAbsent: false });
    await saveCache();
    lastCheckpoint = performance.now();
    bytesAtCheckpoint = stats.deduplicated;
  };
  const maybeCheckpoint = async (): Promise<void> => {
    const due = !dryRun && ((intervalMs > 0 && performance.now() - lastCheckpoint >= intervalMs)
      || (options.checkpointBytes !== undefined && stats.deduplicated - bytesAtCheckpoint >= options.checkpointBytes));
    if (due) await checkpoint();
  };
  const interrupted = (): boolean => options.signal?.aborted === true;
  /** Keeps what was stored (a checkpoint, when this run stored data) and returns the error to throw. */
  const stop = async (committedItems?: Uint8Array[]): Promise<InterruptedError> => {
    const reason = String(options.signal?.reason);
    if (dryRun || (stats.chunks === 0 && !committedItems)) return new InterruptedError(reason);
    await checkpoint(committedItems);
    return new InterruptedError(reason, `${options.name}.checkpoint`);
  };

  const emit = async ({ item, status, path }: Built): Promise<void> => {
    options.onItemStatus?.(status, pathText(path));
    if (!item) return;
    if (!dryRun) await stream.add(item);
    stats.items += 1;
    if (item.chunks) { stats.files += 1; stats.original += item.size ?? 0; }
    progress(item.path);
    await maybeCheckpoint();
  };
  /** A path that is listed but not stored (excluded, unreadable), in its place in walk order. */
  const listed = (status: ItemStatus, path: string): void => {
    if (!options.onItemStatus) return;
    queue.push(Promise.resolve({ status, path: Buffer.from(path) }));
  };

  // Small files are latency-bound (worker round trips, file system calls), so many are read at once;
  // large files hold pipeline windows of big chunks, so only `limit` of them are (the others wait
  // for a turn holding nothing). The walk goes on while a file is read: entries that read nothing,
  // and reads already done, wait in order behind it (at most ENTRIES_IN_FLIGHT). Items still leave
  // in walk order.
  const entriesLimit = Math.max(limit, SMALL_FILES_IN_FLIGHT);
  /** Entries reading file data now; each counts until its read settles (emitted or not). */
  let reading = 0;
  let readSettled: (() => void) | undefined;
  /** Queued entries whose task has settled: emitted as soon as they reach the head. */
  const settled = new WeakSet<Promise<Built>>();
  const next = async (): Promise<void> => {
    await emit((await queue.shift())!);
  };
  let rootsRead = 0;
  let walked = 0;
  const counting = new AbortController();
  let counter: Promise<void> | undefined;
  try {
    if (options.stdin) {
      const item = streamItem(stdinPath!, options.stdin.mode ?? 0o644, start, owners);
      // A dry run leaves standard input unread: its size cannot be known without reading it.
      const onRead = (n: number): void => { processed += n; progress(item.path); };
      item.chunks = dryRun ? [] : await storeStream(ctx, writer, counted(options.stdin.data, onRead), true, options.signal);
      item.size = item.chunks.reduce((n, c) => n + c.size, 0);
      stats.filesRead += 1;
      // A Ctrl-C also ends the producer (`pg_dump | cairn create db -`): its stream ends early, so it
      // is not kept as a complete file.
      if (interrupted()) throw new InterruptedError(String(options.signal?.reason));
      await emit({ item, status: 'i', path: item.path });
    }
    const walkOptions = {
      exclude, oneFileSystem: options.oneFileSystem, excludeCaches: options.excludeCaches, excludeIfPresent: options.excludeIfPresent,
      excludeLargerThan: options.excludeLargerThan, recursive: options.recursive, onRoot: () => { rootsRead += 1; },
      onWarning: (w: Warning) => { warn(w); listed('E', w.path); },
      onExcluded: (path: string) => listed('x', path),
    };
    if (options.countSources && options.paths.length > 0) {
      counter = countSources(options.paths, walkOptions, counting.signal).then((found) => {
        total = found;
        if (found) progress(new Uint8Array());
      }, () => undefined);
    }
    for await (const entry of walk(options.paths, walkOptions)) {
      if (interrupted()) break;
      // Decided once: whether the file is read, both for build and for the bound on reads below.
      const unchanged = unchangedChunks(entry);
      const task = build(entry, unchanged);
      task.catch(() => undefined);
      queue.push(task);
      const mark = (): void => { settled.add(task); };
      if (entry.stat.isFile() && !unchanged) {
        reading += 1;
        const done = (): void => { reading -= 1; mark(); const wake = readSettled; readSettled = undefined; wake?.(); };
        task.then(done, done);
      } else {
        task.then(mark, mark);
      }
      while (queue.length > 0 && settled.has(queue.peek()!)) await next();
      // The walk's file system calls are mostly synchronous: without a turn of the event loop now
      // and then, the reads of the files in flight (I/O callbacks) would wait for the walk to end.
      if (++walked % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      while (reading >= entriesLimit) await new Promise<void>((resolve) => { readSettled = resolve; });
      while (queue.length >= ENTRIES_IN_FLIGHT) await next();
    }
    while (queue.length > 0 && !interrupted()) await next();
    if (interrupted()) throw new InterruptedError(String(options.signal?.reason));
    // Nothing read at all: an empty archive would pass for a backup (and count towards prune's keep rules).
    if (!options.stdin && rootsRead === 0) throw new NoSourceError(options.paths);
  } catch (error) {
    await Promise.allSettled([...queue]);
    if (interrupted()) throw await stop();
    throw error;
  } finally {
    // Let in-flight work settle so no put races a later commit by the caller.
    await Promise.allSettled([...queue]);
    counting.abort();
    await counter;
  }

  if (dryRun) {
    stats.durationMs = Math.round(performance.now() - started);
    return { archive: record(false, []), stats, warnings };
  }
  const items = await stream.finish();
  await ctx.repository.commit();
  // Interrupted while finishing: the data is committed, but the archive is kept as a checkpoint only.
  if (interrupted()) throw await stop(items);
  const final = record(false, items);
  await publishArchive(ctx, final);
  if (!ctx.repository.config.appendOnly) await ctx.repository.deleteRecord(recordName(`${options.name}.checkpoint`));
  await saveCache();
  stats.durationMs = Math.round(performance.now() - started);
  return { archive: final, stats, warnings };
}

/**
 * Makes a finished archive visible, once its chunks and item stream are committed: writes its record (never over
 * an existing one: `ArchiveExistsError`) and then journals it. `create` and `import-tar` end here.
 */
export async function publishArchive(ctx: ArchiveContext, final: ArchiveRecord): Promise<void> {
  const id = await writeRecord(ctx, final, { ifAbsent: true });
  // Journaled after the record exists: an interruption in between leaves an unjournaled archive, never a false "vanished".
  await ctx.journal?.append({ added: [{ name: final.name, id }] });
}

/** Not one source could be read (all missing or unreadable): no archive is written. */
export class NoSourceError extends ArchiveError {
  constructor(paths: readonly string[]) {
    super('ENO_SOURCE', `nothing to back up: none of ${paths.map((p) => JSON.stringify(p)).join(', ') || 'the sources'} could be read (see the warnings above); no archive was written`);
  }
}

/** One matcher for `exclude` and `excludeCaseInsensitive`, or undefined when there are none. */
function excludeMatcher(options: CreateOptions): PathMatcher | undefined {
  const matchers: PathMatcher[] = [];
  if (options.exclude?.length) matchers.push(compilePatterns(options.exclude));
  if (options.excludeCaseInsensitive?.length) matchers.push(compilePatterns(options.excludeCaseInsensitive, { caseInsensitive: true }));
  return matchers.length === 0 ? undefined : matchers.length === 1 ? matchers[0] : (path) => matchers.some((m) => m(path));
}

/**
 * The record's `paths`: each source as an absolute path (resolved against the current folder,
 * without a trailing "/"), sorted, each once; standard input is `stdin:NAME`. Prune groups by them.
 */
function sourcePaths(options: CreateOptions): string[] {
  const paths = options.paths.map((p) => resolve(p));
  if (options.stdin) paths.push(`stdin:${options.stdin.name}`);
  return [...new Set(paths)].sort();
}

/** The archive path of a stream's name; the name must leave a path once normalized. */
function streamPath(name: string): Uint8Array {
  const path = archiveRootPath(name);
  if (path === '') throw new ArchiveError('EARCHIVE_NAME', `invalid name ${JSON.stringify(name)} for standard input: give a file name, e.g. --stdin-name dump.sql`);
  return Buffer.from(path);
}

/** The item of a stream: a regular file of the current user, modified at `now`. */
function streamItem(path: Uint8Array, mode: number, now: bigint, owners: ReturnType<typeof loadOwners>): Item {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const item: Item = { path, mode: 0o100000 | (mode & 0o7777), uid, gid, mtime: now, ctime: now };
  const user = owners.userName(uid);
  const group = owners.groupName(gid);
  if (user !== undefined) item.user = user;
  if (group !== undefined) item.group = group;
  return item;
}
