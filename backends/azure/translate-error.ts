/** Turns @azure/storage-blob's errors (RestError with status and Azure error code, socket errors) into cairn's typed errors. */
import {
  AlreadyExistsError, ArchivedObjectError, BackendError, NotFoundError, PermissionError, RetainedObjectError, StoreMissingError,
  TimeoutError, TransientError, retryAfterFromHeaders,
} from '../../src/store/errors.js';

interface AzureError { statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown; details?: { errorCode?: unknown }; response?: { headers?: unknown } }

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
// core-rest-pipeline reports network failures with these codes and no status.
const TRANSIENT_CODES = new Set(['REQUEST_SEND_ERROR', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ServerBusy', 'OperationTimedOut', 'InternalError']);
// Re-creating a container Azure is still deleting answers 409 for up to ~30 s.
const TRANSIENT_CONFLICTS = new Set(['ContainerBeingDeleted', 'BlobBeingRehydrated']);

// Writes and deletes refused by version-level or container-level WORM protection.
const IMMUTABLE_CODES = new Set(['BlobImmutableDueToPolicy', 'BlobImmutableDueToLegalHold', 'ContainerImmutableDueToPolicy']);

/** Azure's error code (`BlobNotFound`, `ContainerNotFound`, ...), from the body or the x-ms-error-code header. */
export function azureErrorCode(err: unknown): string | undefined {
  const e = (err ?? {}) as AzureError;
  const code = e.details?.errorCode ?? e.code;
  return typeof code === 'string' ? code : undefined;
}

// @azure/identity's failures: no credential in the chain could sign in, or Entra ID refused it.
const SIGN_IN_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

/**
 * The one mapping from Azure SDK failures to cairn errors; `BackendError`s pass through unchanged.
 * `auth` (how the store signs in) picks what a refusal tells the user to check.
 */
export function translateError(err: unknown, key: string | undefined, location: string, auth: 'shared' | 'entra' = 'shared'): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as AzureError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const code = azureErrorCode(err);
  const options = { backend: 'azure', key, cause: err };
  const what = key === undefined ? location : `${key} in ${location}`;
  if (typeof e.name === 'string' && SIGN_IN_ERRORS.has(e.name)) {
    // Entra ID busy or failing: a later try may get a token.
    if (status !== undefined && TRANSIENT_STATUS.has(status)) return new TransientError(`azure ${what}: Microsoft Entra ID sign-in failed (${e.name} ${status})`, options);
    return new PermissionError(`azure ${what}: Microsoft Entra ID sign-in failed (${e.name}${status !== undefined ? ` ${status}` : ''}): set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE), use a managed identity, or run "az login"; or give AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN`, options);
  }
  const detail = `${status ?? ''} ${code ?? ''}`.trim() || String(e.message ?? err);
  if (code === 'ContainerNotFound') return new StoreMissingError(`azure container of ${location} does not exist: create it first`, options);
  if (code !== undefined && TRANSIENT_CONFLICTS.has(code)) return new TransientError(`azure ${what}: ${detail}`, options);
  if (status === 404) return new NotFoundError(`azure: no object ${what}`, options);
  // 409s that are not "exists": a read of an Archive-tier blob, a write or delete of a WORM-protected one.
  if (code === 'BlobArchived') {
    return new ArchivedObjectError(`azure ${what}: the blob is in the Archive tier and must be rehydrated (set its tier to Cool or Hot) before it can be read`, options);
  }
  if (code !== undefined && IMMUTABLE_CODES.has(code)) {
    return new RetainedObjectError(`azure ${what}: the blob is protected by an immutability policy or legal hold (${code}) and cannot be changed or deleted yet`, options);
  }
  if (status === 409 || status === 412) return new AlreadyExistsError(`azure: object ${what} exists (${detail})`, options);
  if (status === 401 || status === 403) {
    const check = auth === 'entra'
      ? 'check that the signed-in identity holds a data role on the container (Storage Blob Data Contributor)'
      : 'check the connection string, key or SAS token';
    return new PermissionError(`azure ${what}: access refused (${detail}); ${check}`, options);
  }
  if (e.name === 'AbortError' || code === 'ETIMEDOUT') return new TimeoutError(`azure ${what}: request timed out`, options);
  // 501 (and any status not listed) is permanent: a retry cannot make the server implement it.
  if ((status !== undefined && TRANSIENT_STATUS.has(status)) || (code !== undefined && TRANSIENT_CODES.has(code))) {
    return new TransientError(`azure ${what}: ${detail}`, { ...options, retryAfterMs: retryAfterFromHeaders(e.response?.headers) });
  }
  return new BackendError(`azure ${what} failed: ${detail}`, options);
}
