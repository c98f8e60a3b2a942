/**
 * How failures read on the command line: one line, saying what went wrong and what to do,
 * chosen by the error's stable `code` (never its class name or a stack trace, never a secret).
 */

/** Bad command-line input found by the CLI itself (no repository given, bad number...). */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What to do next, by error code, for the errors whose own message does not already say it. */
const HINTS: Record<string, string> = {
  ENOT_A_REPOSITORY: 'check -r/--repo or CAIRN_REPO, or create one with "cairn -r REPO rcreate --encryption repokey"',
  EREPOSITORY_EXISTS: 'choose another location, or use the existing repository',
  ESTORE_NOT_EMPTY: 'choose a new or empty folder (or prefix) for the repository; cairn never writes among other files',
  ESTORE_UNSUPPORTED: 'this store lacks a feature cairn needs; docs/backends.md lists what each store must support',
  ENO_REPOSITORY_STORE: 'check -r/--repo or CAIRN_REPO (the folder or bucket does not exist)',
  ENO_PARENT_FOLDER: 'check the path and that its drive or share is mounted; to create the missing folders, add --make-parent-dirs',
  EUNSUPPORTED_VERSION: 'this repository needs a newer cairn',
  ELOCKED: 'wait for it to finish; if it no longer runs (another machine, or killed), remove its lock with "cairn break-lock"',
  ELOCK_LOST: 'the repository lock was broken by another client; run the command again',
  EAPPEND_ONLY: 'the repository is append-only; this operation would remove data',
  EINTEGRITY: 'run "cairn check --verify-data" to see the damage (a plain check reads no chunk values); "cairn check --repair" quarantines damaged segments, rebuilds the index and replaces lost chunks of files with zeros',
  ENOT_FOUND_ID: 'the index has no such chunk (a damaged, missing or rolled-back index object, or a lost segment entry): run "cairn check" to see the damage; "cairn check --repair" rebuilds the index from the segments',
  EINDEX_DAMAGED: 'the index is a cache of the segments: "cairn check --repair" rebuilds it from them without reading it',
  ECONFIG_INVALID: 'the repository config is damaged; restore the config object from a copy of the repository',
  ECHUNK_INTEGRITY: 'run "cairn check --verify-data" to find damaged chunks',
  ERECORD_UNREADABLE: 'run "cairn check" to see it; "cairn check --repair" moves it to quarantine/, then run the command again',
  'EWRONG_PASSPHRASE': 'check CAIRN_PASSPHRASE or CAIRN_PASSCOMMAND',
  'EKEY_CORRUPT': 'restore the key from an export ("cairn key import FILE")',
  'EKEY_OUTDATED': 'this repository was made by cairn 0.1: read it with cairn 0.1 and back up into a new repository (docs/format/crypto.md)',
  EPERMISSION: 'check the credentials and access rights for the repository',
  ETIMEOUT: 'the storage did not answer in time; check the network and run the command again',
  ETRANSIENT: 'the storage failed temporarily; run the command again',
  ENO_SPACE: 'free space where the repository is stored, then run the command again (what this run had not committed is dropped; the archives stored before are intact)',
  ERETAINED: 'the store keeps this object under retention (Object Lock, an immutability policy); it can be deleted once that ends',
  ESECURITY_RETENTION: 'the plaintext config was changed by a store writer; restore it (docs/backends/s3.md, "Object Lock")',
};

/** Node's errno codes for file access, and what they mean in words. */
const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a folder',
  EISDIR: 'is a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  EROFS: 'read-only file system',
};

/** An errno code in words (`ENOENT` → `no such file or folder`), or undefined for other codes. */
export function errnoText(code: string): string | undefined {
  return ERRNO[code];
}

/** Hides credentials that URLs in messages may carry (user:password@, signed query parameters). */
export function redactSecrets(text: string): string {
  return text
    .replace(/\/\/([^/:@\s]+):[^@/\s]+@/g, '//$1:***@')
    .replace(/([?&](?:[a-z-]*(?:key|secret|token|password|sig|signature|credential)[a-z-]*))=[^&\s"']+/gi, '$1=***');
}

/** The single line printed for `err` (without the "cairn: " prefix). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `unexpected failure: ${redactSecrets(String(err))}`;
  const code = (err as { code?: unknown }).code;
  const firstLine = (err.message.split('\n')[0] ?? '').trim();
  if (typeof code === 'string' && code in ERRNO && typeof (err as NodeJS.ErrnoException).path === 'string') {
    const path = (err as NodeJS.ErrnoException).path!;
    const full = code === 'ENOSPC' || code === 'EDQUOT' ? ': free space there, then run the command again' : '';
    return redactSecrets(`${path}: ${ERRNO[code]}${full}`);
  }
  if (typeof code === 'string') {
    const hint = HINTS[code];
    return redactSecrets(hint ? `${firstLine}; ${hint}` : firstLine);
  }
  return redactSecrets(`unexpected failure: ${firstLine || err.name}`);
}
