/**
 * Parses an `s3://bucket/prefix?endpoint=…&region=…&storage-class=…&path-style=1` URL into the
 * settings of the S3 backend, rejecting anything it does not understand (a typo in an option
 * must never turn into a silent default such as the public AWS endpoint).
 */
import { InvalidUrlError } from '../../src/store/errors.js';
import { validatePrefix } from '../../src/store/keys.js';

/** Storage classes S3 accepts on PutObject. */
export const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER',
  'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE',
] as const;
export type StorageClassName = (typeof STORAGE_CLASSES)[number];

/**
 * Classes whose objects cannot be read until restored (hours): cairn reads segments for list,
 * extract, check and compact (item streams live in segments), so a repository there is write-only.
 */
const COLD_CLASSES: readonly string[] = ['GLACIER', 'DEEP_ARCHIVE'];

const MiB = 1024 * 1024;

export interface S3Config {
  bucket: string;
  /** Key prefix of the store inside the bucket: '' or ending with '/'. */
  prefix: string;
  /** Custom endpoint (S3-compatible store or emulator); undefined means AWS itself. */
  endpoint?: string;
  /** Region from the URL; undefined lets the SDK's chain (AWS_REGION, profile) decide. */
  region?: string;
  forcePathStyle: boolean;
  /** Storage class of keys under `data/`; everything else stays STANDARD. */
  storageClass?: StorageClassName;
  /** Keys per ListObjectsV2 request (1–1000). */
  pageSize: number;
  /** Objects of at least this many bytes are uploaded in parts. */
  multipartThreshold: number;
  /** Size of each part of a multipart upload (≥ 5 MiB). */
  partSize: number;
}

const KNOWN = new Set(['endpoint', 'region', 'storage-class', 'path-style', 'page-size', 'multipart-threshold', 'part-size']);

function fail(message: string): never {
  throw new InvalidUrlError(`s3 URL: ${message}`, { backend: 's3' });
}

function intOption(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = q.get(name);
  if (text === null) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) fail(`${name}=${text} must be an integer from ${min} to ${max}`);
  return n;
}

/** Reads the settings from `url`; throws `InvalidUrlError` (one line) on any invalid part. */
export function parseS3Url(url: URL): S3Config {
  if (url.protocol !== 's3:') fail(`expected s3://bucket/prefix, got ${url.protocol}`);
  if (url.username || url.password) fail('credentials do not belong in the URL: use the AWS environment variables or a profile');
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) fail(`"${bucket}" is not a valid bucket name`);
  const q = url.searchParams;
  for (const name of q.keys()) if (!KNOWN.has(name)) fail(`unknown option "${name}" (known: ${[...KNOWN].join(', ')})`);

  let prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  try {
    validatePrefix(prefix, 's3');
  } catch {
    fail(`"${prefix}" is not a valid prefix`);
  }

  let endpoint: string | undefined;
  const endpointText = q.get('endpoint');
  if (endpointText !== null) {
    let parsed: URL;
    try { parsed = new URL(endpointText); } catch { fail(`endpoint=${endpointText} is not a URL`); }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(`endpoint=${endpointText} must be http:// or https://`);
    endpoint = parsed.origin + parsed.pathname.replace(/\/$/, '');
  }
  const region = q.get('region') ?? undefined;
  if (region !== undefined && !/^[a-z0-9-]+$/.test(region)) fail(`region=${region} is not a region name`);

  const storageClass = q.get('storage-class')?.toUpperCase();
  if (storageClass !== undefined && !(STORAGE_CLASSES as readonly string[]).includes(storageClass)) {
    fail(`storage-class=${storageClass} is not one of ${STORAGE_CLASSES.join(', ')}`);
  }
  if (storageClass !== undefined && COLD_CLASSES.includes(storageClass)) {
    fail(`storage-class=${storageClass} needs a restore before any read, and cairn reads segments to list, extract, check and compact: use GLACIER_IR, STANDARD_IA or INTELLIGENT_TIERING`);
  }
  const pathStyleText = q.get('path-style');
  if (pathStyleText !== null && pathStyleText !== '0' && pathStyleText !== '1') fail('path-style must be 0 or 1');
  // An endpoint given as an IP address or localhost cannot carry the bucket in its host name.
  const hostIsAddress = endpoint !== undefined && /^(localhost|\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\])$/i.test(new URL(endpoint).hostname);

  return {
    bucket,
    prefix,
    endpoint,
    region,
    forcePathStyle: pathStyleText === null ? hostIsAddress : pathStyleText === '1',
    storageClass: storageClass as StorageClassName | undefined,
    pageSize: intOption(q, 'page-size', 1000, 1, 1000),
    multipartThreshold: intOption(q, 'multipart-threshold', 64 * MiB, 5 * MiB, 5 * 1024 * MiB),
    partSize: intOption(q, 'part-size', 16 * MiB, 5 * MiB, 5 * 1024 * MiB),
  };
}
