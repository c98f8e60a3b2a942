/** A wrapper that retries transient failures with exponential backoff and full jitter. */
import type { Backend, ByteRange, ListEntry, OpOptions, PutOptions } from './backend.js';
import { AlreadyExistsError, BackendError, isTransient } from './errors.js';
import { linkedController, sleep } from './abort.js';
import { compareKeys } from './keys.js';

export interface RetryPolicy {
  /** Total tries per request, the first included. Default: unlimited (the time budget decides). */
  maxAttempts?: number;
  /** Base of the backoff: the cap before try k+1 is `min(maxDelayMs, baseDelayMs · 2^(k-1))`. Default 500. */
  baseDelayMs?: number;
  /** Longest single wait chosen by the backoff (a longer `Retry-After` still wins). Default 60 000. */
  maxDelayMs?: number;
  /**
   * The retry budget: give up once the next wait would end more than this long after the first
   * try began (for a listing: after the last entry it yielded). Default 900 000 (15 min, as restic).
   */
  maxElapsedMs?: number;
  /** Aborts every wait of every request (e.g. on shutdown); each request's own signal does too. */
  signal?: AbortSignal;
  /** Uniform numbers in [0, 1) for the jitter; a seeded one makes tests repeatable. */
  random?: () => number;
  /** Told before each wait, e.g. to log "retrying put data/… in 812 ms". */
  onRetry?: (info: RetryInfo) => void;
  /** Told when a request that had failed succeeds on a later try (a listing: yields again or ends). */
  onRecovered?: (info: RecoveredInfo) => void;
}

/** A request that succeeded after `retries` retries, `elapsedMs` after its first try began. */
export interface RecoveredInfo {
  op: string;
  key?: string;
  retries: number;
  elapsedMs: number;
}

/** One retry about to happen: the failed try's number and error, and the wait before the next. */
export interface RetryInfo {
  op: string;
  key?: string;
  attempt: number;
  delayMs: number;
  error: unknown;
  /** Time since the request's first try began (a listing: since it last yielded), in ms. */
  elapsedMs: number;
  /** The retry budget (`maxElapsedMs`), so a listener can say how long retries may go on. */
  budgetMs: number;
}

/** Defaults of `RetryPolicy`, stated once (docs/backends.md repeats them). */
export const RETRY_DEFAULTS = { maxAttempts: Infinity, baseDelayMs: 500, maxDelayMs: 60_000, maxElapsedMs: 15 * 60_000 } as const;

interface Resolved extends Required<Omit<RetryPolicy, 'signal' | 'onRetry' | 'onRecovered'>> {
  signal?: AbortSignal;
  onRetry?: RetryPolicy['onRetry'];
  onRecovered?: RetryPolicy['onRecovered'];
}

/**
 * `b` with each request retried while it fails with a transient error (`isTransient`), waiting
 * a random time in [0, cap] ("full jitter") before each new try, or longer when the error carries
 * the service's `Retry-After` (`retryAfterMs`). Permanent errors (not found, permission, invalid
 * key, 501…) are thrown at once; when the budget (time, or tries if limited) is spent, the last
 * error is thrown.
 * A listing that fails part-way resumes after the last key it yielded (listings are sorted).
 * `put` with `ifAbsent`: when a try that failed transiently had in fact stored the object, the
 * next try meets `AlreadyExistsError`; the wrapper then reads the object back and reports success
 * only if it holds exactly our bytes (callers put unique content in conditional objects).
 */
export function withRetry(b: Backend, policy: RetryPolicy = {}): Backend {
  const p: Resolved = {
    maxAttempts: policy.maxAttempts ?? RETRY_DEFAULTS.maxAttempts,
    baseDelayMs: policy.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs,
    maxDelayMs: policy.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs,
    maxElapsedMs: policy.maxElapsedMs ?? RETRY_DEFAULTS.maxElapsedMs,
    random: policy.random ?? Math.random,
    signal: policy.signal,
    onRetry: policy.onRetry,
    onRecovered: policy.onRecovered,
  };
  const retrying = <T>(op: string, key: string | undefined, signal: AbortSignal | undefined, fn: (attempt: number) => Promise<T>) =>
    retry(p, op, key, signal, fn);
  return {
    name: b.name,
    location: b.location,
    capabilities: b.capabilities,
    get: (key: string, range?: ByteRange, options?: OpOptions) => retrying('get', key, options?.signal, () => b.get(key, range, options)),
    put: (key: string, bytes: Uint8Array, options?: PutOptions & OpOptions) => {
      let hadTransientFailure = false;
      return retrying('put', key, options?.signal, async (attempt) => {
        hadTransientFailure ||= attempt > 1;
        try {
          await b.put(key, bytes, options);
        } catch (err) {
          if (!(options?.ifAbsent && hadTransientFailure && err instanceof AlreadyExistsError)) throw err;
          const stored = await b.get(key, undefined, options);
          if (stored.length !== bytes.length || !Buffer.from(stored).equals(bytes)) throw err;
        }
      });
    },
    delete: (key: string, options?: OpOptions) => retrying('delete', key, options?.signal, () => b.delete(key, options)),
    stat: (key: string, options?: OpOptions) => retrying('stat', key, options?.signal, () => b.stat(key, options)),
    list: (prefix: string, options?: OpOptions) => resumableList(b, p, prefix, options),
    create: (options) => retrying('create', undefined, undefined, () => b.create(options)),
    destroy: () => retrying('destroy', undefined, undefined, () => b.destroy()),
    close: () => b.close(),
  };
}

async function retry<T>(p: Resolved, op: string, key: string | undefined, signal: AbortSignal | undefined,
  fn: (attempt: number) => Promise<T>): Promise<T> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn(attempt);
      if (attempt > 1) p.onRecovered?.({ op, key, retries: attempt - 1, elapsedMs: performance.now() - started });
      return result;
    } catch (err) {
      if (!isTransient(err) || attempt >= p.maxAttempts || signal?.aborted || p.signal?.aborted) throw err;
      const delayMs = backoff(p, attempt, err);
      const elapsedMs = performance.now() - started;
      if (elapsedMs + delayMs > p.maxElapsedMs) throw err;
      p.onRetry?.({ op, key, attempt, delayMs, error: err, elapsedMs, budgetMs: p.maxElapsedMs });
      await wait(delayMs, signal, p.signal);
    }
  }
}

/** Re-lists after a transient failure, skipping every key up to the last one already yielded. */
async function* resumableList(b: Backend, p: Resolved, prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
  let last: string | undefined;
  let failures = 0;
  let started = performance.now();
  const recovered = () => {
    if (failures > 0) p.onRecovered?.({ op: 'list', key: prefix, retries: failures, elapsedMs: performance.now() - started });
    failures = 0;
  };
  for (;;) {
    try {
      for await (const entry of b.list(prefix, options)) {
        if (last !== undefined && compareKeys(entry.key, last) <= 0) continue;
        last = entry.key;
        recovered();
        started = performance.now();
        yield entry;
      }
      recovered();
      return;
    } catch (err) {
      failures += 1;
      if (!isTransient(err) || failures >= p.maxAttempts || options?.signal?.aborted || p.signal?.aborted) throw err;
      const delayMs = backoff(p, failures, err);
      const elapsedMs = performance.now() - started;
      if (elapsedMs + delayMs > p.maxElapsedMs) throw err;
      p.onRetry?.({ op: 'list', key: prefix, attempt: failures, delayMs, error: err, elapsedMs, budgetMs: p.maxElapsedMs });
      await wait(delayMs, options?.signal, p.signal);
    }
  }
}

/** The wait before try `attempt + 1`: full jitter under the exponential cap, at least the `Retry-After`. */
function backoff(p: Resolved, attempt: number, err: unknown): number {
  const cap = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(attempt - 1, 52));
  const jittered = Math.floor(p.random() * cap);
  return Math.max(jittered, err instanceof BackendError ? err.retryAfterMs ?? 0 : 0);
}

/** Sleeps `ms`, cut short by either the request's signal or the policy's. */
async function wait(ms: number, request?: AbortSignal, policy?: AbortSignal): Promise<void> {
  const controller = linkedController(request);
  const onPolicyAbort = () => controller.abort(policy?.reason);
  if (policy?.aborted) onPolicyAbort();
  else policy?.addEventListener('abort', onPolicyAbort, { once: true });
  try {
    await sleep(ms, controller.signal);
  } finally {
    controller.dispose();
    policy?.removeEventListener('abort', onPolicyAbort);
  }
}
