/**
 * Loading the index at open: the newest full index, then every delta it does not cover, in
 * (time, key) order, folded into one `ChunkIndex`. Segments are referred to by small numbers
 * through a `SegmentTable` shared by the whole open repository.
 */
import type { Backend } from '../store/backend.js';
import { NotFoundError } from '../store/errors.js';
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

/** What open knows about the index objects in the store. */
export interface LoadedIndex {
  index: ChunkIndex;
  segments: SegmentTable;
  /** Committed transactions known to the index. */
  txns: Txn[];
  /** Delta keys applied (not covered by the full index). */
  deltaKeys: string[];
  /** Full index key and generation in use (generation 0 when there is none). */
  fullKey: string | undefined;
  generation: number;
  /** Index keys left over from an interrupted compaction (covered or older full), safe to delete. */
  obsoleteKeys: string[];
}

/** Reads every index object; a damaged one throws `IntegrityError`. */
export async function loadIndex(backend: Backend, concurrency = 16): Promise<LoadedIndex> {
  const deltas: string[] = [];
  const fulls: { key: string; generation: number }[] = [];
  for await (const { key } of backend.list(INDEX_PREFIX)) {
    const parsed = parseIndexKey(key);
    if (parsed?.kind === 'delta') deltas.push(key);
    else if (parsed?.kind === 'full') fulls.push({ key, generation: parsed.generation });
  }
  fulls.sort((a, b) => b.generation - a.generation);
  const segments = new SegmentTable();
  const builder = new IndexBuilder();
  const txns: Txn[] = [];
  const obsoleteKeys = fulls.slice(1).map((f) => f.key);
  const full = fulls[0];
  let covered = new Set<string>();
  if (full) {
    const obj = decodeIndex(await backend.get(full.key), full.key);
    apply(obj, segments, builder, txns);
    covered = new Set(obj.header.covers ?? []);
  }
  const wanted = deltas.filter((k) => !covered.has(k));
  obsoleteKeys.push(...deltas.filter((k) => covered.has(k)));
  const objects = await mapLimit(wanted, concurrency, async (key) => {
    try {
      return { key, obj: decodeIndex(await backend.get(key), key) };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined; // deleted by a compaction since the listing
      throw err;
    }
  });
  const present = objects.filter((o): o is { key: string; obj: IndexObject } => o !== undefined);
  present.sort((a, b) => a.obj.header.time - b.obj.header.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { obj } of present) apply(obj, segments, builder, txns);
  return {
    index: ChunkIndex.from(builder), segments, txns, deltaKeys: present.map((o) => o.key),
    fullKey: full?.key, generation: full?.generation ?? 0, obsoleteKeys,
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
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
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
