/** Typed errors of the engine: each has a stable `code`, a one-line message and never carries secret material. */

/** Base class of every engine error; `code` is stable and meant for programs, the message for people. */
export class EngineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The passphrase does not open the key (the key blob itself is intact). */
export class WrongPassphraseError extends EngineError {
  constructor() {
    super('EWRONG_PASSPHRASE', 'wrong passphrase: the key could not be opened');
  }
}

/** The key blob or exported key text is damaged, truncated or not a cairn key. */
export class KeyCorruptError extends EngineError {
  constructor(detail: string) {
    super('EKEY_CORRUPT', `corrupt key: ${detail}`);
  }
}

/** A key blob of format version 1 (cairn 0.1), which does not name its repository and is refused since version 2. */
export class KeyOutdatedError extends EngineError {
  constructor() {
    super('EKEY_OUTDATED', 'key format version 1 is no longer accepted: it does not name its repository, so a planted or swapped key could not be told apart');
  }
}

/** No passphrase could be obtained (no CAIRN_PASSPHRASE/CAIRN_PASSCOMMAND and no terminal), or the command failed. */
export class PassphraseUnavailableError extends EngineError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('EPASSPHRASE_UNAVAILABLE', `no passphrase: ${detail}`, options);
  }
}

/** A stored chunk failed authentication: tampered, swapped, replayed under another id, or read with the wrong key. */
export class ChunkIntegrityError extends EngineError {
  constructor(detail: string) {
    super('ECHUNK_INTEGRITY', `chunk integrity check failed: ${detail}`);
  }
}

/** A stored chunk or frame names a suite, algorithm or version this build does not know. */
export class UnsupportedFormatError extends EngineError {
  constructor(detail: string) {
    super('EUNSUPPORTED_FORMAT', `unsupported format: ${detail}`);
  }
}

/** An option given by the caller is out of range (chunker sizes, compression level, KDF parameters, mode name). */
export class InvalidOptionError extends EngineError {
  constructor(detail: string) {
    super('EINVALID_OPTION', `invalid option: ${detail}`);
  }
}

/** A worker thread of the pipeline failed or exited; the whole run is rejected with this error. */
export class WorkerFailedError extends EngineError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('EWORKER_FAILED', `pipeline worker failed: ${detail}`, options);
  }
}
