/**
 * The archive layer's typed errors, each with a stable `code` for programs (the CLI maps them
 * to one-line messages and exit codes); messages never contain key material.
 */

export type ArchiveErrorCode =
  | 'EARCHIVE_EXISTS'
  | 'EARCHIVE_NOT_FOUND'
  | 'EPATH_NOT_FOUND'
  | 'EARCHIVE_NAME'
  | 'EARCHIVE_CORRUPT'
  | 'ERECORD_UNREADABLE'
  | 'EUNSAFE_PATH'
  | 'EPATTERN'
  | 'EKEY_MISSING'
  | 'ENO_SOURCE'
  | 'EINTERRUPTED'
  | 'ETAR_INVALID'
  | 'EZSTD_UNAVAILABLE'
  | 'EUNRELATED_REPOSITORY'
  | 'ESAME_REPOSITORY'
  | 'ETARGET_FULL'
  | SecurityErrorCode;

/** Codes of `RepositorySecurityError`: what the local security state or the key checks refused. */
export type SecurityErrorCode =
  | 'ESECURITY_MODE_CHANGED'
  | 'ESECURITY_KEY_CHANGED'
  | 'ESECURITY_WRONG_REPOSITORY'
  | 'ESECURITY_KEY_PLACEMENT'
  | 'ESECURITY_UNKNOWN_UNENCRYPTED'
  | 'ESECURITY_ROLLBACK'
  | 'ESECURITY_REPLACED'
  | 'ESECURITY_RETENTION'
  | 'ESECURITY_STATE';

/** Base class of every archive error. */
export class ArchiveError extends Error {
  readonly code: ArchiveErrorCode;
  constructor(code: ArchiveErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `create` was given a name that an archive in the repository already has. */
export class ArchiveExistsError extends ArchiveError {
  constructor(name: string) {
    super('EARCHIVE_EXISTS', `archive "${name}" already exists: choose another name (e.g. with {now})`);
  }
}

/** No archive has that name. */
export class ArchiveNotFoundError extends ArchiveError {
  constructor(name: string) {
    super('EARCHIVE_NOT_FOUND', `archive "${name}" does not exist: "cairn rlist" lists the archives`);
  }
}

/** Paths given to `dump` selected nothing in the archive (nothing was written). */
export class PathNotFoundError extends ArchiveError {
  constructor(archive: string, paths: readonly string[]) {
    super('EPATH_NOT_FOUND', `${paths.map((p) => JSON.stringify(p)).join(', ')} matched nothing in archive ${archive}: archive paths keep the folders that were backed up, see them with "cairn list ${archive}"`);
  }
}

/** The name cannot be an archive name (empty, too long, control characters). */
export class ArchiveNameError extends ArchiveError {
  constructor(name: string, why: string) {
    super('EARCHIVE_NAME', `invalid archive name ${JSON.stringify(name)}: ${why}`);
  }
}

/** An archive record or item stream failed authentication or does not decode. */
export class ArchiveCorruptError extends ArchiveError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('EARCHIVE_CORRUPT', `archive data is damaged: ${what}; run check`, options);
  }
}

/**
 * An archive record that cannot be read (does not authenticate, does not decode, or has a name no
 * archive can have) stopped an operation that must see every archive: `compact` deletes nothing
 * then, since that archive may reference chunks that would look unreferenced.
 */
export class RecordUnreadableError extends ArchiveError {
  readonly archive: string;
  constructor(archive: string, options?: { cause?: unknown }) {
    super('ERECORD_UNREADABLE', `the record of archive ${JSON.stringify(archive)} cannot be read, so no chunk can be known to be unreferenced: nothing was deleted`, options);
    this.archive = archive;
  }
}

/** An item path would land outside the extraction folder (absolute, "..", or through a symlink). */
export class UnsafePathError extends ArchiveError {
  constructor(path: string) {
    super('EUNSAFE_PATH', `refusing to extract ${JSON.stringify(path)}: it points outside the target folder`);
  }
}

/** A pattern that could not be parsed. */
export class PatternError extends ArchiveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EPATTERN', message, options);
  }
}

/**
 * The repository is not the one this machine knows (key mode or key changed, key of another repository, a keyfile key
 * planted in the repository, objects rolled back), or is unencrypted and unknown. The message says what changed and
 * what to do; nothing was read with the suspicious key and nothing was written.
 */
export class RepositorySecurityError extends ArchiveError {
  constructor(code: SecurityErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * The operation stopped because the process was told to (`signal` is its name, e.g. `SIGINT`).
 * `checkpoint` names the checkpoint archive that keeps what was stored, when data was stored.
 */
export class InterruptedError extends ArchiveError {
  readonly signal: string;
  readonly checkpoint: string | undefined;
  constructor(signal: string, checkpoint?: string) {
    super('EINTERRUPTED', checkpoint !== undefined
      ? `interrupted by ${signal}: what was stored is kept in the checkpoint archive "${checkpoint}"; run the same command again to continue (it reuses the stored data)`
      : `interrupted by ${signal}: nothing was stored, the repository is unchanged`);
    this.signal = signal;
    this.checkpoint = checkpoint;
  }
}

/** A tar stream that `import-tar` refuses: damaged, truncated, out of range, or naming a path outside the archive. Nothing was stored. */
export class TarFormatError extends ArchiveError {
  /** Byte offset of the member's header in the uncompressed stream. */
  readonly offset: number;
  constructor(offset: number, problem: string) {
    super('ETAR_INVALID', `not a tar cairn can import: ${problem} (member at byte ${offset}); nothing was stored`);
    this.offset = offset;
  }
}

/**
 * `transfer` between repositories that do not share the chunk-id key (`ESAME_REPOSITORY`: both names lead to one
 * repository). Nothing was read or written.
 */
export class UnrelatedRepositoryError extends ArchiveError {
  constructor(code: 'EUNRELATED_REPOSITORY' | 'ESAME_REPOSITORY', message: string) {
    super(code, message);
  }
}
