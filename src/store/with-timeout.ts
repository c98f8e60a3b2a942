/** A wrapper that gives every request a time limit, scaled by the bytes it moves, and cancels it when the limit passes. */
import type { Backend } from './backend.js';
import { TimeoutError } from './errors.js';
import { linkedController } from './abort.js';
import { intercept, type Call } from './intercept.js';

/**
 * How long one try of a request may take: `baseMs + bytes / minBytesPerSecond` for requests that
 * move object bytes (a put: its size; a ranged get: the range; a whole get: `assumedGetBytes`),
 * `baseMs` for a step of a listing, `shortMs` for stat (HEAD) and delete. A get on a backend that
 * reports progress is timed by its transfer instead (see `withTimeout`).
 */
export interface TimeoutPolicy {
  /** Allowance for the round trips of any request that moves data or lists. Default 60 000. */
  baseMs?: number;
  /** The slowest transfer still taken for progress, in bytes/s. Default 64 KiB/s. */
  minBytesPerSecond?: number;
  /** Limit of a stat (HEAD) or delete, which move no object bytes. Default 30 000. */
  shortMs?: number;
  /**
   * Size assumed for a get of a whole object (its size is unknown until it answers), on a backend
   * that does not report progress. Default 32 MiB.
   */
  assumedGetBytes?: number;
}

/** Defaults of `TimeoutPolicy` (docs/backends.md repeats them). */
export const TIMEOUT_DEFAULTS = { baseMs: 60_000, minBytesPerSecond: 64 * 1024, shortMs: 30_000, assumedGetBytes: 32 * 1024 * 1024 } as const;

/** The limit of one try of `call` under `policy` (all fields resolved), in ms. */
export function requestTimeout(call: Pick<Call, 'op' | 'bytes' | 'range'>, policy: Required<TimeoutPolicy>): number {
  const scaled = (bytes: number) => policy.baseMs + Math.ceil((bytes / policy.minBytesPerSecond) * 1000);
  switch (call.op) {
    case 'put': return scaled(call.bytes ?? 0);
    case 'get': return scaled(call.range ? call.range.length : policy.assumedGetBytes);
    case 'stat':
    case 'delete': return policy.shortMs;
    default: return policy.baseMs;
  }
}

/**
 * Each request of `b` (and each step of a listing) must settle within its limit: `ms` for every
 * request when a number is given, else the limit `requestTimeout` computes from `policy`. When it
 * does not, its AbortSignal is aborted with a `TimeoutError` (so the backend can drop the
 * connection) and the call rejects with that `TimeoutError` at once, even if the backend ignores
 * the signal: the stuck promise is detached (its eventual result or error is swallowed) and no
 * timer outlives the call. `create` and `destroy` may legitimately take long and are not timed.
 *
 * A `get` under a `policy` on a backend that `reportsProgress` is timed by its transfer instead
 * (`progressDeadline`): it fails when no byte arrives for `baseMs`, or when it has run longer than
 * `baseMs` plus the time its bytes so far take at `minBytesPerSecond`. So a stalled answer is cut
 * after `baseMs`, whatever the object's size, and a large object that keeps coming is never cut.
 */
export function withTimeout(b: Backend, limit: number | TimeoutPolicy): Backend {
  const policy: Required<TimeoutPolicy> | undefined = typeof limit === 'number' ? undefined : { ...TIMEOUT_DEFAULTS, ...limit };
  if (typeof limit === 'number' && !(limit > 0)) throw new RangeError(`timeout must be > 0 ms, got ${limit}`);
  if (policy && !(policy.baseMs > 0 && policy.shortMs > 0 && policy.minBytesPerSecond > 0)) {
    throw new RangeError('timeout policy: baseMs, shortMs and minBytesPerSecond must be > 0');
  }
  const watchGets = policy !== undefined && b.capabilities.reportsProgress === true;
  return intercept(b, (call, run) => {
    if (call.op === 'create' || call.op === 'destroy') return run(call.signal);
    const controller = linkedController(call.signal);
    const started = performance.now();
    let last = started;
    let received = 0;
    // The time (performance.now) at which the try is given up, and why; recomputed when it comes.
    const deadline: () => { at: number; why: string } = watchGets && call.op === 'get'
      ? () => progressDeadline(policy, started, last, received)
      : (() => { const ms = policy ? requestTimeout(call, policy) : limit as number; return () => ({ at: started + ms, why: `took longer than ${ms} ms` }); })();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const check = () => {
        const { at, why } = deadline();
        const now = performance.now();
        if (now < at) { timer = setTimeout(check, Math.ceil(at - now)); return; }
        const err = new TimeoutError(`${b.name} ${call.op} ${call.key ?? ''}: ${why}`, { backend: b.name, key: call.key });
        controller.abort(err);
        reject(err);
      };
      timer = setTimeout(check, Math.max(0, Math.ceil(deadline().at - started)));
      const onProgress = (bytes: number) => {
        received += bytes;
        last = performance.now();
        call.onProgress?.(bytes);
      };
      let pending: Promise<unknown>;
      try {
        pending = call.op === 'get' ? run(controller.signal, onProgress) : run(controller.signal);
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

/**
 * When a get that started at `started`, last made progress at `last` and has received `received`
 * bytes is given up: `baseMs` after its last progress (a stall), or once it has run longer than
 * `baseMs` plus `received` bytes at `minBytesPerSecond` (too slow), whichever comes first.
 */
export function progressDeadline(policy: Required<TimeoutPolicy>, started: number, last: number, received: number): { at: number; why: string } {
  const stalled = last + policy.baseMs;
  const slow = started + policy.baseMs + (received / policy.minBytesPerSecond) * 1000;
  return stalled <= slow
    ? { at: stalled, why: `no byte arrived for ${policy.baseMs} ms (${received} bytes received)` }
    : { at: slow, why: `${received} bytes in ${Math.round(slow - started)} ms, slower than ${policy.minBytesPerSecond} bytes/s` };
}
