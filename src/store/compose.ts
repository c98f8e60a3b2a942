/** The one place where the store wrappers are stacked, in an order that makes each of them honest. */
import type { Backend } from './backend.js';
import { withAccounting, type RequestCounter } from './accounting.js';
import { readOnly } from './read-only.js';
import { withConcurrencyLimit } from './with-concurrency-limit.js';
import { withRateLimit } from './with-rate-limit.js';
import { withRetry, type RetryPolicy } from './with-retry.js';
import { withTimeout, type TimeoutPolicy } from './with-timeout.js';

export interface ComposeOptions {
  /** Most requests in flight, uploads and the rest together; default: `capabilities.maxConnections`. */
  concurrency?: number;
  /** Most `put`s in flight, with `downloadConcurrency` for the rest (two pools instead of one). */
  uploadConcurrency?: number;
  /** Most `get`/`list`/`stat`/`delete` requests in flight, with `uploadConcurrency`. */
  downloadConcurrency?: number;
  /** Retry policy, or `false` for none. Default: `withRetry`'s defaults. */
  retry?: RetryPolicy | false;
  /** One time limit for every request (per try); omitted or 0 for none. */
  timeoutMs?: number;
  /** Time limits scaled by the bytes each request moves (`withTimeout`); used when `timeoutMs` is not. */
  timeout?: TimeoutPolicy;
  /** Average put and get bytes per second, one budget for both; omitted or 0 for unlimited. */
  bytesPerSecond?: number;
  /** Average put bytes per second (0 = unlimited); with it or `downloadBytesPerSecond`, two budgets. */
  uploadBytesPerSecond?: number;
  /** Average get bytes per second (0 = unlimited). */
  downloadBytesPerSecond?: number;
  /** Refuse every write. */
  readOnly?: boolean;
  /** Count every request try into this (`withAccounting`), retries too. */
  counter?: RequestCounter;
  /** The backend speaks HTTP: the counter counts its HTTP requests (see `withAccounting`). */
  http?: boolean;
}

/**
 * Wraps `b`, outermost first:
 * readOnly → retry → rate limit → concurrency limit → timeout → accounting → `b`.
 * So a refused write never reaches the network; a backoff wait or a rate-limit wait holds no
 * connection slot; the timeout times one try on the wire, not time spent queued; and the
 * accounting, right on the backend, sees every try the retry layer makes.
 */
export function composeBackend(b: Backend, options: ComposeOptions = {}): Backend {
  let out = b;
  const counter = options.counter;
  if (counter) out = withAccounting(out, counter, { http: options.http });
  if (options.timeoutMs) out = withTimeout(out, options.timeoutMs);
  else if (options.timeout) out = withTimeout(out, options.timeout);
  if (options.uploadConcurrency !== undefined || options.downloadConcurrency !== undefined) {
    const all = options.concurrency ?? b.capabilities.maxConnections;
    out = withConcurrencyLimit(out, options.uploadConcurrency ?? all, options.downloadConcurrency ?? all);
  } else {
    out = withConcurrencyLimit(out, options.concurrency ?? b.capabilities.maxConnections);
  }
  if (options.uploadBytesPerSecond || options.downloadBytesPerSecond) {
    out = withRateLimit(out, options.uploadBytesPerSecond ?? 0, options.downloadBytesPerSecond ?? 0);
  } else if (options.bytesPerSecond) {
    out = withRateLimit(out, options.bytesPerSecond);
  }
  if (options.retry !== false) {
    const policy = options.retry ?? {};
    out = withRetry(out, counter ? { ...policy, onRetry: (info) => { counter.retries++; policy.onRetry?.(info); } } : policy);
  }
  if (options.readOnly) out = readOnly(out);
  return out;
}
