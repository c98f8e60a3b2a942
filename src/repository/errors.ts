/**
 * The repository's error vocabulary: typed classes with a stable `code`, so callers (the archive
 * layer, the CLI's exit-code mapping) test `instanceof` or `code`, never message text.
 */

/** Stable, machine-readable repository error codes. Never renamed once released. */
export type RepositoryErrorCode =
  | 'ENOT_A_REPOSITORY'
  | 'EREPOSITORY_EXISTS'
  | 'ESTORE_NOT_EMPTY'
  | 'EUNSUPPORTED_VERSION'
  | 'ELOCKED'
  | 'ELOCK_LOST'
  | 'EAPPEND_ONLY'
  | 'EINTEGRITY'
  | 'EINDEX_DAMAGED'
  | 'ECONFIG_INVALID'
  | 'ENOT_FOUND_ID'
  | 'EREPOSITORY_STATE';

/** Base class of every repository error; `cause` keeps the store error underneath, if any. */
export class RepositoryError extends Error {
  readonly code: RepositoryErrorCode = 'EREPOSITORY_STATE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The store holds no `config` object: it is not a cairn repository. */
export class NotARepositoryError extends RepositoryError {
  override readonly code = 'ENOT_A_REPOSITORY';
}

/** `Repository.create` found a `config` already there. */
export class RepositoryExistsError extends RepositoryError {
  override readonly code = 'EREPOSITORY_EXISTS';
}

/** `Repository.create` found objects that are not a cairn repository: it never writes among them. */
export class StoreNotEmptyError extends RepositoryError {
  override readonly code = 'ESTORE_NOT_EMPTY';
}

/** The repository was written by a newer (or unknown) format version. */
export class UnsupportedVersionError extends RepositoryError {
  override readonly code = 'EUNSUPPORTED_VERSION';
}

/** Another session holds a lock that conflicts with the one asked for. */
export class LockedError extends RepositoryError {
  override readonly code = 'ELOCKED';
}

/** This session's own lock object disappeared (broken as stale by another client): writes stop. */
export class LockLostError extends RepositoryError {
  override readonly code = 'ELOCK_LOST';
}

/** The repository is append-only and the operation would remove data. */
export class AppendOnlyError extends RepositoryError {
  override readonly code = 'EAPPEND_ONLY';
}

/** Stored bytes failed a checksum or digest, or a structure is malformed. Never returned as data. */
export class IntegrityError extends RepositoryError {
  override readonly code: RepositoryErrorCode = 'EINTEGRITY';
  /** Backend key of the damaged object, and the byte offset of the damage when known. */
  readonly key: string | undefined;
  readonly offset: number | undefined;

  constructor(message: string, where: { key?: string; offset?: number; cause?: unknown } = {}) {
    super(message, { cause: where.cause });
    this.key = where.key;
    this.offset = where.offset;
  }
}

/**
 * An index object failed its checks when the repository was opened. The index is a cache of the
 * log: `check({ repair: true })` on a repository opened with `skipIndex` rebuilds it from the
 * segments without reading it.
 */
export class IndexDamagedError extends IntegrityError {
  override readonly code: RepositoryErrorCode = 'EINDEX_DAMAGED';
}

/** The `config` object holds a value out of its bounds (a damaged or hostile config). */
export class ConfigInvalidError extends RepositoryError {
  override readonly code = 'ECONFIG_INVALID';
}

/** `get` of an id the repository does not hold. */
export class IdNotFoundError extends RepositoryError {
  override readonly code = 'ENOT_FOUND_ID';
}

/** An operation not allowed in the repository's current state (closed, read-only, no exclusive lock). */
export class RepositoryStateError extends RepositoryError {
  override readonly code = 'EREPOSITORY_STATE';
}
