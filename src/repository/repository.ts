/**
 * The repository: a transactional log of segments over any `Backend`, with an in-memory index,
 * session locks, compaction and check. `Repository` is the public class: it holds the committed
 * index and the lock and guards every call. Opening is open.ts, the write path and its state are
 * its `Transaction` (transaction.ts), the read path is segment-read.ts; the format, index, lock,
 * compaction and check modules are helpers they drive.
 */
import type { Backend } from '../store/backend.js';
import type { RepositoryConfig } from './config.js';
import { AppendOnlyError, RepositoryStateError } from './errors.js';
import { loadIndex, type LoadedIndex } from './index-load.js';
import { loadIndexCached, saveIndexCache, type IndexCache } from './index-cache.js';
import { DATA_PREFIX, EXCLUSIVE_LOCK_KEY, KEY_BLOB_KEY, parseSegment, RECORDS_PREFIX } from './layout.js';
import type { RepositoryLock } from './locks.js';
import { PUT_HEADER_SIZE } from './segment-format.js';
import { compactRepository, type CompactOptions, type CompactReport } from './compaction.js';
import { checkRepository, planRepositoryRepair, type CheckOptions, type CheckReport, type RepositoryRepairPlan } from './check.js';
import * as records from './records.js';
import { destroyStore, type DestroyReport } from './ownership.js';
import { explainDamage, loadIndexOrExplain, openSession, writeNewRepository, type CreateOptions, type OpenedSession, type OpenOptions } from './open.js';
import { readValue, readValues, type ValueSource } from './segment-read.js';
import { Transaction } from './transaction.js';

/** An open repository. Not safe for concurrent transactions from one instance: one writer per instance. */
export class Repository {
  readonly config: RepositoryConfig;
  readonly #backend: Backend;
  readonly #options: OpenOptions;
  readonly #lock: RepositoryLock | undefined;
  #state: LoadedIndex;
  /** The write path, and what this instance sees of the index: the committed one overlaid with the transaction. */
  readonly #txn: Transaction;
  #closed = false;
  /** The local index cache in use (see `loadIndex`), and whether the index changed since it was written. */
  #cache: IndexCache | undefined;
  #cacheStale = false;

  private constructor({ backend, config, session, lock, state }: OpenedSession, options: OpenOptions) {
    this.#backend = backend;
    this.config = config;
    this.#state = state;
    this.#lock = lock;
    this.#options = options;
    this.#txn = new Transaction({
      backend, config, session, lock, maxPendingSegments: options.maxPendingSegments,
      state: () => this.#state,
      assertWritable: () => this.#writableStore(),
      committed: () => { this.#cacheStale = true; },
    });
  }

  /**
   * Creates the store root and writes the config, then opens it. A store that already holds a
   * config → `RepositoryExistsError`; one holding anything else → `StoreNotEmptyError`, and nothing is written.
   */
  static async create(backend: Backend, options: CreateOptions & OpenOptions = {}): Promise<Repository> {
    await writeNewRepository(backend, options);
    return Repository.open(backend, options);
  }

  /**
   * Opens a repository: reads the config (`NotARepositoryError`, `UnsupportedVersionError`), takes
   * a lock (`LockedError`), loads the index (`IndexDamagedError` if an index object is damaged:
   * open again with `skipIndex` and repair).
   */
  static async open(store: Backend, options: OpenOptions = {}): Promise<Repository> {
    return new Repository(await openSession(store, options), options);
  }

  /**
   * (Re)loads the index from the store, for a repository opened with `skipIndex`. With `cache`,
   * only the index objects the local index cache has not seen are read (see index-cache.ts), and
   * the cache is rewritten when the index changed, here and at `close()` after commits, compaction
   * or repair. `IndexDamagedError` as `open`.
   */
  async loadIndex(options: { cache?: IndexCache } = {}): Promise<void> {
    this.#open();
    if (this.#txn.entries > 0 || this.#txn.committing) throw new RepositoryStateError('loadIndex: a transaction is open');
    this.#cache = options.cache;
    if (!options.cache) {
      this.#state = await loadIndexOrExplain(this.#backend);
      return;
    }
    const cache = options.cache;
    const { state, changed } = await explainDamage(() => loadIndexCached(this.#backend, cache, this.config.id));
    this.#state = state;
    if (changed) await saveIndexCache(cache, this.config.id, state);
  }

  /** Number of ids visible to this instance (committed, plus this transaction's changes). */
  get count(): number {
    return this.#txn.count;
  }

  /** True when `id` is committed (and not deleted in this transaction) or put in this transaction. */
  has(id: Uint8Array): boolean {
    return this.#txn.has(id);
  }

  /** Every visible id (fresh copies). */
  *ids(): Iterable<Uint8Array> {
    yield* this.#txn.ids();
  }

  /** Stored bytes of the value under `id` (the sealed chunk, entry header excluded), from the index; undefined when absent. */
  storedSize(id: Uint8Array): number | undefined {
    const loc = this.#txn.locate(id);
    return loc ? loc.size - PUT_HEADER_SIZE : undefined;
  }

  /**
   * The segment objects in the store, by a listing (no data is read): how many and their total bytes. This counts
   * everything the store keeps for chunks, deleted entries and garbage of crashed sessions included, until `compact`.
   */
  async segmentUsage(): Promise<{ segments: number; bytes: number }> {
    this.#open();
    let segments = 0;
    let bytes = 0;
    for await (const { key, size } of this.#backend.list(DATA_PREFIX)) {
      if (!parseSegment(key)) continue;
      segments += 1;
      bytes += size;
    }
    return { segments, bytes };
  }

  /** The value stored under `id`, digest-verified. `IdNotFoundError` if absent, `IntegrityError` if damaged. */
  async get(id: Uint8Array): Promise<Uint8Array> {
    this.#open();
    return readValue(this.#values(), id);
  }

  /**
   * The values of several ids, in the order given, each digest-verified as by `get`. Entries of one
   * segment that lie close together are read with one ranged backend read (one open and one round
   * trip instead of one per entry): a restore asks for chunks in the order a backup wrote them.
   * Any missing or damaged entry rejects the whole call, with the error `get` would give.
   */
  async getMany(ids: readonly Uint8Array[]): Promise<Uint8Array[]> {
    this.#open();
    return readValues(this.#values(), ids);
  }

  /**
   * Appends a PUT2 entry; resolves when accepted (waits while segment uploads lag). Visible to `has`
   * at once. If a background upload failed, rejects with that error and drops the transaction.
   */
  put(id: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#txn.put(id, value);
  }

  /** Appends a DELETE entry for `id` (a no-op when absent). Refused in append-only mode. */
  delete(id: Uint8Array): Promise<void> {
    return this.#txn.delete(id);
  }

  /**
   * Commits the transaction: COMMIT entry, every segment stored (the COMMIT's last), index delta,
   * and only then resolves: durable from then on. Also the checkpoint of long writers. On failure
   * the transaction is dropped whole (nothing of it becomes visible) and the error is rethrown.
   * Puts, deletes and commits called while a commit runs wait until it settles.
   */
  commit(): Promise<void> {
    return this.#txn.commit();
  }

  /** Compacts (exclusive lock required; refused in append-only mode). See compaction.ts. */
  async compact(options: CompactOptions = {}): Promise<CompactReport> {
    this.#open();
    if (this.config.appendOnly) throw new AppendOnlyError('the repository is append-only: compaction is refused');
    this.#needExclusive('compact');
    const report = await compactRepository({ backend: this.#backend, config: this.config, state: this.#state, lock: this.#lock }, options);
    this.#state = await loadIndex(this.#backend);
    this.#cacheStale = true;
    // A writer killed mid-put leaves its temporary file (fs): nothing else ever removes it.
    if (this.#backend.removeStaleTempFiles) report.staleTempFiles = await this.#backend.removeStaleTempFiles();
    return report;
  }

  /**
   * Deletes the repository: every object of cairn's key grammar, config last; other objects stay
   * and are listed in the report. Needs the exclusive lock; `AppendOnlyError` in append-only mode.
   * The repository is unusable afterwards except for `close()`, which removes the lock.
   */
  async destroy(options: { dryRun?: boolean } = {}): Promise<DestroyReport> {
    this.#open();
    if (this.config.appendOnly) throw new AppendOnlyError('the repository is append-only: deleting it is refused');
    this.#needExclusive('rdelete');
    if (this.#options.readOnly) throw new RepositoryStateError('the repository is open read-only: deleting it is refused');
    return destroyStore(this.#backend, EXCLUSIVE_LOCK_KEY, options.dryRun ?? false);
  }

  /** Verifies every segment and index object; `repair` (exclusive lock) rebuilds the index. See check.ts. */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    this.#open();
    if (options.repair) {
      this.#needExclusive('check --repair');
      if (this.#options.readOnly) throw new RepositoryStateError('the repository is open read-only: repair is refused');
    }
    const report = await checkRepository({ backend: this.#backend, config: this.config, state: this.#state, lock: this.#lock }, options);
    if (options.repair) {
      this.#state = await loadIndex(this.#backend);
      this.#cacheStale = true;
    }
    return report;
  }

  /**
   * Plans `check({ repair: true })` without writing anything (no lock needed: `check --repair --dry-run`): the
   * check's report and what repair would change. Until `apply()` (exclusive lock, not read-only) or `close()`, this
   * instance reads through the index as repair will rebuild it, so the archive repair can be planned on top; the
   * rebuilt index is never written to the local index cache before `apply()` stored it.
   */
  async planRepair(options: Omit<CheckOptions, 'repair'> = {}): Promise<{ report: CheckReport; plan: RepositoryRepairPlan; apply(): Promise<CheckReport> }> {
    this.#open();
    // The preview index has its own segment table: the puts of an open transaction would point into the old one.
    if (this.#txn.entries > 0 || this.#txn.committing) throw new RepositoryStateError('planRepair: a transaction is open');
    const planned = await planRepositoryRepair({ backend: this.#backend, config: this.config, state: this.#state, lock: this.#lock }, options);
    this.#state = planned.preview;
    return {
      report: planned.report, plan: planned.plan,
      apply: async () => {
        this.#needExclusive('check --repair');
        if (this.#options.readOnly) throw new RepositoryStateError('the repository is open read-only: repair is refused');
        await planned.apply();
        this.#state = await loadIndex(this.#backend);
        this.#cacheStale = true;
        return planned.report;
      },
    };
  }

  /** The key blob (`keys/repokey`), or undefined when the repository keeps its key elsewhere. */
  async getKeyBlob(): Promise<Uint8Array | undefined> {
    this.#open();
    return records.getOptional(this.#backend, KEY_BLOB_KEY);
  }

  /**
   * Stores the key blob atomically; with `ifAbsent`, `AlreadyExistsError` (store) if one exists. With `keepPrevious`
   * the blob it replaces is first copied to `keys/repokey.prev`, so a mistaken import or passphrase change can be undone.
   */
  async putKeyBlob(bytes: Uint8Array, options: { ifAbsent?: boolean; keepPrevious?: boolean } = {}): Promise<void> {
    this.#writableStore();
    if (options.keepPrevious) {
      const previous = await records.getOptional(this.#backend, KEY_BLOB_KEY);
      if (previous) await this.#backend.put(`${KEY_BLOB_KEY}.prev`, previous);
    }
    await this.#backend.put(KEY_BLOB_KEY, bytes, { ifAbsent: options.ifAbsent ?? false });
  }

  /** Stores the record `records/<name>` atomically (`AlreadyExistsError` with `ifAbsent` if present). */
  async putRecord(name: string, bytes: Uint8Array, options: { ifAbsent?: boolean } = {}): Promise<void> {
    this.#writableStore();
    await records.putRecord(this.#backend, this.config.appendOnly, name, bytes, options.ifAbsent ?? false);
  }

  /** The record's bytes, or undefined when there is none. */
  async getRecord(name: string): Promise<Uint8Array | undefined> {
    this.#open();
    return records.getOptional(this.#backend, RECORDS_PREFIX + name);
  }

  /** Names (without `records/`) of the records starting with `prefix`, in ascending order. */
  async *listRecords(prefix = ''): AsyncIterable<string> {
    this.#open();
    yield* records.listRecords(this.#backend, prefix);
  }

  /** Deletes a record (idempotent). Refused in append-only mode. */
  async deleteRecord(name: string): Promise<void> {
    this.#writableStore();
    await records.deleteRecord(this.#backend, this.config.appendOnly, name);
  }

  /**
   * Repair of the layer above: moves a record it cannot read to `quarantine/records-<name>` and
   * returns that key. Needs the exclusive lock; allowed in append-only mode (nothing is lost).
   */
  async quarantineRecord(name: string): Promise<string> {
    this.#writableStore();
    this.#needExclusive('quarantining a record');
    return records.quarantineRecord(this.#backend, name);
  }

  /** Drops any uncommitted transaction, waits for background uploads, releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#txn.discard();
      if (this.#cache && this.#cacheStale) await saveIndexCache(this.#cache, this.config.id, this.#state);
    } finally {
      await this.#lock?.release();
    }
  }

  /** Where `get` and `getMany` read: the store, through the index in use and the transaction. */
  #values(): ValueSource {
    return { backend: this.#backend, segments: this.#state.segments, view: this.#txn };
  }

  #open(): void {
    if (this.#closed) throw new RepositoryStateError('the repository is closed');
  }

  #writableStore(): void {
    this.#open();
    if (this.#options.readOnly) throw new RepositoryStateError('the repository is open read-only');
  }

  #needExclusive(what: string): void {
    if (!this.#lock?.exclusive) throw new RepositoryStateError(`${what} needs the exclusive lock: open with { exclusive: true }`);
    if (this.#txn.entries > 0) throw new RepositoryStateError(`${what}: commit the open transaction first`);
  }
}
