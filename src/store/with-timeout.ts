/** A wrapper that gives every request a time limit and cancels it when the limit passes. */
import type { Backend } from './backend.js';
import { TimeoutError } from './errors.js';
import { linkedController } from './abort.js';
import { intercept } from './intercept.js';

/**
 * Each request of `b` (and each step of a listing) must settle within `ms`. When it does not,
 * its AbortSignal is aborted with a `TimeoutError` (so the backend can drop the connection) and
 * the call rejects with that `TimeoutError` at once, even if the backend ignores the signal: the
 * stuck promise is detached (its eventual result or error is swallowed) and no timer outlives
 * the call. `create` and `destroy` may legitimately take long and are not timed.
 */
export function withTimeout(b: Backend, ms: number): Backend {
  if (!(ms > 0)) throw new RangeError(`timeout must be > 0 ms, got ${ms}`);
  return intercept(b, (call, run) => {
    if (call.op === 'create' || call.op === 'destroy') return run(call.signal);
    const controller = linkedController(call.signal);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new TimeoutError(`${b.name} ${call.op} ${call.key ?? ''} took longer than ${ms} ms`, { backend: b.name, key: call.key });
        controller.abort(err);
        reject(err);
      }, ms);
      let pending: Promise<unknown>;
      try {
        pending = run(controller.signal);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(resolve as (v: unknown) => void, reject).finally(() => {
        clearTimeout(timer);
        controller.dispose();
      }).catch(() => {}); // settled after the timeout: the outcome no longer matters
    });
  });
}
