/** The fs backend's one translation from Node's errno errors to the store's error vocabulary. */
import {
  AlreadyExistsError, BackendError, NoSpaceError, NotFoundError, PermissionError, TransientError,
} from '../../src/store/errors.js';

const BACKEND = 'fs';

/** Errno codes that a later try may not meet: descriptor or lock pressure, interrupted calls. */
const TRANSIENT = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'EIO']);

/** The errno code of a Node system error, if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps a Node fs error met while doing `op` on `key` to a typed store error, keeping the
 * original as `cause`. Store errors pass through unchanged; an abort's reason is rethrown as is.
 */
export function translateError(err: unknown, op: string, key?: string): Error {
  if (err instanceof BackendError) return err;
  if ((err as Error | null)?.name === 'AbortError') return err as Error;
  const errno = errnoOf(err);
  const what = `fs ${op}${key === undefined ? '' : ` ${key}`}`;
  const options = { backend: BACKEND, key, cause: err };
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new NotFoundError(`${what}: no such object`, options);
    case 'EEXIST':
      return new AlreadyExistsError(`${what}: object exists`, options);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new PermissionError(`${what}: permission denied (${errno})`, options);
    case 'ENOSPC':
    case 'EDQUOT':
      return new NoSpaceError(`${what}: the disk or quota is full (${errno})`, options);
    default:
      if (errno && TRANSIENT.has(errno)) return new TransientError(`${what}: ${errno}, try again`, options);
      return new BackendError(`${what} failed${errno ? ` (${errno})` : ''}`, options);
  }
}
