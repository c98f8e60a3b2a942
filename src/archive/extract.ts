/**
 * `extract`: restore an archive (or the items matching patterns) below a target folder. Chunks
 * are fetched ahead of the writer, many at once, and each is authenticated by the codec before a
 * byte of it is written. Writing, and the safety of every path written, is restore-item.ts's.
 */
import { readRecord } from './archive-record.js';
import { ArchiveCorruptError } from './errors.js';
import { pathText, type ChunkRef, type Item } from './item.js';
import { readItems } from './item-stream.js';
import { loadOwners } from './owners.js';
import { compilePatterns } from './patterns.js';
import { batchOpener, batchReader, type BatchOpener, type BatchReader } from './chunk-batch.js';
import type { ArchiveContext } from './ports.js';
import { safeParts } from './restore-fs.js';
import { ItemRestorer } from './restore-item.js';
import type { Warning } from './walk.js';
import { createXattrAccess } from './xattrs.js';

export interface ExtractOptions {
  /** Folder to restore into (created if missing). Nothing is ever written outside it. */
  target: string;
  /** Restore only items matching one of these (Borg-style patterns, see patterns.ts). */
  patterns?: readonly string[];
  /** Skip items matching one of these. */
  exclude?: readonly string[];
  /** Remove this many leading path parts; items with no part left are skipped. */
  stripComponents?: number;
  /** Read and verify everything, write nothing. */
  dryRun?: boolean;
  /** Restore owners by number even when the names exist on this system. */
  numericIds?: boolean;
  /** Restore extended attributes (default true); refusals are warnings (see xattrs.ts). */
  xattrs?: boolean;
  /** Chunks fetched ahead of the writer (default 32). */
  concurrency?: number;
  /** Called for each item as it is taken up (before it is written). */
  onItem?(item: Item): void;
  /** Called as bytes are written (or, with `dryRun`, read and verified); never ahead of them. */
  onProgress?(progress: ExtractProgress): void;
  onWarning?(warning: Warning): void;
}

/** What was restored so far: files finished, bytes written (of unfinished files too), the item. */
export interface ExtractProgress {
  files: number;
  bytes: number;
  path: Uint8Array;
}

export interface ExtractResult {
  items: number;
  files: number;
  bytes: number;
  warnings: Warning[];
}

interface Planned {
  item: Item;
  parts: Buffer[];
  data: Promise<Uint8Array>[];
}

/** Chunks read with one `getMany` at most. */
const BATCH = 16;
/** A batch starts early when no more than this many earlier fetches are still unconsumed. */
const LOW_WATER = 4;

/** A counting semaphore bounding chunks in flight. */
class Slots {
  #free: number;
  #open = true;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) { this.#free = n; this.#size = n; }
  /** Resolves when a slot is free; false once `close` was called (the run is failing). */
  readonly #size: number;
  /** True when `take` would resolve at once. */
  get ready(): boolean { return !this.#open || this.#free > 0; }
  /** Slots taken and not given back. */
  get inUse(): number { return this.#size - this.#free; }
  get closed(): boolean { return !this.#open; }
  async take(): Promise<boolean> {
    if (!this.#open) return false;
    if (this.#free > 0) { this.#free -= 1; return true; }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.#open;
  }
  close(): void {
    this.#open = false;
    for (const wake of this.#waiting.splice(0)) wake();
  }
  give(): void {
    const next = this.#waiting.shift();
    if (next) next(); else this.#free += 1;
  }
}

async function fetchVerified(ctx: ArchiveContext, ref: ChunkRef, stored?: Uint8Array): Promise<Uint8Array> {
  const plain = await ctx.codec.open(ref.id, stored ?? await ctx.repository.get(ref.id));
  if (plain.length !== ref.size) throw new ArchiveCorruptError(`chunk ${Buffer.from(ref.id).toString('hex')} has the wrong size`);
  return plain;
}


interface Settle { resolve(v: Uint8Array): void; reject(e: unknown): void }

/**
 * Collects chunk fetches and starts them as one `getMany` (adjacent entries of a segment become
 * one read). Each chunk is still opened, authenticated and size-checked on its own.
 */
class FetchBatch {
  readonly #ctx: ArchiveContext;
  readonly #reader: BatchReader | undefined;
  readonly #opener: BatchOpener | undefined;
  #refs: ChunkRef[] = [];
  #settle: Settle[] = [];
  constructor(ctx: ArchiveContext) {
    this.#ctx = ctx;
    this.#reader = batchReader(ctx.repository);
    this.#opener = batchOpener(ctx.codec);
  }
  get size(): number { return this.#refs.length; }
  add(ref: ChunkRef, settle: Settle): void {
    if (!this.#reader) { fetchVerified(this.#ctx, ref).then(settle.resolve, settle.reject); return; }
    this.#refs.push(ref);
    this.#settle.push(settle);
  }
  flush(): void {
    const refs = this.#refs;
    const settle = this.#settle;
    if (refs.length === 0) return;
    this.#refs = [];
    this.#settle = [];
    const ids = refs.map((r) => r.id);
    this.#reader!.getMany(ids).then(
      (stored) => {
        if (!this.#opener) {
          for (let i = 0; i < refs.length; i++) fetchVerified(this.#ctx, refs[i], stored[i]).then(settle[i].resolve, settle[i].reject);
          return;
        }
        this.#opener.openMany(ids, stored).then((plains) => {
          for (let i = 0; i < refs.length; i++) {
            if (plains[i].length === refs[i].size) settle[i].resolve(plains[i]);
            else settle[i].reject(new ArchiveCorruptError(`chunk ${Buffer.from(refs[i].id).toString('hex')} has the wrong size`));
          }
        }, () => { for (let i = 0; i < refs.length; i++) fetchVerified(this.#ctx, refs[i], stored[i]).then(settle[i].resolve, settle[i].reject); });
      },
      // One damaged chunk fails the whole read: read each alone, so only the damaged one fails.
      () => { for (let i = 0; i < refs.length; i++) fetchVerified(this.#ctx, refs[i]).then(settle[i].resolve, settle[i].reject); },
    );
  }
  /** Rejects what was collected and not started. */
  drop(error: Error): void {
    for (const s of this.#settle.splice(0)) s.reject(error);
    this.#refs = [];
  }
}

/**
 * Restores an archive; see `ExtractOptions` and ADR 0043. An absolute or `..` item path throws
 * `UnsafePathError`. An item that cannot take its place without replacing a folder or passing
 * through a non-folder is a warning (`ECONFLICT`, `EUNSAFE_PATH`) and is skipped. A file with a
 * damaged or missing chunk is a warning and is not written; once the rest is restored, the first
 * such error is thrown.
 */
export async function extractArchive(ctx: ArchiveContext, name: string, options: ExtractOptions): Promise<ExtractResult> {
  const record = await readRecord(ctx, name);
  const include = options.patterns?.length ? compilePatterns(options.patterns) : undefined;
  const exclude = options.exclude?.length ? compilePatterns(options.exclude) : undefined;
  const strip = options.stripComponents ?? 0;
  const owners = loadOwners();
  const result: ExtractResult = { items: 0, files: 0, bytes: 0, warnings: [] };
  const warn = (w: Warning): void => { result.warnings.push(w); options.onWarning?.(w); };
  const xattrs = options.xattrs === false || options.dryRun ? undefined : createXattrAccess({ onWarning: warn });
  const slots = new Slots(Math.max(1, options.concurrency ?? 32));
  const planned: Planned[] = [];
  // Items without chunks (folders, links) take no chunk slot: this bounds how far the planner runs ahead.
  const itemSlots = new Slots(1024);
  let planning = true;
  let wake: (() => void) | undefined;
  const notify = (): void => { wake?.(); wake = undefined; };

  // Stage 1: decide which items to restore and start fetching their chunks, bounded by `slots`.
  const batch = new FetchBatch(ctx);
  const planner = (async () => {
    try {
      for await (const item of readItems(ctx, record.items)) {
        const parts = safeParts(item.path);
        const shown = pathText(item.path);
        if (include && !include(shown)) continue;
        if (exclude?.(shown)) continue;
        if (parts.length <= strip) continue;
        // The writer may start on an item before all its fetches started: big files need more
        // chunks than there are slots, and the writer frees slots as it consumes chunks.
        const refs = item.chunks ?? [];
        const settle: Settle[] = [];
        const data = refs.map(() => {
          const p = new Promise<Uint8Array>((resolve, reject) => settle.push({ resolve, reject }));
          p.catch(() => undefined);
          return p;
        });
        // Whatever was collected starts before the planner waits: the writer may be waiting for it.
        if (!itemSlots.ready) batch.flush();
        if (!await itemSlots.take()) return;
        planned.push({ item, parts: parts.slice(strip), data });
        notify();
        for (let i = 0; i < refs.length; i++) {
          // Start the batch when it is big enough, or when few fetches started earlier remain for the
          // writer to consume: a chunk it waits for must never sit in an unstarted batch.
          if (batch.size >= BATCH || slots.inUse - batch.size <= LOW_WATER) batch.flush();
          if (!await slots.take()) {
            for (const s of settle.slice(i)) s.reject(new Error('extraction stopped'));
            return;
          }
          batch.add(refs[i], settle[i]);
        }
      }
    } finally {
      if (slots.closed) batch.drop(new Error('extraction stopped'));
      else batch.flush();
      planning = false;
      notify();
    }
  })();
  planner.catch(() => undefined);

  let restorer: ItemRestorer | undefined;
  try {
    const progress = (item: Item): void => options.onProgress?.({ files: restorer!.files, bytes: restorer!.written, path: item.path });
    if (!options.dryRun) restorer = await ItemRestorer.open(options.target, { owners, numericIds: options.numericIds, xattrs }, { warn, consumed: () => slots.give(), progress });
    for (;;) {
      if (planned.length === 0) {
        if (!planning) break;
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      const { item, parts, data } = planned.shift()!;
      itemSlots.give();
      result.items += 1;
      options.onItem?.(item);
      if (!restorer) {
        for (const p of data) { result.bytes += (await p).length; slots.give(); }
        if (item.chunks) result.files += 1;
        options.onProgress?.({ files: result.files, bytes: result.bytes, path: item.path });
        continue;
      }
      await restorer.restore(item, parts, data);
    }
    await planner;
    if (restorer) {
      await restorer.finish();
      result.files = restorer.files;
      result.bytes = restorer.bytes;
    }
  } catch (error) {
    // Stop fetching first: files being written then fail at once and remove their temporary files.
    slots.close();
    itemSlots.close();
    await restorer?.abort();
    await planner.catch(() => undefined);
    throw error;
  }
  return result;
}
