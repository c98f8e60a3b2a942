/** A wrapper that caps how many requests run at once against a backend (p-limit underneath). */
import pLimit from 'p-limit';
import type { Backend } from './backend.js';
import { intercept } from './intercept.js';

/**
 * At most `n` requests of `b` run at the same time; the rest wait in FIFO order. With `downloads`
 * given, uploads (`put`) and everything else (`get`, `list`, `stat`, `delete`, `create`, `destroy`)
 * have separate pools of `n` and `downloads` slots, so a backup's uploads never starve its reads.
 * A listing holds a slot only while it fetches its next entry, so a caller may read objects while
 * it iterates. `close` is never held back.
 */
export function withConcurrencyLimit(b: Backend, n: number, downloads?: number): Backend {
  for (const v of downloads === undefined ? [n] : [n, downloads]) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${v}`);
  }
  const uploads = pLimit(n);
  const others = downloads === undefined ? uploads : pLimit(downloads);
  return intercept(b, (call, run) => {
    call.signal?.throwIfAborted();
    return (call.op === 'put' ? uploads : others)(() => {
      call.signal?.throwIfAborted(); // aborted while queued: do not start it
      return run(call.signal);
    });
  });
}
