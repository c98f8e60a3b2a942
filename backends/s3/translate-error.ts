/** Turns the AWS SDK's failures (S3 error codes, HTTP statuses, socket errors) into cairn's typed errors. */
import {
  AlreadyExistsError, BackendError, NotFoundError, PermissionError, StoreMissingError, TimeoutError, TransientError,
  UnsupportedStoreError, ArchivedObjectError, retryAfterFromHeaders,
} from '../../src/store/errors.js';

interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  /** The raw HTTP response (a hidden field the SDK sets on service errors). */
  $response?: { headers?: unknown };
}

const TRANSIENT_CODES = new Set([
  'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeTooSkewed',
  'ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'TooManyRequestsException', 'OperationAborted',
]);
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET',
]);
const PERMISSION_CODES = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired',
  'AllAccessDisabled', 'AccountProblem', 'InvalidSecurity',
]);

/** What the failed call was doing, for the message and for the 409/412 rule of conditional puts. */
export interface ErrorContext {
  op: string;
  key?: string;
  bucket: string;
  ifAbsent?: boolean;
}

/** The one mapping from AWS SDK failures to cairn errors; `BackendError`s pass through unchanged. */
export function translateError(err: unknown, ctx: ErrorContext): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as SdkError;
  const options = { backend: 's3', key: ctx.key, cause: err };
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode;
  const detail = typeof e.message === 'string' && e.message ? e.message : name || String(err);
  const where = ctx.key === undefined ? `s3 ${ctx.op}` : `s3 ${ctx.op} ${ctx.key}`;

  if (name === 'NoSuchBucket') {
    return new StoreMissingError(`s3: bucket "${ctx.bucket}" does not exist (create the store first)`, options);
  }
  if (name === 'ConditionalRequestConflict') {
    // AWS: a conditional write raced with another write of the same key, and "you can retry the
    // request"; the retry then gets 412 if the other write created the object (withRetry reads it back).
    return new TransientError(`${where}: ${name} (${detail})`, options);
  }
  if (ctx.ifAbsent && (status === 412 || status === 409 || name === 'PreconditionFailed')) {
    return new AlreadyExistsError(`${where}: the object already exists`, options);
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return new NotFoundError(`${where}: no such object`, options);
  if (name === 'InvalidObjectState') {
    // 403 on a GET of a GLACIER / DEEP_ARCHIVE object (e.g. moved there by a lifecycle rule): not the credentials.
    return new ArchivedObjectError(`${where}: the object is in an archive storage class and must be restored before it can be read (aws s3api restore-object), or moved back by a lifecycle rule`, options);
  }
  if (name === 'RequestTimeTooSkewed') {
    // A 403, but not about access: this machine's clock is over 15 minutes off. The SDK has already
    // taken the server's time from this answer (its clock offset), so the next try is signed right.
    return new TransientError(`${where}: this machine's clock differs from the storage's by over 15 minutes (RequestTimeTooSkewed); retrying with the storage's time`, options);
  }
  if (PERMISSION_CODES.has(name) || status === 403) {
    return new PermissionError(`s3: access to bucket "${ctx.bucket}" refused (${name || status}): check the credentials and the bucket policy`, options);
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new PermissionError('s3: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE', options);
  }
  if (name === 'TimeoutError') return new TimeoutError(`${where}: timed out (${detail})`, options);
  if (name === 'AbortError') return new BackendError(`${where}: aborted`, options);
  if (name === 'NotImplemented' || status === 501) {
    if (ctx.ifAbsent) {
      return new UnsupportedStoreError(`${where}: the store does not support conditional writes (If-None-Match: *, ${name || 'HTTP 501'}); cairn needs them to keep writers apart`, options);
    }
    return new UnsupportedStoreError(`${where}: the store does not implement this request (${name || 'HTTP 501'}); it is not S3-compatible enough for cairn`, options);
  }
  if (TRANSIENT_CODES.has(name) || status === 429 || (status !== undefined && status >= 500)) {
    const retryAfterMs = retryAfterFromHeaders(e.$response?.headers);
    return new TransientError(`${where}: ${name || 'HTTP ' + String(status)} (${detail})`, { ...options, retryAfterMs });
  }
  if (TRANSIENT_ERRNO.has(code) || TRANSIENT_ERRNO.has(name) || /socket hang up|ECONNRESET|ECONNREFUSED/.test(detail)) {
    return new TransientError(`${where}: ${code || 'connection lost'} (${detail})`, options);
  }
  if (code === 'ENOTFOUND') return new BackendError(`s3: unknown endpoint host (${detail})`, options);
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    const headers = (e.$response?.headers ?? {}) as Record<string, unknown>;
    const region = typeof headers['x-amz-bucket-region'] === 'string' ? ` ${headers['x-amz-bucket-region']}` : '';
    return new BackendError(`s3: bucket "${ctx.bucket}" is in another region${region ? ` (${region.trim()})` : ''}: add ?region=${region.trim() || '…'} to the URL (${name || status})`, options);
  }
  return new BackendError(`${where} failed: ${name ? name + ': ' : ''}${detail}`, options);
}
