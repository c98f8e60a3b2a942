/** A wrapper that caps how many requests run at once against a backend (p-limit underneath). */
import pLimit from 'p-limit';
import type { Backend } from './backend.js';
import { intercept } from './intercept.js';

/**
 * At most `n` requests of `b` run at the same time; the rest wait in FIFO order. A listing holds
 * a slot only while it fetches its next entry, so a caller may read objects while it iterates.
 * `create` and `destroy` count as requests; `close` is never held back.
 */
export function withConcurrencyLimit(b: Backend, n: number): Backend {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${n}`);
  const limit = pLimit(n);
  return intercept(b, (call, run) => {
    call.signal?.throwIfAborted();
    return limit(() => {
      call.signal?.throwIfAborted(); // aborted while queued: do not start it
      return run(call.signal);
    });
  });
}
