/**
 * The one error vocabulary of the store layer: every backend turns its SDK's failures
 * into these classes (in its own `translateError()`), and callers test `instanceof` or
 * `code`, never message text.
 */

/** Stable, machine-readable error codes. Never renamed once released. */
export type StoreErrorCode =
  | 'ENOTFOUND_KEY'
  | 'EALREADY_EXISTS'
  | 'EPERMISSION'
  | 'EINVALID_RANGE'
  | 'EINVALID_KEY'
  | 'ETRANSIENT'
  | 'ETIMEOUT'
  | 'EREADONLY'
  | 'ENO_REPOSITORY_STORE'
  | 'ENO_PARENT_FOLDER'
  | 'ENO_SPACE'
  | 'EINVALID_URL'
  | 'ESTORE_UNSUPPORTED'
  | 'EARCHIVED'
  | 'ERETAINED'
  | 'EBACKEND';

export interface StoreErrorOptions {
  /** Name of the backend that failed, e.g. `fs`, `s3`. */
  backend?: string;
  /** The key the operation was about, when there is one. */
  key?: string;
  /** The original error (SDK, errno, HTTP), kept for diagnosis. */
  cause?: unknown;
  /** How long the service asked us to wait before trying again (its `Retry-After`), in ms. */
  retryAfterMs?: number;
}

/** Base class of every store error. `transient` says whether a retry may succeed. */
export class BackendError extends Error {
  readonly code: StoreErrorCode = 'EBACKEND';
  readonly transient: boolean = false;
  readonly backend: string | undefined;
  readonly key: string | undefined;
  /** The wait the service asked for (`Retry-After`), in ms; `withRetry` waits at least this long. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.backend = options.backend;
    this.key = options.key;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The key does not exist (get of a missing object). */
export class NotFoundError extends BackendError {
  override readonly code = 'ENOTFOUND_KEY';
}

/** `put(..., { ifAbsent: true })` found the key already present. */
export class AlreadyExistsError extends BackendError {
  override readonly code = 'EALREADY_EXISTS';
}

/** Credentials were refused or the caller lacks rights on the object or bucket. */
export class PermissionError extends BackendError {
  override readonly code = 'EPERMISSION';
}

/** A range outside what the API accepts (negative offset or length). */
export class InvalidRangeError extends BackendError {
  override readonly code = 'EINVALID_RANGE';
}

/** A key that breaks the key grammar (see `keys.ts`); it is rejected, never rewritten. */
export class InvalidKeyError extends BackendError {
  override readonly code = 'EINVALID_KEY';
}

/** A failure that may succeed if tried again: timeouts, 429, 5xx, connection resets. */
export class TransientError extends BackendError {
  override readonly code: StoreErrorCode = 'ETRANSIENT';
  override readonly transient = true;
}

/** A request that did not finish within its time limit; it was cancelled. */
export class TimeoutError extends TransientError {
  override readonly code = 'ETIMEOUT';
}

/** A write or delete through a read-only backend. */
export class ReadOnlyError extends BackendError {
  override readonly code = 'EREADONLY';
}

/** The bucket, container or root folder of the store does not exist (run `create()` first). */
export class StoreMissingError extends BackendError {
  override readonly code = 'ENO_REPOSITORY_STORE';
}

/** `create({ parents: false })`: the folder that would hold the store's root folder does not exist (fs, sftp). */
export class ParentMissingError extends BackendError {
  override readonly code = 'ENO_PARENT_FOLDER';
}

/** The disk, quota or account is full: nothing more can be written until space is freed. */
export class NoSpaceError extends BackendError {
  override readonly code = 'ENO_SPACE';
}

/** A repository URL that names no known backend, or that the backend cannot use as written. */
export class InvalidUrlError extends BackendError {
  override readonly code = 'EINVALID_URL';
}

/** True for errors a retry may cure. Unknown errors are not transient. */
export function isTransient(err: unknown): boolean {
  return err instanceof BackendError && err.transient;
}

/**
 * Milliseconds from `now` that an HTTP `Retry-After` value asks for: delay-seconds (`120`) or an
 * HTTP date. `undefined` when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) || !/[a-z]/i.test(text) ? undefined : Math.max(0, at - now);
}

/**
 * The wait asked for by the response headers of a failed request (`Retry-After`, or Azure's
 * `retry-after-ms` / `x-ms-retry-after-ms`), in ms. `headers` is a plain object (any case of the
 * names) or a Headers-like object with `get()`; anything else gives `undefined`.
 */
export function retryAfterFromHeaders(headers: unknown, now: number = Date.now()): number | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const read = (name: string): unknown => {
    const h = headers as { get?: unknown } & Record<string, unknown>;
    if (typeof h.get === 'function') return (h.get as (n: string) => unknown).call(headers, name) ?? undefined;
    const found = Object.keys(h).find((k) => k.toLowerCase() === name);
    return found === undefined ? undefined : h[found];
  };
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(read(name));
    if (read(name) !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  }
  return parseRetryAfter(read('retry-after'), now);
}

/**
 * The store lacks a feature cairn needs (conditional create on an S3-compatible store that answers
 * 501 to `If-None-Match`, or ignores it): permanent; the message names the feature.
 */
export class UnsupportedStoreError extends BackendError {
  override readonly code = 'ESTORE_UNSUPPORTED';
}

/**
 * The object is in an archive tier (S3 GLACIER / DEEP_ARCHIVE, Azure Archive) and cannot be read
 * until it is restored or rehydrated: not a credentials problem, and no retry helps.
 */
export class ArchivedObjectError extends BackendError {
  override readonly code = 'EARCHIVED';
}

/**
 * The object is protected by a retention rule (S3 Object Lock, an Azure immutability policy or legal
 * hold, a GCS retention policy) and cannot be deleted or overwritten yet: not a credentials problem.
 */
export class RetainedObjectError extends BackendError {
  override readonly code = 'ERETAINED';
  /** When the retention ends, if the store said (a legal hold or a bucket-wide policy may not). */
  readonly retainUntil: Date | undefined;

  constructor(message: string, options: StoreErrorOptions & { retainUntil?: Date } = {}) {
    super(message, options);
    this.retainUntil = options.retainUntil;
  }
}
