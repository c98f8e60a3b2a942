/**
 * Opening with the local index cache: one LIST of `index/`, then only the index objects the cache
 * has not seen are fetched and applied on top of it. Anything else — another full index (a
 * compaction or repair), a cached object gone or of another size, a cache that fails its HMAC —
 * means a full load from the repository, which then replaces the cache. Where the cache lives and
 * how it is written is the caller's (`IndexCacheStorage`); the format is `index-cache-format.ts`.
 */
import type { Backend } from '../store/backend.js';
import { CacheInvalidError, decodeCache, encodeCache, type CacheContent, type CacheHeader } from './index-cache-format.js';
import type { IndexObject } from './index-format.js';
import { fetchDeltas, listIndex, loadIndex, SegmentTable, type IndexListing, type LoadedIndex } from './index-load.js';
import { ChunkIndex } from './index-table.js';
import { ID_SIZE } from './segment-format.js';

/** Largest cache file read or written (about 24 million chunks); a larger index is not cached. */
export const MAX_CACHE_BYTES = 1024 * 1024 * 1024;

/** Where the cache bytes are kept: one file per repository, replaced atomically. */
export interface IndexCacheStorage {
  /** The stored bytes, undefined when there are none; never more than `maxBytes` (a larger file reads as undefined). */
  read(maxBytes: number): Promise<Uint8Array | undefined>;
  /** Replaces the stored bytes atomically: a reader sees the old bytes or the new, never a mix. */
  write(bytes: Uint8Array): Promise<void>;
}

/** The local index cache of an open: where it is, its key (derived from the repository key), and where warnings go. */
export interface IndexCache {
  storage: IndexCacheStorage;
  /** HMAC key of the cache file; without it nobody can write a cache this machine will use. */
  key: Uint8Array;
  /** Told when a cache was found but not used (tampered, damaged) or could not be written. */
  warn?: (message: string) => void;
}

/** The index of the store, from the cache where it can be; `changed` says the cache should be rewritten. */
export async function loadIndexCached(backend: Backend, cache: IndexCache, repositoryId: string): Promise<{ state: LoadedIndex; changed: boolean }> {
  const listing = await listIndex(backend);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await cache.storage.read(MAX_CACHE_BYTES);
  } catch (err) {
    cache.warn?.(`the local index cache cannot be read (${(err as Error).message}): loading the index from the repository`);
  }
  if (bytes) {
    try {
      const state = await extend(backend, decodeCache(bytes, cache.key, repositoryId), listing);
      if (state) return state;
    } catch (err) {
      if (!(err instanceof CacheInvalidError || err instanceof RangeError)) throw err;
      cache.warn?.(`the local index cache is damaged or was changed outside cairn (${err.message}): it is not used, and is rebuilt from the repository`);
    }
  }
  return { state: await loadIndex(backend, 16, listing), changed: true };
}

/** Writes the cache of `state` (a failure is a warning: the cache only saves time). */
export async function saveIndexCache(cache: IndexCache, repositoryId: string, state: LoadedIndex): Promise<void> {
  const deltas: CacheHeader['deltas'] = [];
  for (const key of state.deltaKeys) {
    const info = state.deltaInfo.get(key);
    if (!info) return;
    deltas.push([key, info.size, info.time, info.deletes]);
  }
  const { ids, locs, count } = state.index.sorted();
  if (count * (ID_SIZE + 12) > MAX_CACHE_BYTES) return;
  const header: CacheHeader = {
    repository: repositoryId, count, full: state.fullKey === undefined ? null : [state.fullKey, state.fullSize],
    generation: state.generation, covers: state.covers, deltas, txns: state.txns, segments: state.segments.names,
  };
  try {
    await cache.storage.write(encodeCache({ header, ids, locs }, cache.key));
  } catch (err) {
    cache.warn?.(`the local index cache cannot be written (${(err as Error).message}): the next open loads the whole index again; free space in the local cache folder, or set XDG_CACHE_HOME to another folder`);
  }
}

/**
 * The cached index brought up to date with `listing`, or undefined when only a full load can say
 * what the index is. The cache holds exactly what a full load of its objects gave; the deltas new
 * since then are applied on top, in (time, key) order. A new delta that a full load would have
 * applied before some cached one gives the same index unless a delete is involved (two puts of an
 * id are two good copies of the same bytes), so that case alone forces a full load.
 */
async function extend(backend: Backend, cached: CacheContent, listing: IndexListing): Promise<{ state: LoadedIndex; changed: boolean } | undefined> {
  const { header } = cached;
  const full = listing.fulls[0];
  if ((full?.key ?? null) !== (header.full?.[0] ?? null) || (full && full.size !== header.full?.[1])) return undefined;
  const covered = new Set(header.covers);
  for (const [k, size] of header.deltas) if (listing.deltas.get(k) !== size) return undefined;
  const known = new Set(header.deltas.map((d) => d[0]));
  const fresh = [...listing.deltas.keys()].filter((k) => !covered.has(k) && !known.has(k));
  const { present, missing } = await fetchDeltas(backend, fresh);
  if (missing.length > 0) return undefined;
  if (present.length > 0) {
    const first = present[0];
    const before = (d: CacheHeader['deltas'][number]) => first.obj.header.time < d[2] || (first.obj.header.time === d[2] && first.key < d[0]);
    const overtaken = header.deltas.filter(before);
    if (overtaken.length > 0 && (overtaken.some((d) => d[3] > 0) || present.some((o) => o.obj.header.deletes > 0))) return undefined;
  }
  const segments = new SegmentTable();
  for (const name of header.segments) segments.ref(name);
  const index = ChunkIndex.fromSorted(cached.ids, cached.locs, header.count);
  const txns = [...header.txns];
  for (const { obj } of present) applyTo(index, obj, segments, txns);
  const deltaInfo = new Map(header.deltas.map(([k, size, time, deletes]) => [k, { size, time, deletes }]));
  for (const { key: k, obj } of present) deltaInfo.set(k, { size: listing.deltas.get(k)!, time: obj.header.time, deletes: obj.header.deletes });
  const state: LoadedIndex = {
    index, segments, txns, deltaKeys: [...header.deltas.map((d) => d[0]), ...present.map((o) => o.key)], deltaInfo,
    fullKey: full?.key, fullSize: full?.size ?? 0, generation: header.generation, covers: header.covers,
    obsoleteKeys: [...listing.fulls.slice(1).map((f) => f.key), ...[...listing.deltas.keys()].filter((k) => covered.has(k))],
  };
  return { state, changed: present.length > 0 };
}

function applyTo(index: ChunkIndex, obj: IndexObject, segments: SegmentTable, txns: LoadedIndex['txns']): void {
  const refs = obj.header.segments.map((name) => segments.ref(name));
  const locs = obj.putLocs;
  for (let i = 0; i < obj.header.puts; i++) {
    index.set(obj.putIds.subarray(i * ID_SIZE, i * ID_SIZE + ID_SIZE), refs[locs[i * 3]], locs[i * 3 + 1], locs[i * 3 + 2]);
  }
  for (let i = 0; i < obj.header.deletes; i++) index.delete(obj.deleteIds.subarray(i * ID_SIZE, i * ID_SIZE + ID_SIZE));
  txns.push(...obj.header.txns);
}
