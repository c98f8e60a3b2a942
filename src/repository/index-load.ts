/**
 * Loading the index at open: the newest full index, then every delta it does not cover, in
 * (time, key) order, folded into one `ChunkIndex`. Segments are referred to by small numbers
 * through a `SegmentTable` shared by the whole open repository.
 */
import pLimit from 'p-limit';
import type { Backend } from '../store/backend.js';
import { NotFoundError, RetainedObjectError } from '../store/errors.js';
import { ChunkIndex, IndexBuilder } from './index-table.js';
import { decodeIndex, type IndexObject, type Txn } from './index-format.js';
import { INDEX_PREFIX, parseIndexKey } from './layout.js';
import { ID_SIZE } from './segment-format.js';

/** Segment names ↔ the u32 refs the index stores. */
export class SegmentTable {
  readonly names: string[] = [];
  readonly #refs = new Map<string, number>();

  ref(name: string): number {
    let ref = this.#refs.get(name);
    if (ref === undefined) { ref = this.names.length; this.names.push(name); this.#refs.set(name, ref); }
    return ref;
  }

  name(ref: number): string {
    const name = this.names[ref];
    if (name === undefined) throw new RangeError(`no segment ref ${ref}`);
    return name;
  }
}

/** What open knows of an applied index object: its size in the listing, writer's time, number of deletes. */
export interface IndexObjectInfo {
  size: number;
  time: number;
  deletes: number;
}

/** What open knows about the index objects in the store. */
export interface LoadedIndex {
  index: ChunkIndex;
  segments: SegmentTable;
  /** Committed transactions known to the index. */
  txns: Txn[];
  /** Delta keys applied (not covered by the full index), in the order applied. */
  deltaKeys: string[];
  /** Size, time and deletes of each key of `deltaKeys` (what the local index cache records). */
  deltaInfo: Map<string, IndexObjectInfo>;
  /** Full index key and generation in use (generation 0 when there is none), its size and `covers`. */
  fullKey: string | undefined;
  fullSize: number;
  generation: number;
  covers: string[];
  /** Index keys left over from an interrupted compaction (covered or older full), safe to delete. */
  obsoleteKeys: string[];
}

/** The `index/` objects of the store: deltas (key → size) and full indexes, newest generation first. */
export interface IndexListing {
  deltas: Map<string, number>;
  fulls: { key: string; generation: number; size: number }[];
}

/** Lists the index objects (one LIST request, paginated). */
export async function listIndex(backend: Backend): Promise<IndexListing> {
  const deltas = new Map<string, number>();
  const fulls: IndexListing['fulls'] = [];
  for await (const { key, size } of backend.list(INDEX_PREFIX)) {
    const parsed = parseIndexKey(key);
    if (parsed?.kind === 'delta') deltas.set(key, size);
    else if (parsed?.kind === 'full') fulls.push({ key, generation: parsed.generation, size });
  }
  fulls.sort((a, b) => b.generation - a.generation);
  return { deltas, fulls };
}

/**
 * Reads and decodes the deltas `keys`, several at once, sorted in the order they apply: (time,
 * key). A delta missing by now (a compaction since the listing) is left out and named in `missing`.
 */
export async function fetchDeltas(backend: Backend, keys: string[], concurrency = 16): Promise<{ present: { key: string; obj: IndexObject }[]; missing: string[] }> {
  const objects = await mapLimit(keys, concurrency, async (key) => {
    try {
      return { key, obj: decodeIndex(await backend.get(key), key) };
    } catch (err) {
      if (err instanceof NotFoundError) return { key, obj: undefined };
      throw err;
    }
  });
  const present = objects.filter((o): o is { key: string; obj: IndexObject } => o.obj !== undefined);
  present.sort((a, b) => a.obj.header.time - b.obj.header.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { present, missing: objects.filter((o) => o.obj === undefined).map((o) => o.key) };
}

/** Reads every index object (after `listing`, default a fresh one); a damaged one throws `IntegrityError`. */
export async function loadIndex(backend: Backend, concurrency = 16, listing?: IndexListing): Promise<LoadedIndex> {
  const { deltas, fulls } = listing ?? await listIndex(backend);
  const segments = new SegmentTable();
  const builder = new IndexBuilder();
  const txns: Txn[] = [];
  const obsoleteKeys = fulls.slice(1).map((f) => f.key);
  const full = fulls[0];
  let covers: string[] = [];
  if (full) {
    const obj = decodeIndex(await backend.get(full.key), full.key);
    apply(obj, segments, builder, txns);
    covers = obj.header.covers ?? [];
  }
  const covered = new Set(covers);
  const wanted = [...deltas.keys()].filter((k) => !covered.has(k));
  obsoleteKeys.push(...[...deltas.keys()].filter((k) => covered.has(k)));
  // A delta gone since the listing was deleted by a compaction: its entries are in the new full index.
  const { present } = await fetchDeltas(backend, wanted, concurrency);
  for (const { obj } of present) apply(obj, segments, builder, txns);
  const deltaInfo = new Map(present.map(({ key, obj }) => [key, { size: deltas.get(key)!, time: obj.header.time, deletes: obj.header.deletes }]));
  return {
    index: ChunkIndex.from(builder), segments, txns, deltaKeys: present.map((o) => o.key), deltaInfo,
    fullKey: full?.key, fullSize: full?.size ?? 0, generation: full?.generation ?? 0, covers, obsoleteKeys,
  };
}

function apply(obj: IndexObject, segments: SegmentTable, builder: IndexBuilder, txns: Txn[]): void {
  const refs = obj.header.segments.map((name) => segments.ref(name));
  const locs = obj.putLocs;
  for (let i = 0; i < obj.header.puts; i++) locs[i * 3] = refs[locs[i * 3]];
  builder.putMany(obj.putIds, locs, obj.header.puts);
  for (let i = 0; i < obj.header.deletes; i++) builder.delete(obj.deleteIds.subarray(i * ID_SIZE, i * ID_SIZE + ID_SIZE));
  txns.push(...obj.header.txns);
}

/** `fn` over `items` with at most `limit` running at once, results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  return pLimit(limit).map(items, (item) => fn(item));
}

/**
 * Deletes `keys`, a few at once. A `NotFoundError` counts as success: deleting is idempotent by
 * contract, and the fs backend (as of this writing) can report one when concurrent deletes in one
 * folder race on pruning it.
 */
export async function deleteAll(backend: Backend, keys: string[], concurrency = 8): Promise<void> {
  await mapLimit(keys, concurrency, async (key) => {
    try {
      await backend.delete(key);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  });
}

/**
 * What could not be deleted yet because the store keeps it under retention (ERETAINED): how many
 * objects, and the latest end of their retention that the store named (ISO 8601), if any.
 */
export interface Postponed {
  objects: number;
  until?: string;
}

/**
 * `deleteAll`, except that an object still under retention is counted into `postponed` instead of
 * failing the whole run: it stays in the store, garbage that a later run deletes once it may.
 */
export async function deleteOrPostpone(backend: Backend, keys: string[], postponed: Postponed, concurrency = 8): Promise<void> {
  await mapLimit(keys, concurrency, async (key) => {
    try {
      await backend.delete(key);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (!(err instanceof RetainedObjectError)) throw err;
      postponed.objects++;
      const until = err.retainUntil?.toISOString();
      if (until !== undefined && (postponed.until === undefined || until > postponed.until)) postponed.until = until;
    }
  });
}
