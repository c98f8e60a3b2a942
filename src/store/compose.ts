/** The one place where the store wrappers are stacked, in an order that makes each of them honest. */
import type { Backend } from './backend.js';
import { readOnly } from './read-only.js';
import { withConcurrencyLimit } from './with-concurrency-limit.js';
import { withRateLimit } from './with-rate-limit.js';
import { withRetry, type RetryPolicy } from './with-retry.js';
import { withTimeout } from './with-timeout.js';

export interface ComposeOptions {
  /** Most requests in flight; default: the backend's `capabilities.maxConnections`. */
  concurrency?: number;
  /** Retry policy, or `false` for none. Default: `withRetry`'s defaults. */
  retry?: RetryPolicy | false;
  /** Time limit per request (per try); omitted or 0 for none. */
  timeoutMs?: number;
  /** Average put/get bytes per second; omitted or 0 for unlimited. */
  bytesPerSecond?: number;
  /** Refuse every write. */
  readOnly?: boolean;
}

/**
 * Wraps `b`, outermost first: readOnly → retry → rate limit → concurrency limit → timeout → `b`.
 * So a refused write never reaches the network; a backoff wait or a rate-limit wait holds no
 * connection slot; and the timeout times one try on the wire, not time spent queued.
 */
export function composeBackend(b: Backend, options: ComposeOptions = {}): Backend {
  let out = b;
  if (options.timeoutMs) out = withTimeout(out, options.timeoutMs);
  out = withConcurrencyLimit(out, options.concurrency ?? b.capabilities.maxConnections);
  if (options.bytesPerSecond) out = withRateLimit(out, options.bytesPerSecond);
  if (options.retry !== false) out = withRetry(out, options.retry ?? {});
  if (options.readOnly) out = readOnly(out);
  return out;
}
