/**
 * What the archive layer needs from the layers below, as two narrow interfaces: the
 * repository (chunk store + named records) and the chunk codec (chunking, id MAC, seal/open).
 * `Repository` satisfies the first as is; `createChunkCodec()` builds the second from the engine.
 */
import type { ArchiveJournal } from './journal.js';

/** The repository operations used by archives (a structural subset of `Repository`). */
export interface ChunkRepository {
  readonly config: { readonly id: string; readonly appendOnly?: boolean };
  /** True when the id is stored (committed, or put in this session). */
  has(id: Uint8Array): boolean;
  /** The stored bytes of a chunk, digest-verified; a missing id rejects with a typed error. */
  get(id: Uint8Array): Promise<Uint8Array>;
  /**
   * The stored bytes of several chunks, in the order asked, each digest-verified; neighbouring
   * entries are read with one request. Any missing or damaged one rejects the whole call.
   */
  getMany(ids: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** Stores `value` under `id` in this session; `value` is copied before the promise settles (the caller may then free it). */
  put(id: Uint8Array, value: Uint8Array): Promise<void>;
  delete(id: Uint8Array): Promise<void>;
  /** Makes every put and delete so far durable. */
  commit(): Promise<void>;
  ids(): Iterable<Uint8Array>;
  putRecord(name: string, bytes: Uint8Array, options?: { ifAbsent?: boolean }): Promise<void>;
  /** The record's bytes, or undefined when there is none. */
  getRecord(name: string): Promise<Uint8Array | undefined>;
  listRecords(prefix: string): AsyncIterable<string>;
  deleteRecord(name: string): Promise<void>;
  /** Stored (sealed) bytes of a chunk from the index, without reading it; optional (statistics only). */
  storedSize?(id: Uint8Array): number | undefined;
  /** Number and total bytes of the segment objects, from a listing; optional (statistics only). */
  segmentUsage?(): Promise<{ segments: number; bytes: number }>;
  /** Moves a record that cannot be read aside (to `quarantine/`); needs the exclusive lock. */
  quarantineRecord?(name: string): Promise<string>;
}

/** Which chunker parameters to use: file contents, or the (smaller-chunked) item stream. */
export type ChunkPurpose = 'data' | 'items';

/**
 * Chunking and crypto bound to one repository key. Every chunk the archive layer stores goes
 * through `seal` under its id, and every chunk it reads through `open`, which authenticates it.
 */
export interface ChunkCodec {
  /** The keyed MAC of a plaintext: its chunk id (32 bytes). */
  chunkId(plaintext: Uint8Array): Uint8Array;
  /** Compresses and encrypts a chunk for storage, binding it to `id`; the result is new and the caller's alone (it may free it). */
  seal(id: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /**
   * Authenticates and decrypts stored bytes; a chunk that does not match `id` rejects. The plaintext is new and the
   * caller's alone (it may free it with the engine's `releaseBytes`); it shares no memory with `stored`.
   */
  open(id: Uint8Array, stored: Uint8Array): Promise<Uint8Array>;
  /** Splits a byte stream into content-defined chunks, deterministically for one key. */
  chunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, purpose: ChunkPurpose): AsyncIterable<Uint8Array>;
  /**
   * Optional fast path for file contents: chunk, id and (unless `isKnown`) seal on worker threads.
   * Yields every chunk in order; `stored` is present when the chunk must be written, and is the caller's alone.
   */
  storeChunks?(source: AsyncIterable<Uint8Array>, isKnown: (id: Uint8Array) => boolean): AsyncIterable<{ id: Uint8Array; size: number; stored?: Uint8Array }>;
  /**
   * Optional fast path for reads: opens a batch of chunks on worker threads, as `open` would. Each result is the
   * verified plaintext (the caller's alone, as from `open`), or undefined for a chunk that did not open (`open` it
   * to learn why).
   */
  openMany?(ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
}

/** A repository opened with its key: what every archive operation takes. */
export interface ArchiveContext {
  repository: ChunkRepository;
  codec: ChunkCodec;
  /** Where additions and deletions of archives are journaled (`openRepository` provides it); absent: not journaled. */
  journal?: ArchiveJournal;
  /**
   * Called with each archive record read by name, once authenticated: rejects (`ESECURITY_REPLACED`) a record that is
   * not the one the journal names for that archive (an older record put back without the key). `openRepository`
   * provides it; `check` leaves it out, as it reports such records itself.
   */
  vouchRecord?(name: string, id: Uint8Array): Promise<void>;
}
