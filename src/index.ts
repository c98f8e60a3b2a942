/**
 * cairn as a library: `import { openStore, initRepository, createArchive } from 'cairn-backup'`.
 * The CLI uses exactly this surface. See docs/library.md for an example. `openStore` is the way
 * to open a repository's store (retry, limits, timeouts, accounting); `openBackend` gives the raw
 * backend without any of them, for tests and tools.
 */
export { openBackend, redactUrl } from '../backends/index.js';
export * from './store/index.js';
export {
  Repository, FORMAT_VERSION, DEFAULT_SEGMENT_SIZE, listLocks, breakLocks,
  RepositoryError, NotARepositoryError, RepositoryExistsError, StoreNotEmptyError, UnsupportedVersionError, LockedError, LockLostError,
  AppendOnlyError, IntegrityError, IndexDamagedError, ConfigInvalidError, IdNotFoundError, RepositoryStateError,
  type RepositoryErrorCode, type RepositoryConfig, type CompactOptions, type CompactReport, type CheckOptions, type CheckReport,
  type Damage, type RepositoryRepairPlan, type LockOptions, type LockInfo, type DestroyReport,
  parseRetentionPeriod, withRetention, MIN_RETENTION_SECONDS, type RetentionPolicy, type Postponed,
} from './repository/index.js';
export type { CreateOptions as RepositoryCreateOptions, OpenOptions as RepositoryOpenOptions } from './repository/index.js';
export {
  EngineError, WrongPassphraseError, KeyCorruptError, KeyOutdatedError, PassphraseUnavailableError, ChunkIntegrityError,
  UnsupportedFormatError, InvalidOptionError, WorkerFailedError,
  createKey, openKey, changePassphrase, describeKey, keyFingerprint, sameIdKey, idKeyFingerprint, exportKey, importKey, readPassphrase, DEFAULT_KDF, parseMode,
  storedInRepository, parseCompression, formatCompression, DEFAULT_CHUNKER,
  type KeyMaterial, type KeyMode, type KdfParams, type ExportFormat, type ReadPassphraseOptions, type PromptInput,
  type ChunkerOptions, type CompressionSpec,
} from './engine/index.js';
export * from './archive/index.js';
