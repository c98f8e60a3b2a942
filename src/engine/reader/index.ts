/**
 * The chunk reader: opens stored chunks (authenticate and decrypt, decompress, check the plaintext
 * against its id) on a pool of worker threads, with the same codec as everywhere else. Batches go
 * to the least busy worker; buffers move between threads without copies where they can.
 */
import { Worker } from 'node:worker_threads';
import { EngineError, IntegrityError, UnsupportedFormatError, WorkerFailedError } from '../errors.js';
import type { KeyMaterial } from '../keys/modes.js';
import { movable, type OpenOutcome, type OpenRequest, type OpenResponse, type ReaderSetup } from './protocol.js';

export interface ChunkReaderOptions {
  /** Worker threads (default 2). */
  workers?: number;
}

/** Opens chunks off the calling thread. Call `close()` when done. */
export interface ChunkReader {
  /**
   * The plaintexts of `stored[i]` (the stored bytes of chunk `ids[i]`), in order; each verified as
   * `Codec.open` does. A chunk that fails rejects with the codec's error class (`IntegrityError`, …).
   * Whole-buffer views in `stored` are transferred: the caller must not use them afterwards.
   */
  openMany(ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/** Starts the workers and waits until each has built its codec. */
export async function createChunkReader(key: KeyMaterial, options: ChunkReaderOptions = {}): Promise<ChunkReader> {
  const reader = new PooledReader();
  await reader.start(Math.max(1, options.workers ?? 2), { key });
  return reader;
}

/** The worker entry next to this module (worker.js once built; under tsx a loader shim, as the pipeline does). */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url);
  const target = new URL('./worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(target)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

interface Pending { resolve(plains: Uint8Array[]): void; reject(err: Error): void }
interface Slot { worker: Worker; pending: Map<number, Pending> }

class PooledReader implements ChunkReader {
  readonly #slots: Slot[] = [];
  #seq = 0;
  #failure: Error | undefined;
  #closed = false;

  async start(size: number, setup: ReaderSetup): Promise<void> {
    try {
      await Promise.all(Array.from({ length: size }, () => this.#spawn(setup)));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  openMany(ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new WorkerFailedError('the chunk reader is closed'));
    if (ids.length !== stored.length) return Promise.reject(new EngineError('EINVALID_OPTION', 'ids and stored differ in length'));
    let slot = this.#slots[0];
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const seq = ++this.#seq;
    return new Promise<Uint8Array[]>((resolve, reject) => {
      slot.pending.set(seq, { resolve, reject });
      slot.worker.postMessage({ seq, ids: [...ids], stored: [...stored] } satisfies OpenRequest, movable(stored));
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = new WorkerFailedError('the chunk reader is closed');
    for (const slot of this.#slots) for (const p of slot.pending.values()) p.reject(closing);
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #spawn(setup: ReaderSetup): Promise<void> {
    const worker = new Worker(workerEntry(), { workerData: setup });
    const slot: Slot = { worker, pending: new Map() };
    this.#slots.push(slot);
    return new Promise<void>((resolveReady, rejectReady) => {
      let isReady = false;
      worker.on('message', (msg: OpenResponse) => {
        if ('ready' in msg) {
          isReady = true;
          if (msg.ready) resolveReady();
          else rejectReady(new WorkerFailedError(msg.message));
          return;
        }
        const p = slot.pending.get(msg.seq);
        if (!p) return;
        slot.pending.delete(msg.seq);
        const failed = msg.outcomes.find((o) => !o.ok);
        if (failed && !failed.ok) p.reject(rebuild(failed));
        else p.resolve(msg.outcomes.map((o) => (o.ok ? o.plain : new Uint8Array())));
      });
      worker.on('error', (err) => this.#fail(new WorkerFailedError(err.message, { cause: err }), isReady ? undefined : rejectReady));
      worker.on('exit', (code) => {
        if (!this.#closed) this.#fail(new WorkerFailedError(`a reader worker exited (code ${code})`), isReady ? undefined : rejectReady);
      });
    });
  }

  #fail(err: Error, rejectReady?: (err: Error) => void): void {
    this.#failure ??= err;
    rejectReady?.(err);
    for (const slot of this.#slots) {
      for (const p of slot.pending.values()) p.reject(this.#failure);
      slot.pending.clear();
    }
  }
}

/** The codec's error classes, rebuilt on this side so callers can check them with instanceof. */
function rebuild(o: Extract<OpenOutcome, { ok: false }>): Error {
  if (o.code === 'ECHUNK_INTEGRITY') return Object.assign(new IntegrityError(''), { message: o.message });
  if (o.code === 'EUNSUPPORTED_FORMAT') return Object.assign(new UnsupportedFormatError(''), { message: o.message });
  return new EngineError(o.code, o.message);
}
