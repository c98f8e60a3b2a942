/**
 * The repository's `config` object: JSON, written once with `ifAbsent` at creation and never
 * changed. `{"format":"cairn-repository","version":1,"id":"<64 hex>","segmentSize":N,"appendOnly":B}`,
 * and with a retention policy (docs/adr/0056-object-retention.md) version 2 and
 * `"retention":{"mode":"governance"|"compliance","seconds":N}`, so a cairn that cannot honour it
 * refuses the repository instead of writing unprotected objects into it.
 */
import { randomBytes } from 'node:crypto';
import type { Backend } from '../store/backend.js';
import { AlreadyExistsError, NotFoundError, StoreMissingError } from '../store/errors.js';
import { CONFIG_KEY } from './layout.js';
import { ConfigInvalidError, NotARepositoryError, RepositoryExistsError, UnsupportedVersionError } from './errors.js';
import { validRetention, type RetentionPolicy } from './retention.js';

/** The newest format version this code reads; it writes 1, or 2 for a repository with retention. */
export const FORMAT_VERSION = 2;
/** The version that introduced `retention`. */
const RETENTION_VERSION = 2;
export const DEFAULT_SEGMENT_SIZE = 32 * 1024 * 1024;
const FORMAT = 'cairn-repository';
/** Bounds of `segmentSize`, checked on creation and on every read (the config is untrusted input). */
export const MIN_SEGMENT_SIZE = 4096;
export const MAX_SEGMENT_SIZE = 0xffff_0000;
const validSegmentSize = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= MIN_SEGMENT_SIZE && (n as number) <= MAX_SEGMENT_SIZE;

export interface RepositoryConfig {
  /** 64 lowercase hex digits, random at creation. */
  readonly id: string;
  readonly version: number;
  /** Segments are cut at this many bytes (an entry larger than this gets a segment of its own). */
  readonly segmentSize: number;
  /** Set at creation: every operation that would remove data is refused. */
  readonly appendOnly: boolean;
  /** Every object but the locks is written under this retention (version 2). */
  readonly retention?: RetentionPolicy;
}

/** Writes a fresh config; `RepositoryExistsError` when the store already holds one. */
export async function writeConfig(backend: Backend, options: { segmentSize?: number; appendOnly?: boolean; id?: string; retention?: RetentionPolicy }): Promise<RepositoryConfig> {
  const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  if (!validSegmentSize(segmentSize)) throw new RangeError(`segmentSize must be an integer from ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE}`);
  if (options.id !== undefined && !/^[0-9a-f]{64}$/.test(options.id)) throw new RangeError('a repository id is 64 lowercase hex digits');
  if (options.retention !== undefined && !validRetention(options.retention)) throw new RangeError('retention needs a mode (governance or compliance) and a whole number of seconds');
  const retention = options.retention && { mode: options.retention.mode, seconds: options.retention.seconds };
  const config: RepositoryConfig = {
    id: options.id ?? randomBytes(32).toString('hex'), version: retention ? RETENTION_VERSION : 1, segmentSize, appendOnly: options.appendOnly ?? false,
    ...(retention ? { retention } : {}),
  };
  const bytes = new TextEncoder().encode(JSON.stringify({ format: FORMAT, ...config }) + '\n');
  try {
    await backend.put(CONFIG_KEY, bytes, { ifAbsent: true });
  } catch (err) {
    if (err instanceof AlreadyExistsError) throw new RepositoryExistsError(`a repository already exists at ${backend.location}`, { cause: err });
    throw err;
  }
  return config;
}

/**
 * Reads and validates the config, with a one-line error for a non-repository or a newer format,
 * and `ConfigInvalidError` for a field out of its bounds.
 */
export async function readConfig(backend: Backend): Promise<RepositoryConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await backend.get(CONFIG_KEY);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof StoreMissingError) {
      throw new NotARepositoryError(`${backend.location} is not a cairn repository (no config object)`, { cause: err });
    }
    throw err;
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (cause) {
    throw new NotARepositoryError(`${backend.location} is not a cairn repository (config is not JSON)`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== FORMAT) {
    throw new NotARepositoryError(`${backend.location} is not a cairn repository (config has another format)`);
  }
  const { id, version, segmentSize, appendOnly, retention } = parsed;
  if (!Number.isSafeInteger(version) || (version as number) < 1) throw new NotARepositoryError(`${backend.location}: config has no valid version`);
  if ((version as number) > FORMAT_VERSION) {
    throw new UnsupportedVersionError(`${backend.location} uses repository format version ${version}; this cairn reads up to ${FORMAT_VERSION}: upgrade cairn`);
  }
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id) || !Number.isSafeInteger(segmentSize) || typeof appendOnly !== 'boolean') {
    throw new NotARepositoryError(`${backend.location}: config is malformed`);
  }
  if (!validSegmentSize(segmentSize)) {
    throw new ConfigInvalidError(`${backend.location}: config has segmentSize ${String(segmentSize)}, outside ${MIN_SEGMENT_SIZE}..${MAX_SEGMENT_SIZE}`);
  }
  // Version 2 requires the retention policy; version 1 has none (a field there is not ours to honour).
  if ((version as number) >= RETENTION_VERSION && !validRetention(retention)) {
    throw new ConfigInvalidError(`${backend.location}: config version ${version} has no valid retention policy`);
  }
  const base = { id, version: version as number, segmentSize: segmentSize as number, appendOnly };
  return Object.freeze((version as number) >= RETENTION_VERSION
    ? { ...base, retention: Object.freeze({ mode: (retention as RetentionPolicy).mode, seconds: (retention as RetentionPolicy).seconds }) }
    : base);
}
