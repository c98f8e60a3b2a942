/**
 * Request accounting: a wrapper that sits right on the bare backend (under retry, so every try is
 * seen) and counts requests by kind, the retries, and the object bytes sent and received.
 *
 * One "request" is one HTTP request for the object stores (s3, gcs, azure: counted where Node
 * starts it, so list pages, multipart parts and an SDK's follow-up requests are all seen), and
 * one Backend call for the others (fs, memory, sftp: a listing is one request however many
 * folders it reads). docs/backends.md gives the mapping per backend.
 */
import type { Backend, ByteRange, ListEntry, OpOptions, PutOptions } from './backend.js';
import { observeHttp } from './http-requests.js';

/** The kinds requests are counted by. `head` is `stat` (HTTP HEAD, or GET of metadata on GCS). */
export type RequestKind = 'get' | 'put' | 'list' | 'head' | 'delete';

/** What a run cost, as every command's `--json` result carries it under `backend`. */
export interface BackendUsage {
  requests: Record<RequestKind, number>;
  /** Tries repeated by the retry layer after a transient failure (their requests are in `requests`). */
  retries: number;
  /** Object bytes handed to the store by `put` tries (every try, including failed ones). */
  bytesUp: number;
  /** Object bytes received by successful `get`s. */
  bytesDown: number;
}

/** Live totals, added to by `withAccounting` and by the retry layer's `onRetry`. */
export class RequestCounter {
  readonly requests: Record<RequestKind, number> = { get: 0, put: 0, list: 0, head: 0, delete: 0 };
  retries = 0;
  bytesUp = 0;
  bytesDown = 0;

  /** Every request of every kind. */
  get total(): number {
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** A copy with exactly the fields of `BackendUsage`, in that order (the `--json` shape). */
  usage(): BackendUsage {
    const r = this.requests;
    return { requests: { get: r.get, put: r.put, list: r.list, head: r.head, delete: r.delete }, retries: this.retries, bytesUp: this.bytesUp, bytesDown: this.bytesDown };
  }
}

export interface AccountingOptions {
  /**
   * The backend speaks HTTP (s3, gcs, azure): count the HTTP requests each call actually sends,
   * not the calls. A call that sent none (refused before any I/O) then counts nothing.
   */
  http?: boolean;
}

type Op = 'get' | 'put' | 'list' | 'stat' | 'delete' | 'create' | 'destroy';

/** The kind an HTTP request with `method` counts as, serving a call of `op`. */
function kindOf(op: Op, method: string): RequestKind {
  switch (op) {
    case 'get': case 'put': case 'list': case 'delete': return op;
    case 'stat': return 'head';
    // create and destroy: by what the request does.
    default:
      if (method === 'HEAD') return 'head';
      if (method === 'GET') return 'list';
      if (method === 'DELETE' || op === 'destroy') return 'delete';
      return 'put';
  }
}

/** The kind a non-HTTP call counts as (one request per call). */
const CALL_KIND: Record<Op, RequestKind> = { get: 'get', put: 'put', list: 'list', stat: 'head', delete: 'delete', create: 'put', destroy: 'delete' };

/** `b`, counting into `counter` every request its calls send (see the module header for "request"). */
export function withAccounting(b: Backend, counter: RequestCounter, options: AccountingOptions = {}): Backend {
  /** Runs `work`; over HTTP, each request it sends is counted as it starts. */
  const observe = <T>(op: Op, work: () => Promise<T>): Promise<T> =>
    options.http ? observeHttp(({ method }) => { counter.requests[kindOf(op, method)]++; }, work) : work();
  /** One call: counted once unless HTTP requests are counted instead. */
  const run = <T>(op: Op, work: () => Promise<T>): Promise<T> => {
    if (!options.http) counter.requests[CALL_KIND[op]]++;
    return observe(op, work);
  };
  return {
    name: b.name,
    location: b.location,
    capabilities: b.capabilities,
    get: (key: string, range?: ByteRange, opts?: OpOptions) => run('get', async () => {
      const bytes = await b.get(key, range, opts);
      counter.bytesDown += bytes.length;
      return bytes;
    }),
    put: (key: string, bytes: Uint8Array, opts?: PutOptions & OpOptions) => run('put', () => {
      counter.bytesUp += bytes.length;
      return b.put(key, bytes, opts);
    }),
    delete: (key: string, opts?: OpOptions) => run('delete', () => b.delete(key, opts)),
    stat: (key: string, opts?: OpOptions) => run('stat', () => b.stat(key, opts)),
    list: (prefix: string, opts?: OpOptions) => countedList(b, prefix, opts, options.http === true ? undefined : counter, observe),
    create: (options) => run('create', () => b.create(options)),
    destroy: () => run('destroy', () => b.destroy()),
    close: () => b.close(),
  };
}

/**
 * Each step of the listing runs under `observe`, so every page it fetches over HTTP is counted;
 * without HTTP (`perCall` given) the listing counts as one request, when it starts.
 */
async function* countedList(b: Backend, prefix: string, options: OpOptions | undefined, perCall: RequestCounter | undefined,
  observe: <T>(op: Op, work: () => Promise<T>) => Promise<T>): AsyncIterable<ListEntry> {
  if (perCall) perCall.requests.list++;
  const iterator = b.list(prefix, options)[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const step = await observe('list', () => iterator.next());
      if (step.done) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    // An early stop (break, error) must release the inner listing's handles.
    if (!finished) await iterator.return?.();
  }
}
