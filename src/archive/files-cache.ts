/**
 * The files cache: for each path backed up before, its (size, mtime, inode) and chunk list, so
 * `create` skips reading a file that has not changed. One file per repository under the user's
 * cache folder: `$XDG_CACHE_HOME/cairn/<repository id>/files` (default `~/.cache`).
 *
 * Layout of the `files` file (msgpack, written atomically: temp name, fsync, rename):
 *
 *   [ 1, [ [ key bin(16), size uint, mtime_ns int64, inode int64, age uint, [ [ id bin(32), size uint ], ... ] ], ... ] ]
 *
 * `key` is SHA-256(path bytes)[0..16]. `age` counts runs since the entry was last seen;
 * entries older than `maxAge` runs are dropped (Borg's files cache TTL, 20 by default).
 * The cache is only a hint: a hit is used only when every chunk is still in the repository.
 *
 * In memory the entries are columns of typed arrays, not an object each: a 16-byte key, size,
 * mtime, inode, age and a run of (id, size) in one chunk pool, found through an open-addressing
 * table of entry numbers. An entry of a one-chunk file costs ~130 bytes this way against ~590 as
 * objects (a hex key string, an object, two BigInts, an array, a ChunkRef and its id's ArrayBuffer;
 * test/archive/files-cache.test.ts measures it), and a backup holds one entry per file it has seen.
 */
import { hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { ChunkRef } from './item.js';
import { writeFileAtomic } from './local-file.js';

/** The cache folder of one repository: `$XDG_CACHE_HOME/cairn/<id>` or `~/.cache/cairn/<id>`. */
export function repositoryCacheDir(repositoryId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'cairn', repositoryId);
}

const FORMAT = 1;
const KEY = 16;
const ID = 32;
/** A row as the file holds it (see the module header). */
type Row = [Uint8Array, number | bigint, number | bigint, number | bigint, number | bigint, [Uint8Array, number | bigint][]];

/** Doubles `a` (of its own kind) until it holds `n` elements. */
function grown<T extends Uint8Array | Uint32Array | Int32Array | Float64Array | BigInt64Array | BigUint64Array>(a: T, n: number, make: (n: number) => T): T {
  if (n <= a.length) return a;
  let size = Math.max(a.length, 16);
  while (size < n) size *= 2;
  const b = make(size);
  b.set(a as never);
  return b;
}

/** Path → chunks of files already stored; see the module header for the layouts. */
export class FilesCache {
  readonly #file: string;
  readonly #maxAge: number;
  /** Open addressing, linear probing: entry number + 1, 0 for an empty slot; never more than half full. */
  #slots = new Int32Array(1024);
  #count = 0;
  #keys = new Uint8Array(0);
  #sizes = new Float64Array(0);
  #mtimes = new BigInt64Array(0);
  #inodes = new BigUint64Array(0);
  #ages = new Uint32Array(0);
  /** Each entry's run in the chunk pool: first chunk and count. */
  #first = new Uint32Array(0);
  #chunks = new Uint32Array(0);
  #ids = new Uint8Array(0);
  #chunkSizes = new Float64Array(0);
  #chunksUsed = 0;

  private constructor(file: string, maxAge: number) {
    this.#file = file;
    this.#maxAge = maxAge;
  }

  /** Loads the cache of a folder; a missing, unreadable or damaged file gives an empty cache. */
  static async load(dir: string, options: { maxAge?: number } = {}): Promise<FilesCache> {
    const file = join(dir, 'files');
    const maxAge = options.maxAge ?? 20;
    let cache = new FilesCache(file, maxAge);
    try {
      cache.#read(await readFile(file));
    } catch {
      // A missing or damaged cache only costs reading the files again.
      cache = new FilesCache(file, maxAge);
    }
    return cache;
  }

  /** Takes the rows of a cache file one at a time (the file is not decoded into one structure first). */
  #read(bytes: Uint8Array): void {
    // [FORMAT, [row, ...]]: a 2-array, the format, then the rows' array header (fixarray, array 16 or array 32).
    if (bytes.length < 3 || bytes[0] !== 0x92 || bytes[1] !== FORMAT) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = bytes[2];
    const [rows, at] = tag >= 0x90 && tag <= 0x9f ? [tag & 0x0f, 3]
      : tag === 0xdc && bytes.length >= 5 ? [view.getUint16(3), 5]
        : tag === 0xdd && bytes.length >= 7 ? [view.getUint32(3), 7] : [-1, 0];
    if (rows < 0) throw new Error('files cache: not a row array');
    // The header's count is only trusted as far as the file's size allows (a row takes 24 bytes at least).
    this.#reserve(Math.min(rows, Math.floor(bytes.length / 24)));
    let seen = 0;
    for (const row of new Decoder({ useBigInt64: true }).decodeMulti(bytes.subarray(at))) {
      if (++seen > rows) throw new Error('files cache: more rows than its header says');
      const [key, size, mtime, inode, age, chunks] = row as Row;
      if (!(key instanceof Uint8Array) || key.length !== KEY || !Array.isArray(chunks)) throw new Error('files cache: a malformed row');
      const refs = chunks.map(([id, n]) => {
        if (!(id instanceof Uint8Array) || id.length !== ID) throw new Error('files cache: a malformed chunk');
        return { id, size: Number(n) };
      });
      this.#put(key, Number(size), BigInt(mtime), BigInt(inode), Number(age) + 1, refs);
    }
    if (seen !== rows) throw new Error('files cache: fewer rows than its header says');
  }

  /** The last path keyed and its key: `create` asks lookup, knows and remember of one path in a row. */
  #lastPath: Uint8Array | undefined;
  #lastKey: Uint8Array = new Uint8Array(KEY);

  /** The first 16 bytes of SHA-256 of the path (one-shot `hash`: a fifth of createHash's cost per path). */
  #key(path: Uint8Array): Uint8Array {
    if (path !== this.#lastPath) {
      this.#lastKey = hash('sha256', path, 'buffer').subarray(0, KEY);
      this.#lastPath = path;
    }
    return this.#lastKey;
  }

  /** The slot holding `key`'s entry, or the empty slot where it would go. */
  #slot(key: Uint8Array): number {
    const mask = this.#slots.length - 1;
    // The key is a hash already: its first four bytes spread the entries evenly.
    let i = ((key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0) & mask;
    for (;;) {
      const e = this.#slots[i] - 1;
      if (e < 0 || this.#sameKey(e, key)) return i;
      i = (i + 1) & mask;
    }
  }

  #sameKey(e: number, key: Uint8Array): boolean {
    const at = e * KEY;
    for (let j = 0; j < KEY; j++) if (this.#keys[at + j] !== key[j]) return false;
    return true;
  }

  #entry(key: Uint8Array): number {
    return this.#slots[this.#slot(key)] - 1;
  }

  /** Adds or replaces the entry of `key`. */
  #put(key: Uint8Array, size: number, mtime: bigint, inode: bigint, age: number, chunks: readonly ChunkRef[]): void {
    let slot = this.#slot(key);
    let e = this.#slots[slot] - 1;
    if (e < 0) {
      if ((this.#count + 1) * 2 > this.#slots.length) {
        this.#rehash(this.#slots.length * 2);
        slot = this.#slot(key);
      }
      e = this.#count++;
      this.#slots[slot] = e + 1;
      this.#roomForEntries(this.#count);
      this.#keys.set(key, e * KEY);
      this.#chunks[e] = 0;
    }
    this.#sizes[e] = size;
    this.#mtimes[e] = mtime;
    this.#inodes[e] = BigInt.asUintN(64, inode);
    this.#ages[e] = age;
    // A list no longer than the one stored is written over it; a longer one goes to the pool's end
    // (the old run stays unused until the cache is saved and loaded again).
    if (chunks.length > this.#chunks[e]) {
      this.#first[e] = this.#chunksUsed;
      this.#chunksUsed += chunks.length;
      this.#roomForChunks(this.#chunksUsed);
    }
    this.#chunks[e] = chunks.length;
    const first = this.#first[e];
    for (let i = 0; i < chunks.length; i++) {
      this.#ids.set(chunks[i].id, (first + i) * ID);
      this.#chunkSizes[first + i] = chunks[i].size;
    }
  }

  /** Room for `n` entries of one chunk each, so loading does not grow the columns step by step (each step a copy). */
  #reserve(n: number): void {
    let slots = this.#slots.length;
    while (slots < n * 2) slots *= 2;
    if (slots > this.#slots.length) this.#rehash(slots);
    this.#roomForEntries(n);
    this.#roomForChunks(n);
  }

  /** Columns with room for `n` entries. */
  #roomForEntries(n: number): void {
    this.#keys = grown(this.#keys, n * KEY, (m) => new Uint8Array(m));
    this.#sizes = grown(this.#sizes, n, (m) => new Float64Array(m));
    this.#mtimes = grown(this.#mtimes, n, (m) => new BigInt64Array(m));
    this.#inodes = grown(this.#inodes, n, (m) => new BigUint64Array(m));
    this.#ages = grown(this.#ages, n, (m) => new Uint32Array(m));
    this.#first = grown(this.#first, n, (m) => new Uint32Array(m));
    this.#chunks = grown(this.#chunks, n, (m) => new Uint32Array(m));
  }

  /** A chunk pool with room for `n` chunks. */
  #roomForChunks(n: number): void {
    this.#ids = grown(this.#ids, n * ID, (m) => new Uint8Array(m));
    this.#chunkSizes = grown(this.#chunkSizes, n, (m) => new Float64Array(m));
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    for (let e = 0; e < this.#count; e++) this.#slots[this.#slot(this.#keys.subarray(e * KEY, (e + 1) * KEY))] = e + 1;
  }

  /** Each chunk of entry `e` as `make` builds it from a view of its id in the pool and its size. */
  #chunkList<T>(e: number, make: (id: Uint8Array, size: number) => T): T[] {
    const out: T[] = [];
    const first = this.#first[e];
    for (let i = first; i < first + this.#chunks[e]; i++) out.push(make(this.#ids.subarray(i * ID, (i + 1) * ID), this.#chunkSizes[i]));
    return out;
  }

  /** The chunk list stored for `path` when size, mtime and inode all match `stat`, else undefined. */
  lookup(path: Uint8Array, stat: BigIntStats): ChunkRef[] | undefined {
    const e = this.#entry(this.#key(path));
    if (e < 0 || this.#sizes[e] !== Number(stat.size) || this.#mtimes[e] !== stat.mtimeNs || this.#inodes[e] !== BigInt.asUintN(64, stat.ino)) return undefined;
    this.#ages[e] = 0;
    // Copies: the caller keeps the ids, and the pool may be grown (copied) or written over later.
    return this.#chunkList(e, (id, size) => ({ id: id.slice(), size }));
  }

  /** True when the cache has an entry for `path`, matching or not (`create --list`: M rather than A). */
  knows(path: Uint8Array): boolean {
    return this.#entry(this.#key(path)) >= 0;
  }

  /** Records the chunks of a file just stored (or confirmed unchanged). */
  remember(path: Uint8Array, stat: BigIntStats, chunks: readonly ChunkRef[]): void {
    this.#put(this.#key(path), Number(stat.size), stat.mtimeNs, stat.ino, 0, chunks);
  }

  /** The cache file (named in the warning when it cannot be saved). */
  get file(): string {
    return this.#file;
  }

  /** Number of entries. */
  get size(): number {
    return this.#count;
  }

  /** Writes the cache atomically, dropping entries not seen for `maxAge` runs; rows are encoded one at a time. */
  async save(): Promise<void> {
    const encoder = new Encoder({ useBigInt64: true });
    let kept = 0;
    for (let e = 0; e < this.#count; e++) if (this.#ages[e] <= this.#maxAge) kept += 1;
    let out = new Uint8Array(64 + kept * 96);
    out.set([0x92, FORMAT, 0xdd, kept >>> 24, (kept >>> 16) & 0xff, (kept >>> 8) & 0xff, kept & 0xff]);
    let at = 7;
    for (let e = 0; e < this.#count; e++) {
      if (this.#ages[e] > this.#maxAge) continue;
      // Views: the encoder copies them into the row at once.
      const refs = this.#chunkList(e, (id, size): [Uint8Array, number] => [id, size]);
      const row = [this.#keys.subarray(e * KEY, (e + 1) * KEY), this.#sizes[e], this.#mtimes[e], this.#inodes[e], this.#ages[e], refs];
      const bytes = encoder.encodeSharedRef(row);
      out = grown(out, at + bytes.length, (m) => new Uint8Array(m));
      out.set(bytes, at);
      at += bytes.length;
    }
    await writeFileAtomic(this.#file, out.subarray(0, at));
  }
}
