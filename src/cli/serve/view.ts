/**
 * What `cairn serve` knows of the repository: the repository opened read-only with no lock on a store wrapped by
 * `readOnly` (so not one write request can leave this process), the archive records, a few archive trees, and the
 * repository statistics once asked for. When the set of archive records changes (another client made or deleted an
 * archive) or a chunk is missing from where the index said (a compaction ran meanwhile), the repository is opened
 * again: the index is read anew (from the local index cache, so only what changed is fetched).
 */
import {
  listArchiveNames, listArchives, openArchiveTree, repositoryStats, type ArchiveRecord, type ArchiveTree, type OpenedRepository,
  type RepositoryStats, type Store,
} from '../../index.js';

/** Trees (folder indexes) kept in memory at once; each holds its archive's items' metadata. */
const TREES = 4;

/** How long a repository replaced by a reopen stays open for the requests still using it. */
const RETIRE_MS = 60_000;

/** Errors that mean "the repository changed under us": reopen and try again once. */
const STALE = new Set(['ENOT_FOUND_ID', 'ENOTFOUND_KEY', 'EARCHIVE_NOT_FOUND']);

export function isStale(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE.has(code);
}

export class ServeView {
  readonly store: Store;
  readonly started = new Date();
  readonly #open: () => Promise<OpenedRepository>;
  #opened: OpenedRepository;
  #records: ArchiveRecord[] | undefined;
  #names = '';
  readonly #trees = new Map<string, Promise<ArchiveTree>>();
  #stats: Promise<RepositoryStats> | undefined;
  /** Unreadable archive records found by the last listing (name → reason). */
  unreadable = new Map<string, string>();
  #reopening: Promise<void> | undefined;
  /** Repositories replaced by a reopen, closed once the requests using them had time to finish. */
  readonly #retired = new Map<OpenedRepository, ReturnType<typeof setTimeout>>();

  private constructor(store: Store, open: () => Promise<OpenedRepository>, opened: OpenedRepository) {
    this.store = store;
    this.#open = open;
    this.#opened = opened;
  }

  /** Opens the repository with `open` (which must open it read-only, without a lock, on `store`). */
  static async create(store: Store, open: () => Promise<OpenedRepository>): Promise<ServeView> {
    return new ServeView(store, open, await open());
  }

  get opened(): OpenedRepository {
    return this.#opened;
  }

  /** Every archive record, oldest first; the names are listed again each call (one list request) and the repository reopened when they changed. */
  async archives(): Promise<ArchiveRecord[]> {
    const names = (await listArchiveNames(this.#opened)).join('\n');
    if (this.#records && names !== this.#names) await this.reopen();
    if (!this.#records) {
      const unreadable = new Map<string, string>();
      this.#records = await listArchives(this.#opened, { onUnreadable: (name, error) => unreadable.set(name, error.message.split('\n')[0]) });
      this.unreadable = unreadable;
      this.#names = names;
    }
    return this.#records;
  }

  /** The tree of archive `name` (at most `TREES` kept; the least recently used goes). */
  tree(name: string): Promise<ArchiveTree> {
    let tree = this.#trees.get(name);
    if (tree) this.#trees.delete(name);
    else {
      tree = openArchiveTree(this.#opened, name);
      tree.catch(() => this.#trees.delete(name));
    }
    this.#trees.set(name, tree);
    while (this.#trees.size > TREES) this.#trees.delete(this.#trees.keys().next().value!);
    return tree;
  }

  /** The repository statistics (every item stream read once), computed on the first call and kept. */
  stats(): Promise<RepositoryStats> {
    this.#stats ??= repositoryStats(this.#opened, { onUnreadable: () => undefined });
    this.#stats.catch(() => { this.#stats = undefined; });
    return this.#stats;
  }

  /** Runs `work`; when it fails because the repository changed under it, reopens and runs it once more. */
  async retrying<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isStale(error)) throw error;
      await this.reopen();
      return work();
    }
  }

  /** Opens the repository again (new index, records, trees, statistics); concurrent calls share one reopen. */
  async reopen(): Promise<void> {
    this.#reopening ??= (async () => {
      const old = this.#opened;
      this.#opened = await this.#open();
      this.#records = undefined;
      this.#trees.clear();
      this.#stats = undefined;
      // Requests still reading through the old one (a download) finish first: it is closed a minute later.
      const timer = setTimeout(() => { this.#retired.delete(old); void old.close().catch(() => undefined); }, RETIRE_MS);
      timer.unref();
      this.#retired.set(old, timer);
    })().finally(() => { this.#reopening = undefined; });
    return this.#reopening;
  }

  async close(): Promise<void> {
    await this.#reopening?.catch(() => undefined);
    for (const [old, timer] of this.#retired) {
      clearTimeout(timer);
      await old.close().catch(() => undefined);
    }
    this.#retired.clear();
    await this.#opened.close();
  }
}
