/**
 * The repository layer's public surface: a transactional log of segments on any `Backend`
 * (see docs/format/repository.md). The archive layer uses only what is exported here.
 */
export { Repository } from './repository.js';
export type { CreateOptions, OpenOptions } from './open.js';
export { MsgpackSplitter, decodeBounded, decodeAllBounded } from './msgpack-bounds.js';
export { MAX_CACHE_BYTES, type IndexCache, type IndexCacheStorage } from './index-cache.js';
export type { RepositoryConfig } from './config.js';
export { FORMAT_VERSION, DEFAULT_SEGMENT_SIZE } from './config.js';
export type { CompactOptions, CompactReport } from './compaction.js';
export type { CheckOptions, CheckReport, Damage, RepositoryRepairPlan } from './check.js';
export { lockOwner, listLocks, breakLocks, type LockOptions, type LockInfo } from './locks.js';
export type { DestroyReport } from './ownership.js';
export type { Postponed } from './index-load.js';
export { parseRetentionPeriod, withRetention, MIN_RETENTION_SECONDS, type RetentionPolicy } from './retention.js';
export {
  RepositoryError, NotARepositoryError, RepositoryExistsError, StoreNotEmptyError, UnsupportedVersionError, LockedError, LockLostError,
  AppendOnlyError, IntegrityError, IndexDamagedError, ConfigInvalidError, IdNotFoundError, RepositoryStateError, type RepositoryErrorCode,
} from './errors.js';
