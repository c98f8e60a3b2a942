/**
 * The repository's `config` object: JSON, written once with `ifAbsent` at creation and never
 * changed. `{"format":"cairn-repository","version":1,"id":"<64 hex>","segmentSize":N,"appendOnly":B}`.
 */
import { randomBytes } from 'node:crypto';
import type { Backend } from '../store/backend.js';
import { AlreadyExistsError, NotFoundError, StoreMissingError } from '../store/errors.js';
import { CONFIG_KEY } from './layout.js';
import { NotARepositoryError, RepositoryExistsError, UnsupportedVersionError } from './errors.js';

/** The format version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;
export const DEFAULT_SEGMENT_SIZE = 32 * 1024 * 1024;
const FORMAT = 'cairn-repository';

export interface RepositoryConfig {
  /** 64 lowercase hex digits, random at creation. */
  readonly id: string;
  readonly version: number;
  /** Segments are cut at this many bytes (an entry larger than this gets a segment of its own). */
  readonly segmentSize: number;
  /** Set at creation: every operation that would remove data is refused. */
  readonly appendOnly: boolean;
}

/** Writes a fresh config; `RepositoryExistsError` when the store already holds one. */
export async function writeConfig(backend: Backend, options: { segmentSize?: number; appendOnly?: boolean }): Promise<RepositoryConfig> {
  const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  if (!Number.isSafeInteger(segmentSize) || segmentSize < 4096 || segmentSize > 0xffff_0000) {
    throw new RangeError(`segmentSize must be an integer from 4096 to ${0xffff_0000}`);
  }
  const config: RepositoryConfig = { id: randomBytes(32).toString('hex'), version: FORMAT_VERSION, segmentSize, appendOnly: options.appendOnly ?? false };
  const bytes = new TextEncoder().encode(JSON.stringify({ format: FORMAT, ...config }) + '\n');
  try {
    await backend.put(CONFIG_KEY, bytes, { ifAbsent: true });
  } catch (err) {
    if (err instanceof AlreadyExistsError) throw new RepositoryExistsError(`a repository already exists at ${backend.location}`, { cause: err });
    throw err;
  }
  return config;
}

/** Reads and validates the config, with a one-line error for a non-repository or a newer format. */
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
  const { id, version, segmentSize, appendOnly } = parsed;
  if (!Number.isSafeInteger(version) || (version as number) < 1) throw new NotARepositoryError(`${backend.location}: config has no valid version`);
  if ((version as number) > FORMAT_VERSION) {
    throw new UnsupportedVersionError(`${backend.location} uses repository format version ${version}; this cairn reads up to ${FORMAT_VERSION}: upgrade cairn`);
  }
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id) || !Number.isSafeInteger(segmentSize) || typeof appendOnly !== 'boolean') {
    throw new NotARepositoryError(`${backend.location}: config is malformed`);
  }
  return Object.freeze({ id, version: version as number, segmentSize: segmentSize as number, appendOnly });
}
