/**
 * The URL → backend registry: an explicit table of schemes, each loading its backend module
 * with a dynamic import only when used, so a cloud SDK is loaded only for its own scheme.
 * A plain path (or `file://`) means the fs backend.
 */
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/store/backend.js';
import { BackendError, InvalidUrlError } from '../src/store/errors.js';

export interface OpenOptions {
  /** Environment for credentials and settings; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

interface Scheme {
  /** Builds the backend for a parsed URL. */
  load: (url: URL, options: OpenOptions) => Promise<Backend>;
  /** The npm package the backend needs, named in the "install X" hint when it is missing. */
  sdk?: string;
  /** It talks to its store over HTTP: request accounting counts its HTTP requests. */
  http?: boolean;
}

/** One line per scheme. Remote backends add theirs here (`sftp:`, `s3:`, `gs:`, `az:`). */
const SCHEMES: Record<string, Scheme> = {
  'file:': { load: async (url) => (await import('./fs/index.js')).createFsBackend(filePath(url)) },
  'memory:': { load: async (url) => (await import('./memory/index.js')).createMemoryBackend(url.href) },
  's3:': { load: async (url, options) => (await import('./s3/index.js')).createS3Backend(url, options), sdk: '@aws-sdk/client-s3', http: true },
  'sftp:': { load: async (url, options) => (await import('./sftp/index.js')).createSftpBackend(url, options), sdk: 'ssh2' },
  'az:': { load: async (url, options) => (await import('./azure/index.js')).createAzureBackend(url, options), sdk: '@azure/storage-blob', http: true },
  'gs:': { load: async (url, options) => (await import('./gcs/index.js')).createGcsBackend(url, options), sdk: '@google-cloud/storage', http: true },
};

/** The local path of a `file:` URL; a URL naming another host is refused. */
function filePath(url: URL): string {
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new InvalidUrlError(`${redactUrl(url.href)} is not a local path (use file:///absolute/path)`, { cause: err });
  }
}

/** True when `location` starts with a URL scheme (two letters or more, so `C:\…` stays a path). */
function hasScheme(location: string): boolean {
  return /^[a-z][a-z0-9+.-]+:/i.test(location);
}

/**
 * Opens the backend that `location` names: a plain path or `file:///path` (fs), `memory:`
 * (a new, empty in-memory store on each call), or a scheme a remote backend registered.
 * Throws `InvalidUrlError` for an unknown scheme or a malformed URL, and a `BackendError`
 * saying which package to install when a backend's SDK is missing. Nothing is contacted
 * until the backend's first request (backends may validate their settings here).
 */
export async function openBackend(location: string, options: OpenOptions = {}): Promise<Backend> {
  if (!hasScheme(location)) {
    if (location === '') throw new InvalidUrlError('empty repository location');
    return (await import('./fs/index.js')).createFsBackend(location);
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch (err) {
    throw new InvalidUrlError(`malformed repository URL ${redactUrl(location)}`, { cause: err });
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) {
    const known = ['a path', ...Object.keys(SCHEMES).map((s) => `${s}//…`)].join(', ');
    throw new InvalidUrlError(`unknown repository scheme "${url.protocol}" in ${redactUrl(location)}: use ${known}`);
  }
  try {
    return await scheme.load(url, { env: options.env ?? process.env });
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (scheme.sdk && code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(scheme.sdk)) {
      throw new BackendError(`the ${url.protocol.slice(0, -1)} backend needs ${scheme.sdk}: run "npm install ${scheme.sdk}"`, { cause: err });
    }
    throw err;
  }
}

/**
 * True when the backend `location` names talks to its store over HTTP (s3, gs, az): its request
 * accounting counts HTTP requests. False for paths, `file:`, `memory:`, `sftp:` and unknown schemes.
 */
export function speaksHttp(location: string): boolean {
  if (!hasScheme(location)) return false;
  try {
    return SCHEMES[new URL(location).protocol]?.http === true;
  } catch {
    return false;
  }
}

/** Query parameters whose values may be secrets (SAS signatures, tokens, keys). */
const SECRET_PARAM = /(secret|token|passw|sig|credential|access.?key|api.?key)/i;

/**
 * `location` fit for logs and messages: the URL password and secret-looking query values
 * become `***`. Plain paths are returned unchanged.
 */
export function redactUrl(location: string): string {
  if (!hasScheme(location)) return location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    // Not parseable: still hide anything between "user:" and "@".
    return location.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, '***');
  }
  return url.href.replace(/%2A%2A%2A/g, '***');
}
