/**
 * Google Cloud Storage backend (`gs://bucket/prefix?endpoint=…`): the registry imports this module
 * lazily, so @google-cloud/storage loads only when a gs:// URL is opened.
 */
import type { Backend } from '../../src/store/backend.js';
import { parseGcsUrl } from './config.js';
import { GcsBackend } from './gcs-backend.js';

export { GcsBackend } from './gcs-backend.js';
export { parseGcsUrl, type GcsConfig } from './config.js';
export { translateError } from './translate-error.js';

/**
 * Opens the store at `url` (see docs/backends/gcs.md for the options). Makes no request: a
 * missing bucket shows on the first call (StoreMissingError) or is made by `create()`.
 * Credentials come from the SDK's standard chain; `options.env` replaces process.env for
 * STORAGE_EMULATOR_HOST, GOOGLE_APPLICATION_CREDENTIALS and GOOGLE_CLOUD_PROJECT;
 * `options.requestTimeoutMs` sets the SDK's own per-request time limit (default 60 s) for its
 * JSON-API calls (stat, list, delete, uploads), which it cuts without an error code: the backend
 * reports that as a transient `TimeoutError`.
 */
export async function createGcsBackend(url: URL, options: { env?: NodeJS.ProcessEnv; requestTimeoutMs?: number } = {}): Promise<Backend> {
  const config = { ...parseGcsUrl(url, options.env ?? process.env), requestTimeoutMs: options.requestTimeoutMs };
  const location = `gs://${config.bucket}/${config.prefix}${config.endpoint ? ` (endpoint ${config.endpoint})` : ''}`;
  return new GcsBackend(config, location);
}
