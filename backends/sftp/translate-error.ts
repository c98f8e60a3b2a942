/** Turns ssh2's errors (SFTP status codes, socket errors, handshake failures) into cairn's typed errors. */
import {
  BackendError, NotFoundError, PermissionError, StoreMissingError, TimeoutError, TransientError,
} from '../../src/store/errors.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02), as ssh2 puts them in `err.code`. */
export const SFTP_STATUS = { NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, NO_CONNECTION: 6, CONNECTION_LOST: 7 } as const;

const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
// ssh2 fails pending requests with these code-less errors when the connection or channel ends.
const DISCONNECTED_MESSAGES = new Set(['No response from server', 'Not connected', 'Channel not open', 'Unable to start subsystem: sftp']);

interface Ssh2Error { code?: unknown; level?: unknown; message?: unknown }

/** True when `err` is the SFTP "no such file" status. */
export function isNoSuchFile(err: unknown): boolean {
  return (err as Ssh2Error | undefined)?.code === SFTP_STATUS.NO_SUCH_FILE;
}

/** The one mapping from ssh2 failures to cairn errors; `BackendError`s pass through unchanged. */
export function translateError(err: unknown, key?: string, what = 'sftp request'): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as Ssh2Error;
  const options = { backend: 'sftp', key, cause: err };
  const detail = typeof e.message === 'string' ? e.message : String(err);
  const where = key === undefined ? what : `${what} ${key}`;
  if (e.code === SFTP_STATUS.NO_SUCH_FILE) return new NotFoundError(`${where}: no such file`, options);
  if (e.code === SFTP_STATUS.PERMISSION_DENIED) return new PermissionError(`${where}: permission denied by the server`, options);
  if (e.code === SFTP_STATUS.NO_CONNECTION || e.code === SFTP_STATUS.CONNECTION_LOST) return new TransientError(`${where}: connection lost`, options);
  if (e.level === 'client-authentication') {
    return new PermissionError(`sftp: the server refused every key offered (${detail}); check the user name, identity= and the agent`, options);
  }
  if (e.level === 'client-timeout') return new TimeoutError(`sftp: connection timed out (${detail})`, options);
  if (typeof e.code === 'string' && TRANSIENT_ERRNO.has(e.code)) return new TransientError(`${where}: ${e.code} (${detail})`, options);
  if (e.level === 'client-socket' || DISCONNECTED_MESSAGES.has(detail)) return new TransientError(`${where}: connection lost (${detail})`, options);
  if (typeof e.code === 'string' && e.code === 'ENOTFOUND') return new BackendError(`sftp: unknown host (${detail})`, options);
  return new BackendError(`${where} failed: ${detail}`, options);
}

/** The root folder is missing: the store was never created or was destroyed. */
export function storeMissing(location: string, key?: string): StoreMissingError {
  return new StoreMissingError(`sftp store ${location} does not exist: create it first`, { backend: 'sftp', key });
}
