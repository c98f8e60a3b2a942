/**
 * The plumbing shared by wrappers: `intercept(inner, around)` builds a Backend whose every
 * request runs through `around`, so a wrapper states its policy once instead of per method.
 */
import type { Backend, ByteRange, ListEntry, OpOptions, PutOptions } from './backend.js';
import { linkedController } from './abort.js';

/** The requests a wrapper can intercept. `close` is never intercepted. */
export type OpName = 'get' | 'put' | 'delete' | 'list' | 'stat' | 'create' | 'destroy';

/** One request as a wrapper sees it. For `list`, one call is one step (`next()`) of the listing. */
export interface Call {
  op: OpName;
  /** The key, or the prefix for `list`; absent for `create`/`destroy`. */
  key?: string;
  /** Bytes sent (`put`); for `get` the caller learns the size from the result. */
  bytes?: number;
  /** The range asked for (`get`), when there is one. */
  range?: ByteRange;
  /** The caller's signal, if any. */
  signal?: AbortSignal;
  /** The caller's progress listener (`get`), if any. */
  onProgress?: (bytes: number) => void;
}

/**
 * Runs one request. `run(signal)` performs it on the inner backend with the given signal (pass
 * `call.signal` or a signal derived from it) and, for a get, the caller's progress listener or the
 * one given as `run`'s second argument; `around` may delay, repeat, refuse or time it.
 */
export type Around = <T>(call: Call, run: (signal?: AbortSignal, onProgress?: (bytes: number) => void) => Promise<T>) => Promise<T>;

/** A Backend that forwards to `inner`, running every request through `around`. */
export function intercept(inner: Backend, around: Around): Backend {
  return {
    name: inner.name,
    location: inner.location,
    capabilities: inner.capabilities,
    get: (key: string, range?: ByteRange, options?: OpOptions) =>
      around({ op: 'get', key, range, signal: options?.signal, onProgress: options?.onProgress },
        (signal, onProgress = options?.onProgress) => inner.get(key, range, { ...options, signal, onProgress })),
    put: (key: string, bytes: Uint8Array, options?: PutOptions & OpOptions) =>
      around({ op: 'put', key, bytes: bytes.length, signal: options?.signal }, (signal) => inner.put(key, bytes, { ...options, signal })),
    delete: (key: string, options?: OpOptions) =>
      around({ op: 'delete', key, signal: options?.signal }, (signal) => inner.delete(key, { ...options, signal })),
    stat: (key: string, options?: OpOptions) =>
      around({ op: 'stat', key, signal: options?.signal }, (signal) => inner.stat(key, { ...options, signal })),
    list: (prefix: string, options?: OpOptions) => interceptList(inner, around, prefix, options),
    create: (options) => around({ op: 'create' }, () => inner.create(options)),
    destroy: () => around({ op: 'destroy' }, () => inner.destroy()),
    close: () => inner.close(),
  };
}

/**
 * Each step of the listing is one intercepted call. The inner listing gets one signal for its
 * whole life; a step whose own signal aborts (a timeout) aborts the whole listing.
 */
async function* interceptList(inner: Backend, around: Around, prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
  const controller = linkedController(options?.signal);
  const iterator = inner.list(prefix, { ...options, signal: controller.signal })[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const step = await around({ op: 'list', key: prefix, signal: options?.signal }, (signal) => {
        const onAbort = () => controller.abort(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        return iterator.next().finally(() => signal?.removeEventListener('abort', onAbort));
      });
      if (step.done) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    controller.dispose();
    // An early stop (break, error) must release the inner listing's handles.
    if (!finished) await iterator.return?.();
  }
}
