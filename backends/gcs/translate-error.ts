/**
 * The one place where failures of @google-cloud/storage (its ApiError, gaxios and google-auth-library
 * errors, socket errors) become cairn's typed store errors.
 */
import {
  AlreadyExistsError, BackendError, InvalidRangeError, NotFoundError, PermissionError, TimeoutError, TransientError,
  RetainedObjectError, UnsupportedStoreError, retryAfterFromHeaders,
} from '../../src/store/errors.js';

/** Socket-level failures a retry may cure (server restarted, connection dropped, DNS hiccup). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  // The SDK's own integrity checks: bytes were damaged in transit; sending or fetching again may succeed.
  'CONTENT_DOWNLOAD_MISMATCH', 'FILE_NO_UPLOAD', 'FILE_NO_UPLOAD_DELETE', 'UPLOAD_MISMATCH', 'UPLOAD_MISMATCH_DELETE',
]);

interface ErrorShape {
  code?: unknown;
  status?: unknown;
  message?: unknown;
  errno?: unknown;
  response?: { status?: unknown; data?: unknown; headers?: unknown };
  cause?: unknown;
  /** node-fetch's FetchError kind ('request-timeout', 'body-timeout', 'system'...). */
  type?: unknown;
  /** gaxios keeps the fetch error it wraps here. */
  error?: unknown;
  /** ApiError: the service's error list (`reason` per entry). */
  errors?: unknown;
}

/** The first `reason` of the service's error list (ApiError), if any. */
function reasonOf(err: unknown): string | undefined {
  const list = (err as ErrorShape | null)?.errors;
  const first = Array.isArray(list) ? (list[0] as { reason?: unknown } | undefined) : undefined;
  return typeof first?.reason === 'string' ? first.reason : undefined;
}

/** True when node-fetch (under gaxios) gave up waiting: a timeout with no errno and no status. */
function isFetchTimeout(err: unknown, depth = 0): boolean {
  if (depth > 4 || err === null || typeof err !== 'object') return false;
  const e = err as ErrorShape;
  if (e.type === 'request-timeout' || e.type === 'body-timeout') return true;
  if (typeof e.message === 'string' && /^(network timeout at|Response timeout while trying to fetch)/.test(e.message)) return true;
  return isFetchTimeout(e.cause, depth + 1) || isFetchTimeout(e.error, depth + 1);
}

/** The HTTP status the error carries, if any. */
export function httpStatus(err: unknown): number | undefined {
  const e = (err ?? {}) as ErrorShape;
  for (const v of [e.code, e.status, e.response?.status]) if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}

/** The socket or SDK error code (a string), looking through `cause` chains. */
function errorCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const e = err as ErrorShape;
  if (typeof e.code === 'string') return e.code;
  if (typeof e.errno === 'string') return e.errno;
  return errorCode(e.cause, depth + 1);
}

/** True when google-auth-library refused or could not find credentials. */
function isAuthFailure(err: unknown): boolean {
  const e = (err ?? {}) as ErrorShape;
  const data = e.response?.data as { error?: unknown } | undefined;
  if (data?.error === 'invalid_grant' || data?.error === 'unauthorized_client') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Could not load the default credentials|invalid_grant|error:1E08010C|DECODER routines/.test(message);
}

/**
 * Maps an SDK failure to a store error: 404 → NotFoundError, 409/412 → AlreadyExistsError,
 * 401/403 and refused credentials → PermissionError, 416 → InvalidRangeError, 408/429/5xx but 501
 * and socket errors → TransientError (with the `Retry-After` the server sent), a fetch timeout
 * (no status, no errno) → TimeoutError, 501 → UnsupportedStoreError, anything else → BackendError. Callers that know more (a 404
 * meaning a missing bucket) check that first.
 */
export function translateError(err: unknown, key?: string): BackendError {
  if (err instanceof BackendError) return err;
  const options = { backend: 'gcs', key, cause: err };
  const status = httpStatus(err);
  const code = errorCode(err);
  const what = key === undefined ? 'gcs' : `gcs object ${key}`;
  const detail = status !== undefined ? `HTTP ${status}` : code ?? (err as Error)?.name ?? 'error';
  if (status === 403 && reasonOf(err) === 'retentionPolicyNotMet') {
    // A bucket retention policy or the object's own retention: not the credentials (compact postpones it).
    return new RetainedObjectError(`${what}: the object is under retention and cannot be deleted or replaced yet`, options);
  }
  if (status === 401 || status === 403 || isAuthFailure(err)) {
    return new PermissionError(`${what}: access refused (${detail}); check the credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login) and the bucket's IAM roles`, options);
  }
  if (status === 404) return new NotFoundError(`${what}: not found`, options);
  if (status === 409 || status === 412) return new AlreadyExistsError(`${what}: already exists (${detail})`, options);
  if (status === 416) return new InvalidRangeError(`${what}: range not satisfiable`, options);
  if (status === 501) return new UnsupportedStoreError(`${what}: the server does not implement this request (${detail})`, options);
  if (status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    const retryAfterMs = retryAfterFromHeaders((err as ErrorShape).response?.headers);
    return new TransientError(`${what}: server busy or failing (${detail})`, { ...options, retryAfterMs });
  }
  if (status === undefined && isFetchTimeout(err)) return new TimeoutError(`${what}: the request timed out`, options);
  if (status === undefined && code !== undefined && TRANSIENT_CODES.has(code)) {
    return new TransientError(`${what}: connection failed (${code})`, options);
  }
  const message = typeof (err as Error)?.message === 'string' ? (err as Error).message.split('\n')[0] : String(err);
  return new BackendError(`${what}: ${detail}: ${message}`, options);
}
