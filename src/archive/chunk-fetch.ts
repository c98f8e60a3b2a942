/**
 * The one way the archive layer reads chunks (extract, check --verify-data, the item stream).
 *
 * Chunks are asked for in the order the consumer needs them. They are collected into batches, and
 * each batch is one `getMany`: the repository reads neighbouring entries of a segment with one
 * ranged request. Several batches are in flight at once. Each chunk is then opened (authenticated,
 * decrypted, decompressed, its id recomputed) and its size checked before anyone sees a byte of it.
 * Results come back in the order asked.
 *
 * Limits:
 * - `requests`: batches in flight. The store's own concurrency limit still caps the requests of
 *   all batches together.
 * - `budget`: plaintext bytes asked for and not yet released by the consumer. A producer waits in
 *   `room()` until the budget has space. One chunk larger than the whole budget is let through
 *   alone, so a run never stalls.
 *
 * When a batch starts does not depend on the producer: it starts once it is full (`batchChunks`
 * or `batchBytes`), when the producer calls `flush()` (it is done, or about to wait), when `room()`
 * finds the budget full, or `linger` ms after its first chunk came when nothing is in flight. A
 * producer that adds one chunk per turn of the event loop (reading its own input in between)
 * thus still sends whole batches to a fast local store, instead of one request per chunk.
 *
 * A damaged or missing chunk fails its whole `getMany`. The batch is then read again chunk by chunk,
 * so only the bad chunk rejects. Its error keeps its class and `code`, and it names the chunk:
 * `chunk` holds the id in hex, and the message starts with it.
 *
 * With `offload` and a codec that has `openMany`, each batch is opened on the codec's worker
 * threads (one message each way per batch), so this thread only reads and hands out; otherwise
 * chunks are opened here. A chunk the workers could not open is read and opened again here, which
 * gives its error. If the workers themselves fail, the fetcher stops with that error
 * (`failure`): it is not a damaged chunk. docs/adr/0052-chunk-fetch.md has the measurements.
 */
import { ArchiveCorruptError } from './errors.js';
import type { ArchiveContext } from './ports.js';

export interface FetchLimits {
  /** Batches (`getMany` calls) in flight. Default 8. */
  requests?: number;
  /** Plaintext bytes asked for and not yet released. Default 64 MiB. */
  budget?: number;
  /** A batch is started once it holds this many plaintext bytes... (default 4 MiB) */
  batchBytes?: number;
  /** ...or this many chunks (default 64)... */
  batchChunks?: number;
  /** ...or, with nothing in flight, this many ms after its first chunk came (default 2). */
  linger?: number;
  /** Open batches on the codec's worker threads when it has them (default false: for bulk reads). */
  offload?: boolean;
}

/** A chunk to read: its id, and its plaintext size when known (checked; the item stream's are not known). */
export interface FetchRef {
  id: Uint8Array;
  size?: number;
}

/** What a chunk of unknown size counts against the budget: the item chunker's largest chunk. */
const UNKNOWN_SIZE = 512 * 1024;
/** The bytes `ref` holds in the budget. */
export const budgetOf = (ref: FetchRef): number => ref.size ?? UNKNOWN_SIZE;

const DEFAULTS: Required<FetchLimits> = { requests: 8, budget: 64 * 1024 * 1024, batchBytes: 4 * 1024 * 1024, batchChunks: 64, linger: 2, offload: false };

interface Pending { ref: FetchRef; resolve(v: Uint8Array): void; reject(e: unknown): void }

/** The hex id of a chunk, as errors and reports name it. */
export const chunkHex = (id: Uint8Array): string => Buffer.from(id).toString('hex');

/**
 * Makes `error` name the chunk it is about. The error keeps its class and `code`. Its `chunk`
 * property is set, and its message is prefixed with the id unless the message already holds it.
 */
function naming(error: unknown, ref: FetchRef): unknown {
  if (!(error instanceof Error)) return error;
  const hex = chunkHex(ref.id);
  if (!error.message.includes(hex)) error.message = `chunk ${hex}: ${error.message}`;
  (error as Error & { chunk?: string }).chunk = hex;
  return error;
}

/** Opens one stored chunk and checks its size; errors name the chunk. */
async function openChecked(ctx: ArchiveContext, ref: FetchRef, stored: Uint8Array): Promise<Uint8Array> {
  const plain = await ctx.codec.open(ref.id, stored);
  if (ref.size !== undefined && plain.length !== ref.size) throw new ArchiveCorruptError(`chunk ${chunkHex(ref.id)} has ${plain.length} bytes, its item says ${ref.size}`);
  return plain;
}

/** Reads one chunk alone: the path a failed batch falls back to. */
async function fetchOne(ctx: ArchiveContext, ref: FetchRef): Promise<Uint8Array> {
  try {
    return await openChecked(ctx, ref, await ctx.repository.get(ref.id));
  } catch (error) {
    throw naming(error, ref);
  }
}

/**
 * Fetches chunks in batches under the limits above. `add` queues a chunk and returns its plaintext
 * promise. The consumer calls `release(size)` once it is done with a chunk's bytes. A producer
 * awaits `room(size)` before each `add`.
 */
export class ChunkFetcher {
  readonly #ctx: ArchiveContext;
  readonly #limits: Required<FetchLimits>;
  #batch: Pending[] = [];
  #batchBytes = 0;
  /** When the batch being collected got its first chunk (performance.now()). */
  #batchSince = 0;
  /** Starts the batch being collected once it has lingered long enough with nothing in flight. */
  #lingering: ReturnType<typeof setTimeout> | undefined;
  /** Batches ready to start, oldest first, waiting for a request slot. */
  readonly #ready: Pending[][] = [];
  #running = 0;
  #held = 0;
  #closed: Error | undefined;
  #failure: Error | undefined;
  readonly #waiters: (() => void)[] = [];

  constructor(ctx: ArchiveContext, limits: FetchLimits = {}) {
    this.#ctx = ctx;
    this.#limits = { ...DEFAULTS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
  }

  /**
   * Resolves once `size` more bytes fit in the budget (at once when nothing is held). When the
   * budget is full it starts the batch being collected (so the consumer can free room) and waits
   * until a whole batch fits again. Resolves false once `close` was called.
   */
  async room(size: number): Promise<boolean> {
    if (this.#closed || this.#held === 0 || this.#held + size <= this.#limits.budget) return !this.#closed;
    this.flush();
    // Once full, wait until a whole batch fits again: letting chunks in one by one as the consumer
    // frees them would send one-chunk batches, a request each.
    const low = Math.max(0, this.#limits.budget - this.#limits.batchBytes - size);
    while (!this.#closed && this.#held > 0 && this.#held > low) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return !this.#closed;
  }

  /** Queues `ref`: the promise resolves with its verified plaintext, or rejects naming the chunk. */
  add(ref: FetchRef): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#held += budgetOf(ref);
    if (this.#batch.length === 0) this.#batchSince = performance.now();
    const promise = new Promise<Uint8Array>((resolve, reject) => this.#batch.push({ ref, resolve, reject }));
    promise.catch(() => undefined);
    this.#batchBytes += budgetOf(ref);
    if (this.#batchBytes >= this.#limits.batchBytes || this.#batch.length >= this.#limits.batchChunks) this.flush();
    else if (this.#running === 0) this.#linger();
    return promise;
  }

  /** The error that stopped the fetcher itself (the codec's workers failed), if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Gives back the budget of a chunk the consumer is done with (or will never take). */
  release(size: number): void {
    this.#held -= size;
    // Every waiter looks again: each takes what fits, the others wait for the next release.
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Starts the batch being collected (it may wait for a request slot). */
  flush(): void {
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    if (this.#batch.length === 0) return;
    this.#ready.push(this.#batch);
    this.#batch = [];
    this.#batchBytes = 0;
    this.#pump();
  }

  /** Stops: chunks not started reject with `error`, `room` resolves false. Fetches running finish. */
  close(error: Error): void {
    this.#closed ??= error;
    for (const batch of [this.#batch, ...this.#ready.splice(0)]) for (const p of batch) p.reject(error);
    this.#batch = [];
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    this.release(0);
  }

  #pump(): void {
    while (this.#running < this.#limits.requests && this.#ready.length > 0) {
      const batch = this.#ready.shift()!;
      this.#running += 1;
      void this.#run(batch).finally(() => {
        this.#running -= 1;
        // The pipe drained: what was collected meanwhile starts once it has lingered enough.
        if (this.#running === 0) this.#linger();
        this.#pump();
      });
    }
  }

  /** Nothing is in flight: the batch being collected starts `linger` ms after its first chunk. */
  #linger(): void {
    if (this.#lingering || this.#batch.length === 0) return;
    const wait = this.#batchSince + this.#limits.linger - performance.now();
    if (wait <= 0) return this.flush();
    this.#lingering = setTimeout(() => this.flush(), wait);
  }

  async #run(batch: Pending[]): Promise<void> {
    let stored: Uint8Array[] | undefined;
    try {
      stored = await this.#ctx.repository.getMany(batch.map((p) => p.ref.id));
    } catch {
      // One damaged or missing entry fails the whole read: read each alone, so only it fails.
    }
    const openMany = this.#limits.offload ? this.#ctx.codec.openMany : undefined;
    let opened: (Uint8Array | undefined)[] | undefined;
    if (stored && openMany) {
      try {
        opened = await openMany.call(this.#ctx.codec, batch.map((p) => p.ref.id), stored);
      } catch (error) {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
        for (const p of batch) p.reject(this.#failure);
        this.close(this.#failure);
        return;
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const { ref, resolve, reject } = batch[i];
      try {
        const plain = opened?.[i];
        if (plain && (ref.size === undefined || plain.length === ref.size)) resolve(plain);
        else resolve(stored ? await openChecked(this.#ctx, ref, stored[i]).catch(() => fetchOne(this.#ctx, ref)) : await fetchOne(this.#ctx, ref));
      } catch (error) {
        reject(error);
      }
    }
  }
}

/** One chunk's outcome in `fetchChunks`: its plaintext, or the error that names it. */
export type Fetched<R extends FetchRef> = { ref: R; data: Uint8Array; error?: undefined } | { ref: R; data?: undefined; error: unknown };

/**
 * Yields every chunk of `refs` in order, with its verified plaintext or its error; a bad chunk
 * does not stop the others. At most `limits.budget` plaintext bytes are held: a chunk's budget is
 * released when the consumer asks for the next one.
 */
export async function* fetchChunks<R extends FetchRef>(ctx: ArchiveContext, refs: Iterable<R> | AsyncIterable<R>, limits: FetchLimits = {}): AsyncGenerator<Fetched<R>> {
  const fetcher = new ChunkFetcher(ctx, limits);
  const queue: { ref: R; data: Promise<Uint8Array> }[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => { const w = wake; wake = undefined; w?.(); };
  const producer = (async () => {
    try {
      for await (const ref of refs) {
        if (!await fetcher.room(budgetOf(ref))) return;
        queue.push({ ref, data: fetcher.add(ref) });
        notify();
      }
    } catch (error) {
      failure = { error };
    } finally {
      fetcher.flush();
      done = true;
      notify();
    }
  })();
  try {
    for (;;) {
      if (queue.length === 0) {
        if (done) break;
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      const { ref, data } = queue.shift()!;
      let result: Fetched<R>;
      try {
        result = { ref, data: await data };
      } catch (error) {
        if (error === fetcher.failure) throw error;
        result = { ref, error };
      }
      try {
        yield result;
      } finally {
        fetcher.release(budgetOf(ref));
      }
    }
    if (failure) throw failure.error;
  } finally {
    fetcher.close(new Error('fetch stopped'));
    await producer;
  }
}
