/**
 * `openStore(location, options)`: the one way the CLI and the library's documented entry points
 * open a store: the backend the URL names, wrapped by `composeBackend` in its documented order,
 * with the limits the user chose or the defaults for that backend.
 */
import { openBackend, speaksHttp, type OpenOptions } from '../../backends/index.js';
import type { Backend, Capabilities } from './backend.js';
import { RequestCounter } from './accounting.js';
import { composeBackend } from './compose.js';
import { RETRY_DEFAULTS, type RetryPolicy } from './with-retry.js';
import { TIMEOUT_DEFAULTS, type TimeoutPolicy } from './with-timeout.js';

/** The limits a user controls (the CLI's global options set the same fields). */
export interface StoreLimits {
  /** Most `put`s in flight. Default: a quarter of the backend's `maxConnections` (at least 1). */
  uploadConnections?: number;
  /** Most `get`/`list`/`stat`/`delete` requests in flight. Default: the backend's `maxConnections`. */
  downloadConnections?: number;
  /** Average upload bytes per second; 0 (default) = unlimited. */
  uploadBytesPerSecond?: number;
  /** Average download bytes per second; 0 (default) = unlimited. */
  downloadBytesPerSecond?: number;
  /** How long one request is retried after transient failures before it fails; 0 = never retry. Default 15 min. */
  retryBudgetMs?: number;
  /**
   * Base time limit of one try of a request; a request moving n bytes gets `timeoutMs + n /
   * minBytesPerSecond`, a stat (HEAD) or delete `timeoutMs / 2`. Default 60 s.
   */
  timeoutMs?: number;
  /** The slowest transfer rate per request still taken for progress (scales timeouts). Default 64 KiB/s. */
  minBytesPerSecond?: number;
}

export interface StoreOptions extends OpenOptions, StoreLimits {
  /** Refuse every write (note: opening a repository still writes its lock, so the CLI does not set it). */
  readOnly?: boolean;
  /** Count into this counter (e.g. one shared by two stores); default: a new one, `store.counter`. */
  counter?: RequestCounter;
  /** Told before each retry wait (the CLI prints the first of a streak on stderr). */
  onRetry?: RetryPolicy['onRetry'];
  /** Told when a request that had failed succeeds on a later try. */
  onRecovered?: RetryPolicy['onRecovered'];
  /** Finer retry settings (backoff base and cap, seeded jitter, a signal); the budget is `retryBudgetMs`. */
  retry?: Omit<RetryPolicy, 'maxElapsedMs' | 'onRetry' | 'onRecovered'>;
  /** Finer timeout settings (assumed size of whole gets); the base is `timeoutMs`. */
  timeout?: Omit<TimeoutPolicy, 'baseMs' | 'minBytesPerSecond'>;
}

/** A store opened by `openStore`: a Backend, plus what it has cost so far and the limits in force. */
export interface Store extends Backend {
  /** Requests by kind, retries and bytes so far; `counter.usage()` is the `--json` `backend` object. */
  readonly counter: RequestCounter;
  /** The limits in force, defaults filled in. */
  readonly limits: Required<StoreLimits>;
}

/** The defaults of `StoreLimits` for a backend with these capabilities (docs/backends.md lists them). */
export function defaultLimits(capabilities: Capabilities): Required<StoreLimits> {
  return {
    uploadConnections: Math.max(1, Math.ceil(capabilities.maxConnections / 4)),
    downloadConnections: capabilities.maxConnections,
    uploadBytesPerSecond: 0,
    downloadBytesPerSecond: 0,
    retryBudgetMs: RETRY_DEFAULTS.maxElapsedMs,
    timeoutMs: TIMEOUT_DEFAULTS.baseMs,
    minBytesPerSecond: TIMEOUT_DEFAULTS.minBytesPerSecond,
  };
}

/**
 * Opens the backend `location` names (see `openBackend`) and wraps it (`composeBackend`):
 * readOnly → retry → rate limit → concurrency limit → timeout → accounting → backend.
 * Closing the result closes the backend. Use `openBackend` only for raw access without any of
 * these (tests, tools).
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  const backend = await openBackend(location, { env: options.env });
  const limits = { ...defaultLimits(backend.capabilities), ...definedOnly(options) };
  const counter = options.counter ?? new RequestCounter();
  const composed = composeBackend(backend, {
    uploadConcurrency: limits.uploadConnections,
    downloadConcurrency: limits.downloadConnections,
    uploadBytesPerSecond: limits.uploadBytesPerSecond,
    downloadBytesPerSecond: limits.downloadBytesPerSecond,
    retry: limits.retryBudgetMs > 0 ? { ...options.retry, maxElapsedMs: limits.retryBudgetMs, onRetry: options.onRetry, onRecovered: options.onRecovered } : false,
    timeout: { ...options.timeout, baseMs: limits.timeoutMs, shortMs: Math.max(1, Math.round(limits.timeoutMs / 2)), minBytesPerSecond: limits.minBytesPerSecond },
    readOnly: options.readOnly,
    counter,
    http: speaksHttp(location),
  });
  // The wrappers forward requests only; the fs store's cleanup of killed writers' temp files is
  // handed through here (never through a read-only store).
  const sweep = backend.removeStaleTempFiles?.bind(backend);
  return Object.assign(composed, { counter, limits }, sweep && !options.readOnly ? { removeStaleTempFiles: sweep } : {});
}

/** The `StoreLimits` fields of `options` that are set. */
function definedOnly(options: StoreLimits): StoreLimits {
  const out: StoreLimits = {};
  for (const name of ['uploadConnections', 'downloadConnections', 'uploadBytesPerSecond', 'downloadBytesPerSecond', 'retryBudgetMs', 'timeoutMs', 'minBytesPerSecond'] as const) {
    if (options[name] !== undefined) out[name] = options[name];
  }
  return out;
}
