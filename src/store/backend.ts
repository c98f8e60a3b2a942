/**
 * The Backend contract: a flat key/value store of immutable objects. Every backend
 * (fs, memory, sftp, s3, gcs, azure) and every wrapper implements exactly this, and the
 * conformance suite in `test/conformance/` enforces every rule written here.
 */

/** A byte range of an object. `length` may run past the end: the result is then shorter. */
export interface ByteRange {
  /** First byte, ≥ 0. An offset at or past the end yields an empty result. */
  offset: number;
  /** Number of bytes wanted, ≥ 0. */
  length: number;
}

/**
 * How the store itself protects an object from deletion and overwrite until a date (S3 Object
 * Lock; docs/adr/0056-object-retention.md). `governance` can be lifted by an account with a special
 * permission, `compliance` by nobody, not even the account's root, until `until`.
 */
export type RetentionMode = 'governance' | 'compliance';

/** The retention one object is written with. */
export interface Retention {
  mode: RetentionMode;
  /** The store refuses to delete the object (this version of it) before this instant. */
  until: Date;
}

export interface PutOptions {
  /** Refuse with `AlreadyExistsError` when the key exists; atomic against concurrent writers. */
  ifAbsent?: boolean;
  /**
   * Store the object under this retention (backends with `capabilities.retention` only: the
   * repository's `withRetention` refuses to write through any other).
   */
  retention?: Retention;
}

/** Options of `delete`. */
export interface DeleteOptions extends OpOptions {
  /**
   * The object may be under retention (it was written with `PutOptions.retention`): delete the
   * stored object for good (on a versioned store, its version, not only its name), and when its
   * retention still runs throw `RetainedObjectError` without asking the store to delete it.
   * Backends without `capabilities.retention` ignore it.
   */
  retained?: boolean;
}

/** What a store reports of one object (`stat`, and each entry of `list`). */
export interface ObjectInfo {
  size: number;
  /**
   * When the object was last written (created or overwritten), in epoch milliseconds by the
   * **store's** clock, never the client's: S3's and Azure's `Last-Modified`, GCS's `updated`, the
   * file's mtime on fs and sftp. Precision is the store's: whole seconds on S3, Azure and SFTP.
   * Locks judge staleness by it (docs/adr/0055-lock-staleness-by-store-time.md).
   */
  modified: number;
}

/** One entry of a listing. */
export interface ListEntry extends ObjectInfo {
  key: string;
}

/** What a backend can do, stated as data, never probed at run time. */
export interface Capabilities {
  /** `get` with a range reads only those bytes from the server. */
  rangeReads: boolean;
  /** `put` with `ifAbsent` is enforced atomically by the server. */
  ifAbsent: boolean;
  /** Concurrency beyond which more parallel requests stop helping. */
  maxConnections: number;
  /**
   * `get` reports its transfer through `OpOptions.onProgress` (the network backends), so a
   * timeout can follow the bytes as they arrive instead of assuming a size. Absent: false.
   */
  reportsProgress?: boolean;
  /**
   * `put` honours `PutOptions.retention`, `delete` honours `DeleteOptions.retained`, and
   * `create({ retention: true })` checks that the store can keep objects under retention. Absent: false.
   */
  retention?: boolean;
}

/** Options of `create()`. */
export interface CreateStoreOptions {
  /**
   * Also make missing folders above the root (fs, sftp), as `mkdir -p`. Default true. With false,
   * a missing parent folder throws `ParentMissingError` and nothing is made: a path on a drive that
   * is not mounted must not become a repository on the disk below it. Object stores ignore it.
   */
  parents?: boolean;
  /**
   * The repository will write objects under retention: make sure the store keeps them (S3: the
   * bucket has Object Lock enabled; a bucket cairn creates gets it), else `UnsupportedStoreError`.
   */
  retention?: boolean;
}

/** Options every operation accepts. */
export interface OpOptions {
  /** Aborts the request; the call then rejects (a wrapper's timeout uses this). */
  signal?: AbortSignal;
  /**
   * `get` of a backend with `capabilities.reportsProgress`: called with 0 when the answer begins
   * (headers received, file opened), then with the number of body bytes each time more arrive.
   * Other operations and backends never call it.
   */
  onProgress?: (bytes: number) => void;
}

/**
 * A key/value store of immutable objects under one root. Keys are validated by
 * `validateKey()` (see `keys.ts`) before any I/O; an invalid key throws `InvalidKeyError`.
 * All failures are `BackendError` subclasses (see `errors.ts`).
 */
export interface Backend {
  /** Short scheme name, e.g. `fs`, `memory`, `s3`: used in errors and logs. */
  readonly name: string;
  /** Display form of the location, with any password redacted. */
  readonly location: string;
  readonly capabilities: Capabilities;

  /** Whole object, or the bytes of `range` (clipped at the end), in a fresh plain Uint8Array (not a Buffer). Missing key → `NotFoundError`. */
  get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array>;

  /**
   * Stores `bytes` under `key` atomically: a concurrent reader sees the old object or the whole
   * new one, never a part. Overwrites unless `ifAbsent`, which throws `AlreadyExistsError`.
   */
  put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void>;

  /**
   * Removes `key`. Idempotent: deleting a missing key succeeds. With `retained`, an object whose
   * retention still runs → `RetainedObjectError` (see `DeleteOptions`).
   */
  delete(key: string, options?: DeleteOptions): Promise<void>;

  /**
   * Every complete object whose key starts with `prefix` (a plain string prefix, `''` for all),
   * in ascending byte order of key, paginated underneath. Never yields temporary or
   * half-written objects.
   */
  list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry>;

  /** Size and last-modified time of the object, or `undefined` when it does not exist. */
  stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined>;

  /** Makes the root (folder, bucket, container) exist. Idempotent. See `CreateStoreOptions.parents`. */
  create(options?: CreateStoreOptions): Promise<void>;

  /** Removes the root and everything under it. Idempotent. */
  destroy(): Promise<void>;

  /** Releases connections and handles. The backend is unusable afterwards. Idempotent. */
  close(): Promise<void>;

  /**
   * Optional, for stores whose writes leave a temporary file behind when the writer is killed
   * (fs): removes those older than `olderThanMs` (default one hour) and resolves to how many.
   * They are never listed or read, so this only reclaims space. `openStore` forwards it past the
   * wrappers; `Repository.compact` calls it.
   */
  removeStaleTempFiles?(olderThanMs?: number): Promise<number>;
}
