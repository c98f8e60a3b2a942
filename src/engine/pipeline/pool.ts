/** A fixed pool of worker threads answering pipeline tasks; a dead worker fails the pool, so no error is lost. */
import { Worker } from 'node:worker_threads';
import { EngineError, WorkerFailedError } from '../errors.js';
import {
  transferables, type BatchRequestMessage, type BatchResponseMessage, type ReadyMessage, type RequestMessage, type ResponseMessage, type TaskRequest, type TaskResult, type WorkerSetup,
} from './protocol.js';

/**
 * V8's young generation of each worker, in MiB. Node 24's default is 4× Node 20's and each worker
 * has its own; a worker's JS objects are small (its data is in transferred buffers), so a small
 * nursery costs no time and saves memory per worker (docs/performance.md).
 */
export const WORKER_YOUNG_GENERATION_MB = 8;

interface Pending {
  resolve(result: TaskResult): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** `file` tasks of this turn of the event loop, sent together by `#flush` (BatchRequestMessage). */
  outbox: RequestMessage[];
}

/**
 * The worker entry next to this module: worker.js once built. Under tsx (this file is .ts) the entry is a small
 * data: module that registers tsx's loader in the worker and then imports worker.ts, because Node 20 does not carry
 * the parent's `--import tsx` hooks into a worker's module loading.
 */
export function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url);
  const target = new URL('./worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(target)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The pool; request() picks the least-busy worker. After any worker failure every request rejects. */
export class WorkerPool {
  readonly size: number;
  readonly #slots: Slot[] = [];
  #seq = 0;
  #failure: Error | undefined;
  #closed = false;
  #flushing = false;
  #messages = 0;

  private constructor(size: number) {
    this.size = size;
  }

  /** Starts `size` workers and waits until each has built its codec. */
  static async start(size: number, setup: WorkerSetup): Promise<WorkerPool> {
    const pool = new WorkerPool(size);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < size; i++) ready.push(pool.#spawn(setup));
    try {
      await Promise.all(ready);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Runs one task on a worker; big buffers in it are transferred (the caller must not use them afterwards). */
  request(task: TaskRequest): Promise<TaskResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new WorkerFailedError('the pool is closed'));
    let slot = this.#slots[0];
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const seq = ++this.#seq;
    return new Promise<TaskResult>((resolve, reject) => {
      slot.pending.set(seq, { resolve, reject });
      if (task.type !== 'file') {
        this.#messages += 1;
        slot.worker.postMessage({ seq, task }, transferables(task));
        return;
      }
      // A small file: batched with the others of this turn (one message per worker, not per file).
      slot.outbox.push({ seq, task });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Sends each worker the `file` tasks collected for it, as one message. */
  #flush(): void {
    this.#flushing = false;
    if (this.#closed || this.#failure) return;
    for (const slot of this.#slots) {
      if (slot.outbox.length === 0) continue;
      const batch = slot.outbox;
      slot.outbox = [];
      this.#messages += 1;
      slot.worker.postMessage({ batch } satisfies BatchRequestMessage);
    }
  }

  /** Messages posted to the workers so far (small-file tasks travel in batches, see `#flush`). */
  get messages(): number {
    return this.#messages;
  }

  /** The V8 heap limits each worker runs under (Node's `Worker.resourceLimits`). */
  resourceLimits(): NonNullable<Worker['resourceLimits']>[] {
    return this.#slots.map((s) => s.worker.resourceLimits ?? {});
  }

  /** Stops every worker; pending requests reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = new WorkerFailedError('the pool is closed');
    for (const slot of this.#slots) for (const p of slot.pending.values()) p.reject(closing);
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #spawn(setup: WorkerSetup): Promise<void> {
    const worker = new Worker(workerEntry(), { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    const slot: Slot = { worker, pending: new Map(), outbox: [] };
    this.#slots.push(slot);
    return new Promise<void>((resolveReady, rejectReady) => {
      let isReady = false;
      const answer = (msg: ResponseMessage): void => {
        const p = slot.pending.get(msg.seq);
        if (!p) return;
        slot.pending.delete(msg.seq);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(rebuild(msg.error));
      };
      worker.on('message', (msg: ResponseMessage | BatchResponseMessage | ReadyMessage) => {
        if ('ready' in msg) {
          isReady = true;
          if (msg.ready) resolveReady();
          else rejectReady(rebuild(msg.error));
          return;
        }
        if ('batch' in msg) for (const one of msg.batch) answer(one);
        else answer(msg);
      });
      worker.on('error', (err) => this.#fail(new WorkerFailedError(err.message, { cause: err }), isReady ? undefined : rejectReady));
      worker.on('exit', (code) => {
        if (!this.#closed) this.#fail(new WorkerFailedError(`a worker exited (code ${code})`), isReady ? undefined : rejectReady);
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

function rebuild(error: { code?: string; message: string }): Error {
  return error.code ? new EngineError(error.code, error.message) : new WorkerFailedError(error.message);
}
