/**
 * Reads a `gs://bucket/prefix?...` URL and the environment into the settings of the GCS backend;
 * every option is documented in docs/backends/gcs.md.
 */
import { BackendError } from '../../src/store/errors.js';

const MIB = 1024 * 1024;
const GRANULARITY = 256 * 1024; // GCS: resumable chunks are multiples of 256 KiB

export interface GcsConfig {
  bucket: string;
  /** Key prefix of the store inside the bucket: '' or ending in '/'. */
  prefix: string;
  /** API origin (`http(s)://host:port`), or undefined for the public service. */
  endpoint: string | undefined;
  /** Send credentials from the standard chain; false only for an anonymous emulator. */
  authenticate: boolean;
  projectId: string | undefined;
  /** Service-account key file (GOOGLE_APPLICATION_CREDENTIALS of the given environment). */
  keyFilename: string | undefined;
  /** Objects per listing request (1..1000). */
  pageSize: number;
  /** Objects larger than this go through a resumable upload; smaller ones in one request. */
  resumableThreshold: number;
  /** Bytes per request of a resumable upload. */
  chunkSize: number;
  /** The SDK's own time limit per JSON-API request (undefined: the SDK's 60 s); library option only. */
  requestTimeoutMs?: number;
}

function fail(message: string): never {
  throw new BackendError(`gs:// URL: ${message}`, { backend: 'gcs' });
}

function intOption(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${name}=${raw} must be an integer in ${min}..${max}`);
  return n;
}

/** Normalises an endpoint (`host:port` as STORAGE_EMULATOR_HOST allows, or a URL) to an origin. */
function origin(raw: string, source: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return fail(`${source} "${raw}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`${source} must be http or https`);
  return u.origin;
}

/** Parses `url` (scheme `gs:`) with `env` (defaults to process.env). */
export function parseGcsUrl(url: URL, env: NodeJS.ProcessEnv = process.env): GcsConfig {
  if (url.protocol !== 'gs:') fail(`expected gs://bucket/prefix, got ${url.protocol}`);
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) fail(`"${bucket}" is not a valid bucket name`);
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  const prefix = path === '' ? '' : `${path}/`;
  const params = url.searchParams;

  // The URL wins over STORAGE_EMULATOR_HOST. The SDK also reads STORAGE_EMULATOR_HOST from
  // process.env on its own and would then send JSON-API calls there whatever endpoint we pass,
  // so a conflict is refused rather than letting requests go somewhere the user did not say.
  const fromUrl = params.get('endpoint');
  const fromEnv = env.STORAGE_EMULATOR_HOST;
  const endpoint = fromUrl !== null && fromUrl !== '' ? origin(fromUrl, 'endpoint=')
    : fromEnv ? origin(fromEnv, 'STORAGE_EMULATOR_HOST') : undefined;
  const processHost = process.env.STORAGE_EMULATOR_HOST;
  if (processHost && origin(processHost, 'STORAGE_EMULATOR_HOST') !== endpoint) {
    fail(`STORAGE_EMULATOR_HOST=${processHost} conflicts with ${endpoint ? `endpoint ${endpoint}` : 'the public endpoint'}: unset one of them`);
  }

  const keyFilename = env.GOOGLE_APPLICATION_CREDENTIALS || undefined;
  const auth = params.get('auth');
  if (auth !== null && auth !== 'default' && auth !== 'none') fail('auth= must be default or none');
  // Public endpoint: always the standard credential chain. Custom endpoint: the chain when a key
  // file is named (as a private endpoint needs), none otherwise (as an emulator expects).
  const authenticate = auth === 'none' ? false
    : auth === 'default' || endpoint === undefined || Boolean(env.GOOGLE_APPLICATION_CREDENTIALS);
  if (!authenticate && endpoint === undefined) fail('auth=none needs an endpoint (the public service refuses anonymous writes)');

  const chunkSize = intOption(params, 'chunk-size', 16 * MIB, GRANULARITY, 1024 * MIB);
  if (chunkSize % GRANULARITY !== 0) fail('chunk-size must be a multiple of 262144 (256 KiB)');
  return {
    bucket,
    prefix,
    endpoint,
    authenticate,
    projectId: params.get('project') ?? env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT ?? undefined,
    keyFilename,
    pageSize: intOption(params, 'page-size', 1000, 1, 1000),
    resumableThreshold: intOption(params, 'resumable-threshold', 32 * MIB, 0, Number.MAX_SAFE_INTEGER),
    chunkSize,
  };
}
