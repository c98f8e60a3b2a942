/**
 * The in-memory index: chunk id → (segment ref, offset, size) in typed arrays, never a Map of
 * strings. Most entries live in a sorted "base" (32-byte id + three u32 = 44 bytes each, allocated
 * to the exact count) found through a 65 536-bucket directory on the first two id bytes and a binary
 * search; recent changes go to a small open-addressing "overlay" that is merged into the base when
 * it grows past a quarter of it. Steady-state cost: 44 bytes per entry + 256 KiB.
 */
import { ID_SIZE } from './segment-format.js';

/** Where an entry lives: a segment ref (see the repository's segment table), offset and size. */
export interface Location {
  segment: number;
  offset: number;
  size: number;
}

/** Marks a deletion in the overlay and in bulk builders. */
const TOMBSTONE = 0xffff_ffff;
const BUCKETS = 65536;
const MIN_OVERLAY = 1024;

/** Accumulates (id, location | deletion) in order; `build` keeps the last word per id. */
export class IndexBuilder {
  #ids = new Uint8Array(ID_SIZE * 1024);
  #locs = new Uint32Array(3 * 1024);
  #n = 0;

  get length(): number { return this.#n; }

  /** Records that `id` now lives at the location. */
  put(id: Uint8Array, segment: number, offset: number, size: number): void { this.#push(id, segment, offset, size); }

  /** Records that `id` is deleted (any earlier put is dropped). */
  delete(id: Uint8Array): void { this.#push(id, TOMBSTONE, 0, 0); }

  /** Appends raw entries: `ids` holds count×32 bytes, `locs` count×3 u32 (segment, offset, size). */
  putMany(ids: Uint8Array, locs: Uint32Array, count: number): void {
    this.#reserve(count);
    this.#ids.set(ids.subarray(0, count * ID_SIZE), this.#n * ID_SIZE);
    this.#locs.set(locs.subarray(0, count * 3), this.#n * 3);
    this.#n += count;
  }

  #push(id: Uint8Array, segment: number, offset: number, size: number): void {
    this.#reserve(1);
    this.#ids.set(id, this.#n * ID_SIZE);
    this.#locs[this.#n * 3] = segment;
    this.#locs[this.#n * 3 + 1] = offset;
    this.#locs[this.#n * 3 + 2] = size;
    this.#n++;
  }

  #reserve(more: number): void {
    const need = this.#n + more;
    if (need * 3 <= this.#locs.length) return;
    let cap = this.#locs.length / 3;
    while (cap < need) cap *= 2;
    const ids = new Uint8Array(cap * ID_SIZE); ids.set(this.#ids.subarray(0, this.#n * ID_SIZE)); this.#ids = ids;
    const locs = new Uint32Array(cap * 3); locs.set(this.#locs.subarray(0, this.#n * 3)); this.#locs = locs;
  }

  /** The sorted base: one entry per id (the last recorded), deletions dropped. */
  build(): { ids: Uint8Array; locs: Uint32Array; count: number } {
    const n = this.#n;
    const order = sortById(this.#ids, n);
    // Walk runs of equal ids; the stable sort keeps record order, so the run's last entry wins.
    let live = 0;
    const keep = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const e = order[i];
      if (i + 1 < n && compareAt(this.#ids, e, this.#ids, order[i + 1]) === 0) continue;
      if (this.#locs[e * 3] !== TOMBSTONE) keep[live++] = e;
    }
    const ids = new Uint8Array(live * ID_SIZE);
    const locs = new Uint32Array(live * 3);
    const from = new Uint32Array(this.#ids.buffer, 0, this.#n * 8), to = new Uint32Array(ids.buffer);
    for (let i = 0; i < live; i++) {
      const e = keep[i];
      for (let w = 0; w < 8; w++) to[i * 8 + w] = from[e * 8 + w];
      locs[i * 3] = this.#locs[e * 3]; locs[i * 3 + 1] = this.#locs[e * 3 + 1]; locs[i * 3 + 2] = this.#locs[e * 3 + 2];
    }
    return { ids, locs, count: live };
  }
}

/** The index proper. Not thread-safe; one per open repository. */
export class ChunkIndex {
  #baseIds: Uint8Array = new Uint8Array(0);
  #baseLocs: Uint32Array = new Uint32Array(0);
  #baseCount = 0;
  #dir = new Uint32Array(BUCKETS + 1);
  #ovIds = new Uint8Array(MIN_OVERLAY * ID_SIZE);
  #ovLocs = new Uint32Array(MIN_OVERLAY * 3);
  #ovSlots = new Int32Array(MIN_OVERLAY * 2);
  #ovCount = 0;
  #count = 0;

  /** An index holding exactly what `builder` recorded. */
  static from(builder: IndexBuilder): ChunkIndex {
    const index = new ChunkIndex();
    index.#setBase(builder.build());
    return index;
  }

  /**
   * An index over entries already sorted by id (as `sorted()` gives them); the arrays are kept, not
   * copied. Throws `RangeError` unless the ids are strictly ascending.
   */
  static fromSorted(ids: Uint8Array, locs: Uint32Array, count: number): ChunkIndex {
    if (ids.length < count * ID_SIZE || locs.length < count * 3) throw new RangeError('fewer entries than the count');
    for (let i = 1; i < count; i++) if (compareAt(ids, i - 1, ids, i) >= 0) throw new RangeError('ids not strictly ascending');
    const index = new ChunkIndex();
    index.#setBase({ ids, locs, count });
    return index;
  }

  /** Number of live ids. */
  get count(): number { return this.#count; }

  /** Every live entry, sorted by id: views of the index's own arrays, valid until the next change. */
  sorted(): { ids: Uint8Array; locs: Uint32Array; count: number } {
    this.#merge();
    return { ids: this.#baseIds, locs: this.#baseLocs, count: this.#baseCount };
  }

  /** Bytes held by the typed arrays (the index's memory cost). */
  get memoryBytes(): number {
    return this.#baseIds.byteLength + this.#baseLocs.byteLength + this.#dir.byteLength
      + this.#ovIds.byteLength + this.#ovLocs.byteLength + this.#ovSlots.byteLength;
  }

  /** The location of `id`, or undefined. */
  get(id: Uint8Array): Location | undefined {
    const o = this.#ovFind(id);
    if (o >= 0) {
      const seg = this.#ovLocs[o * 3];
      return seg === TOMBSTONE ? undefined : { segment: seg, offset: this.#ovLocs[o * 3 + 1], size: this.#ovLocs[o * 3 + 2] };
    }
    const b = this.#baseFind(id);
    return b < 0 ? undefined : { segment: this.#baseLocs[b * 3], offset: this.#baseLocs[b * 3 + 1], size: this.#baseLocs[b * 3 + 2] };
  }

  has(id: Uint8Array): boolean {
    const o = this.#ovFind(id);
    if (o >= 0) return this.#ovLocs[o * 3] !== TOMBSTONE;
    return this.#baseFind(id) >= 0;
  }

  /** Sets (or moves) `id` to the location. */
  set(id: Uint8Array, segment: number, offset: number, size: number): void {
    if (segment === TOMBSTONE) throw new RangeError('segment ref out of range');
    if (!this.has(id)) this.#count++;
    this.#ovPut(id, segment, offset, size);
  }

  /** Removes `id`; true when it was there. */
  delete(id: Uint8Array): boolean {
    if (!this.has(id)) return false;
    this.#count--;
    this.#ovPut(id, TOMBSTONE, 0, 0);
    return true;
  }

  /** Every (id, location), sorted by id. The id is a fresh copy; the snapshot ignores later changes. */
  *entries(): Generator<{ id: Uint8Array } & Location> {
    this.#merge();
    const ids = this.#baseIds, locs = this.#baseLocs, n = this.#baseCount;
    for (let i = 0; i < n; i++) {
      yield { id: ids.slice(i * ID_SIZE, i * ID_SIZE + ID_SIZE), segment: locs[i * 3], offset: locs[i * 3 + 1], size: locs[i * 3 + 2] };
    }
  }

  /** Calls `fn(segment, size)` for every live entry: cheap per-segment accounting for compaction. */
  forEachLocation(fn: (segment: number, offset: number, size: number) => void): void {
    this.#merge();
    for (let i = 0; i < this.#baseCount; i++) fn(this.#baseLocs[i * 3], this.#baseLocs[i * 3 + 1], this.#baseLocs[i * 3 + 2]);
  }

  #setBase(base: { ids: Uint8Array; locs: Uint32Array; count: number }): void {
    this.#baseIds = base.ids; this.#baseLocs = base.locs; this.#baseCount = base.count; this.#count = base.count;
    const dir = this.#dir;
    let b = 0;
    for (let i = 0; i < base.count; i++) {
      const bucket = (base.ids[i * ID_SIZE] << 8) | base.ids[i * ID_SIZE + 1];
      while (b <= bucket) dir[b++] = i;
    }
    while (b <= BUCKETS) dir[b++] = base.count;
  }

  #baseFind(id: Uint8Array): number {
    const bucket = (id[0] << 8) | id[1];
    let lo = this.#dir[bucket], hi = this.#dir[bucket + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareAt(this.#baseIds, mid, id, 0);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  #ovFind(id: Uint8Array): number {
    const mask = this.#ovSlots.length - 1;
    for (let s = hashId(id) & mask; ; s = (s + 1) & mask) {
      const e = this.#ovSlots[s] - 1;
      if (e < 0) return -1;
      if (compareAt(this.#ovIds, e, id, 0) === 0) return e;
    }
  }

  #ovPut(id: Uint8Array, segment: number, offset: number, size: number): void {
    let e = this.#ovFind(id);
    if (e < 0) {
      if (this.#ovCount * 3 >= this.#ovLocs.length) this.#ovGrow();
      e = this.#ovCount++;
      this.#ovIds.set(id, e * ID_SIZE);
      const mask = this.#ovSlots.length - 1;
      let s = hashId(id) & mask;
      while (this.#ovSlots[s] !== 0) s = (s + 1) & mask;
      this.#ovSlots[s] = e + 1;
    }
    this.#ovLocs[e * 3] = segment; this.#ovLocs[e * 3 + 1] = offset; this.#ovLocs[e * 3 + 2] = size;
    if (this.#ovCount > Math.max(65536, this.#baseCount >>> 2)) this.#merge();
  }

  #ovGrow(): void {
    const cap = (this.#ovLocs.length / 3) * 2;
    const ids = new Uint8Array(cap * ID_SIZE); ids.set(this.#ovIds); this.#ovIds = ids;
    const locs = new Uint32Array(cap * 3); locs.set(this.#ovLocs); this.#ovLocs = locs;
    const slots = new Int32Array(cap * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.#ovCount; e++) {
      let s = hashId(ids.subarray(e * ID_SIZE, e * ID_SIZE + ID_SIZE)) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.#ovSlots = slots;
  }

  /** Folds the overlay into a new base. */
  #merge(): void {
    if (this.#ovCount === 0) return;
    const builder = new IndexBuilder();
    builder.putMany(this.#baseIds, this.#baseLocs, this.#baseCount);
    builder.putMany(this.#ovIds, this.#ovLocs, this.#ovCount);
    const count = this.#count;
    this.#setBase(builder.build());
    if (this.#count !== count) throw new Error('index merge lost entries');
    this.#ovIds = new Uint8Array(MIN_OVERLAY * ID_SIZE);
    this.#ovLocs = new Uint32Array(MIN_OVERLAY * 3);
    this.#ovSlots = new Int32Array(MIN_OVERLAY * 2);
    this.#ovCount = 0;
  }
}

function hashId(id: Uint8Array): number {
  const x = (id[0] | (id[1] << 8) | (id[2] << 16) | (id[3] << 24)) ^ (id[28] | (id[29] << 8) | (id[30] << 16) | (id[31] << 24));
  return Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 7;
}

/** Compares the id at entry `i` of `a` with the id at entry `j` of `b`. */
function compareAt(a: Uint8Array, i: number, b: Uint8Array, j: number): number {
  const ai = i * ID_SIZE, bj = j * ID_SIZE;
  for (let k = 0; k < ID_SIZE; k++) {
    const d = a[ai + k] - b[bj + k];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Stable order of the first `n` ids: LSD radix sort of (first 4 bytes, position) pairs, which
 * touches the 32-byte ids only once, then equal-prefix runs (rare for MAC ids) sorted in full.
 */
function sortById(ids: Uint8Array, n: number): Uint32Array {
  let keys = new Uint32Array(n), nextKeys = new Uint32Array(n);
  let order = new Uint32Array(n), next = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * ID_SIZE;
    keys[i] = ((ids[p] << 24) | (ids[p + 1] << 16) | (ids[p + 2] << 8) | ids[p + 3]) >>> 0;
    order[i] = i;
  }
  const counts = new Uint32Array(257);
  for (let shift = 0; shift < 32; shift += 8) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((keys[i] >>> shift) & 0xff) + 1]++;
    for (let k = 1; k < 257; k++) counts[k] += counts[k - 1];
    for (let i = 0; i < n; i++) {
      const to = counts[(keys[i] >>> shift) & 0xff]++;
      nextKeys[to] = keys[i];
      next[to] = order[i];
    }
    [keys, nextKeys] = [nextKeys, keys];
    [order, next] = [next, order];
  }
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && keys[end] === keys[start]) end++;
    if (end - start > 1) {
      // Array.prototype.sort is stable, so equal ids keep their record order.
      const run = Array.from(order.subarray(start, end)).sort((a, b) => compareAt(ids, a, ids, b));
      order.set(run, start);
    }
    start = end;
  }
  return order;
}
