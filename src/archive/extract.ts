/**
 * `extract`: restore an archive (or the items matching patterns) below a target folder. Chunks
 * are fetched ahead of the writer, many at once, and each is authenticated by the codec before a
 * byte of it is written. Writing, and the safety of every path written, is restore-item.ts's.
 */
import { readRecord } from './archive-record.js';
import { pathText, type Item } from './item.js';
import { readItems } from './item-stream.js';
import { loadOwners } from './owners.js';
import { itemFilter } from './item-filter.js';
import { compilePatterns } from './patterns.js';
import { ChunkFetcher } from './chunk-fetch.js';
import type { ArchiveContext } from './ports.js';
import { safeParts } from './restore-fs.js';
import { ItemRestorer } from './restore-item.js';
import { DAMAGED_FILE } from './salvage.js';
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
  /** Batches of chunks read at once (default 8; the store's download connections still cap the requests). */
  concurrency?: number;
  /** Plaintext bytes fetched ahead of the writer (default 64 MiB). */
  fetchBudget?: number;
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

/** A counting semaphore: items planned ahead of the writer. */
class Slots {
  #free: number;
  #open = true;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) { this.#free = n; }
  /** Resolves when a slot is free; false once `close` was called (the run is failing). */
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
    if (next) { next(); return; }
    this.#free += 1;
  }
}

interface Settle { resolve(v: Uint8Array): void; reject(e: unknown): void }

/**
 * Restores an archive; see `ExtractOptions` and ADR 0043. An absolute or `..` item path throws
 * `UnsafePathError`. An item that cannot take its place without replacing a folder or passing
 * through a non-folder is a warning (`ECONFLICT`, `EUNSAFE_PATH`) and is skipped. A file with a
 * damaged or missing chunk is a warning and is not written; once the rest is restored, the first
 * such error is thrown. A file `check --repair` salvaged (marked damaged) is restored, zeros where its data
 * was lost, with an `EDAMAGED_FILE` warning.
 */
export async function extractArchive(ctx: ArchiveContext, name: string, options: ExtractOptions): Promise<ExtractResult> {
  const record = await readRecord(ctx, name);
  const select = itemFilter({
    include: options.patterns?.length ? compilePatterns(options.patterns) : undefined, exclude: options.exclude, stripComponents: options.stripComponents,
  });
  const owners = loadOwners();
  const result: ExtractResult = { items: 0, files: 0, bytes: 0, warnings: [] };
  const warn = (w: Warning): void => { result.warnings.push(w); options.onWarning?.(w); };
  const xattrs = options.xattrs === false || options.dryRun ? undefined : createXattrAccess({ onWarning: warn });
  const fetcher = new ChunkFetcher(ctx, { requests: options.concurrency, budget: options.fetchBudget, offload: true });
  // The budget a chunk holds, given back when the writer has consumed it.
  const sizes = new WeakMap<Promise<Uint8Array>, number>();
  const consumed = (chunk: Promise<Uint8Array>): void => fetcher.release(sizes.get(chunk) ?? 0);
  const planned: Planned[] = [];
  // Items without chunks (folders, links) hold no budget: this bounds how far the planner runs ahead.
  const itemSlots = new Slots(1024);
  let planning = true;
  let wake: (() => void) | undefined;
  const notify = (): void => { wake?.(); wake = undefined; };
  const stopped = new Error('extraction stopped');

  // Stage 1: decide which items to restore and start fetching their chunks, bounded by the budget.
  const planner = (async () => {
    try {
      for await (const item of readItems(ctx, record.items)) {
        const kept = select(pathText(item.path), safeParts(item.path));
        if (!kept) continue;
        if (item.healthy) {
          warn({ path: pathText(item.path), code: 'EDAMAGED_FILE', message: DAMAGED_FILE });
        }
        // The writer may start on an item before all its fetches started: a big file needs more
        // chunks than the budget holds, and the writer frees budget as it consumes chunks.
        const refs = item.chunks ?? [];
        const settle: Settle[] = [];
        const data = refs.map((ref) => {
          const p = new Promise<Uint8Array>((resolve, reject) => settle.push({ resolve, reject }));
          p.catch(() => undefined);
          sizes.set(p, ref.size);
          return p;
        });
        // The fetcher decides when a batch starts (chunk-fetch.ts): a planner resuming at every
        // freed slot still sends whole batches.
        if (!await itemSlots.take()) return;
        planned.push({ item, parts: kept, data });
        notify();
        for (let i = 0; i < refs.length; i++) {
          if (!await fetcher.room(refs[i].size)) {
            for (const s of settle.slice(i)) s.reject(stopped);
            return;
          }
          fetcher.add(refs[i]).then(settle[i].resolve, settle[i].reject);
        }
      }
    } finally {
      fetcher.flush();
      planning = false;
      notify();
    }
  })();
  planner.catch(() => undefined);

  let restorer: ItemRestorer | undefined;
  try {
    const progress = (item: Item): void => options.onProgress?.({ files: restorer!.files, bytes: restorer!.written, path: item.path });
    if (!options.dryRun) restorer = await ItemRestorer.open(options.target, { owners, numericIds: options.numericIds, xattrs }, { warn, consumed, progress });
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
        for (const p of data) { result.bytes += (await p).length; consumed(p); }
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
    fetcher.close(stopped);
    itemSlots.close();
    await restorer?.abort();
    await planner.catch(() => undefined);
    throw error;
  }
  return result;
}
