/**
 * Opening a repository, the steps before there is a `Repository`: `create` checks the store and
 * writes the config; `open` reads the config, wraps the store for its retention, takes the session's
 * lock and loads the index, reporting a damaged index object as `IndexDamagedError`.
 */
import type { Backend } from '../store/backend.js';
import { UnsupportedStoreError } from '../store/errors.js';
import { readConfig, writeConfig, type RepositoryConfig } from './config.js';
import { loadDigests } from './digests.js';
import { IndexDamagedError, IntegrityError } from './errors.js';
import { ChunkIndex } from './index-table.js';
import { loadIndex, SegmentTable, type LoadedIndex } from './index-load.js';
import { newSessionId } from './layout.js';
import { RepositoryLock, type LockOptions } from './locks.js';
import { assertConditionalWrites, assertEmptyStore } from './ownership.js';
import { withRetention, type RetentionPolicy } from './retention.js';

export interface CreateOptions {
  /** Segment size in bytes, fixed for the repository's life. Default 32 MiB. */
  segmentSize?: number;
  /** Refuse every operation that removes data, forever. Default false. */
  appendOnly?: boolean;
  /** The repository id (64 lowercase hex digits); default random. The caller seals its key to it before creating. */
  id?: string;
  /**
   * Make missing folders above a folder repository (fs, sftp). Default true; with false a missing
   * parent folder throws `ParentMissingError` and nothing is written (see `CreateStoreOptions`).
   */
  makeParentDirs?: boolean;
  /**
   * Write every object but the locks under this retention, for the repository's life (recorded in
   * the config; docs/adr/0056-object-retention.md). The store must support it: a backend without
   * `capabilities.retention`, or a bucket without Object Lock, → `UnsupportedStoreError`, nothing written.
   */
  retention?: RetentionPolicy;
}

export interface OpenOptions {
  /** Take the exclusive lock (needed by compact and check --repair). Default: a shared lock. */
  exclusive?: boolean;
  /** Refuse writes. A shared lock is still taken unless `lock` is false. */
  readOnly?: boolean;
  /** Take no lock at all (for read-only media); the caller accepts racing with compaction. */
  lock?: boolean;
  /** Stale timeout and refresh period of the lock. */
  lockOptions?: LockOptions;
  /**
   * Do not load the index: for `check({ repair: true })` when a damaged index object makes open
   * fail, or to load it later with `loadIndex()` (once the key that authenticates the local index
   * cache is known). Until then, the repository looks empty.
   */
  skipIndex?: boolean;
  /** Sealed segments that may wait for upload at once; bounds memory. Default 4. */
  maxPendingSegments?: number;
}

/** What an open repository starts from. */
export interface OpenedSession {
  /** The store, wrapped for the config's retention policy if it has one. */
  backend: Backend;
  config: RepositoryConfig;
  /** The writer's session id, the lock's too: compaction knows a session is dead when its lock is gone. */
  session: string;
  lock: RepositoryLock | undefined;
  state: LoadedIndex;
}

/** `Repository.create` up to opening: creates the store root, checks it is empty and honours conditional writes, writes the config. */
export async function writeNewRepository(backend: Backend, options: CreateOptions & OpenOptions): Promise<void> {
  const retention = options.retention;
  if (retention && !backend.capabilities.retention) {
    throw new UnsupportedStoreError(`${backend.location}: the ${backend.name} store cannot keep objects under retention; `
      + 'use S3 with Object Lock or GCS with object retention (docs/adr/0056-object-retention.md), or create the repository without --retention-mode', { backend: backend.name });
  }
  await backend.create({ parents: options.makeParentDirs ?? true, ...(retention ? { retention: true } : {}) });
  await assertEmptyStore(backend);
  await assertConditionalWrites(backend);
  // The config itself is retained too: without it the repository cannot be opened.
  await writeConfig(retention ? withRetention(backend, retention) : backend, options);
}

/** `Repository.open` up to the instance: config, lock, index; the lock is released again if loading the index fails. */
export async function openSession(store: Backend, options: OpenOptions): Promise<OpenedSession> {
  await loadDigests();
  const config = await readConfig(store);
  // With a retention policy, every later write carries it and every delete may be postponed (ERETAINED).
  const backend = config.retention ? withRetention(store, config.retention) : store;
  const session = newSessionId();
  const lock = options.lock === false ? undefined
    : await RepositoryLock.acquire(backend, session, options.exclusive ?? false, { ...options.lockOptions, repositoryId: config.id });
  try {
    return { backend, config, session, lock, state: options.skipIndex ? emptyIndex() : await loadIndexOrExplain(backend) };
  } catch (err) {
    await lock?.release().catch(() => undefined);
    throw err;
  }
}

/** `loadIndex`, with a damaged index object reported as such (the segments may well be intact). */
export async function loadIndexOrExplain(backend: Backend): Promise<LoadedIndex> {
  return explainDamage(() => loadIndex(backend));
}

/** Runs an index load, turning an `IntegrityError` into `IndexDamagedError`. */
export async function explainDamage<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof IntegrityError) throw new IndexDamagedError(err.message, { key: err.key, offset: err.offset, cause: err });
    throw err;
  }
}

function emptyIndex(): LoadedIndex {
  return { index: new ChunkIndex(), segments: new SegmentTable(), txns: [], deltaKeys: [], deltaInfo: new Map(), fullKey: undefined, fullSize: 0, generation: 0, covers: [], obsoleteKeys: [] };
}
