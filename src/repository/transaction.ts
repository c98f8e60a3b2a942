/**
 * The write path of an open repository: its transaction. PUT2 and DELETE entries go to the session's
 * `SegmentWriter` and into the transaction's own tables, which overlay the committed index (what
 * `has`, `count` and the read path see); `commit` appends the COMMIT entry, waits until every segment
 * is stored, stores the index delta and only then folds the transaction into the committed index.
 */
import type { Backend } from '../store/backend.js';
import type { RepositoryConfig } from './config.js';
import { AppendOnlyError } from './errors.js';
import { ChunkIndex, type Location } from './index-table.js';
import { packPuts } from './full-index.js';
import { encodeIndex, KIND_DELTA } from './index-format.js';
import type { LoadedIndex } from './index-load.js';
import { deltaKey, parseSegment } from './layout.js';
import type { RepositoryLock } from './locks.js';
import { SegmentWriter } from './segment-writer.js';
import { encodeCommit, encodeDelete, encodePutHeader, ID_SIZE } from './segment-format.js';

/** What a transaction needs of the repository that opened it. */
export interface TransactionContext {
  backend: Backend;
  config: RepositoryConfig;
  /** The session's id: its segments are `data/<session>/<seq>`, its lock is `locks/<session>`. */
  session: string;
  lock: RepositoryLock | undefined;
  /** Sealed segments that may wait for upload at once (`OpenOptions.maxPendingSegments`). */
  maxPendingSegments: number | undefined;
  /** The committed index in use (the repository replaces it when it reloads the index). */
  state(): LoadedIndex;
  /** Throws unless the repository is open for writing; called where each write begins. */
  assertWritable(): void;
  /** Called when a commit has changed the committed index. */
  committed(): void;
}

/** One repository instance's writes: one transaction at a time, reused after each commit. */
export class Transaction {
  readonly #ctx: TransactionContext;
  #writer: SegmentWriter | undefined;
  #puts = new ChunkIndex();
  #deletes = new ChunkIndex();
  #entries = 0;
  #first = 0;
  /** The commit in progress, if any: entries wait for it (see `commit`). */
  #committing: Promise<void> | undefined;

  constructor(ctx: TransactionContext) {
    this.#ctx = ctx;
  }

  /** Entries appended since the last commit (0: no transaction is open). */
  get entries(): number { return this.#entries; }

  /** True while a commit runs. */
  get committing(): boolean { return this.#committing !== undefined; }

  /** Where `id` lies as this instance sees it: put in this transaction, or committed and not deleted in it. */
  locate(id: Uint8Array): Location | undefined {
    return this.#puts.get(id) ?? (this.#deletes.has(id) ? undefined : this.#ctx.state().index.get(id));
  }

  /** True when `id` is committed (and not deleted in this transaction) or put in this transaction. */
  has(id: Uint8Array): boolean {
    return this.#puts.has(id) || (!this.#deletes.has(id) && this.#ctx.state().index.has(id));
  }

  /** Number of ids visible (committed, plus this transaction's changes). */
  get count(): number {
    const index = this.#ctx.state().index;
    let n = index.count;
    for (const { id } of this.#puts.entries()) if (!index.has(id)) n++;
    for (const { id } of this.#deletes.entries()) if (index.has(id)) n--;
    return n;
  }

  /** Every visible id (fresh copies). */
  *ids(): Iterable<Uint8Array> {
    for (const { id } of this.#ctx.state().index.entries()) if (!this.#deletes.has(id) && !this.#puts.has(id)) yield id;
    for (const { id } of this.#puts.entries()) yield id;
  }

  /** The bytes of an entry whose segment is still in memory (open or uploading), or undefined. */
  held(name: string, offset: number, size: number): Uint8Array | undefined {
    return this.#writer?.read(name, offset, size);
  }

  /** `Repository.put`: appends a PUT2 entry, then waits while uploads lag. */
  async put(id: Uint8Array, value: Uint8Array): Promise<void> {
    if (this.#committing) await this.#commitSettled();
    const writer = this.#writable();
    const header = encodePutHeader(id, value);
    const at = writer.append([header, value]);
    this.#noteEntry(at.name);
    this.#puts.set(id, this.#ctx.state().segments.ref(at.name), at.offset, at.size);
    this.#deletes.delete(id);
    await this.#backpressure(writer);
  }

  /** `Repository.delete`: appends a DELETE entry, then waits while uploads lag. */
  async delete(id: Uint8Array): Promise<void> {
    if (this.#committing) await this.#commitSettled();
    const writer = this.#writable();
    if (this.#ctx.config.appendOnly) throw new AppendOnlyError('the repository is append-only: deleting is refused');
    if (!this.has(id)) return;
    const at = writer.append([encodeDelete(id)]);
    this.#noteEntry(at.name);
    this.#puts.delete(id);
    this.#deletes.set(id, 0, 0, 0);
    await this.#backpressure(writer);
  }

  /** `Repository.commit`: after any commit still running, commits what was appended since. */
  async commit(): Promise<void> {
    // Entries appended while a commit awaits its uploads would land after its COMMIT entry but in
    // its index delta; so puts, deletes and further commits called after this one wait until it
    // settles. `#committing` is set before the first await, so that holds from this call on.
    const previous = this.#committing;
    const run = (async () => {
      if (previous) await previous.catch(() => undefined);
      await this.#commitNow();
    })();
    this.#committing = run;
    try {
      await run;
    } finally {
      if (this.#committing === run) this.#committing = undefined;
    }
  }

  /**
   * Drops the uncommitted transaction: lets a running commit finish (its COMMIT entry may already be
   * stored: dropping its puts then would write an empty index delta), waits for background uploads
   * and throws away the open segment.
   */
  async discard(): Promise<void> {
    await this.#commitSettled();
    if (this.#writer) { await this.#writer.settle(); this.#writer.discard(); }
    this.#reset();
  }

  /** Resolves once no commit is running (whether it succeeded or failed). */
  async #commitSettled(): Promise<void> {
    while (this.#committing) await this.#committing.catch(() => undefined);
  }

  async #commitNow(): Promise<void> {
    const writer = this.#writable();
    if (this.#entries === 0) return;
    try {
      await this.#ctx.lock?.check();
      writer.ensureRoom(128);
      const info = { session: writer.session, first: this.#first, last: writer.seq, entries: this.#entries, time: Date.now() };
      writer.append([encodeCommit(info)]);
      await writer.finishTransaction();
      const puts = [...this.#puts.entries()];
      const { names, putIds, putLocs } = packPuts(puts, puts.length, this.#ctx.state().segments);
      const deletes = [...this.#deletes.entries()];
      const deleteIds = new Uint8Array(deletes.length * ID_SIZE);
      deletes.forEach((d, i) => deleteIds.set(d.id, i * ID_SIZE));
      const key = deltaKey(writer.session, info.last);
      const header = { segments: names, txns: [[info.session, info.first, info.last] as [string, number, number]], time: info.time, puts: puts.length, deletes: deletes.length };
      const delta = encodeIndex({ kind: KIND_DELTA, header, putIds, putLocs, deleteIds });
      await this.#ctx.backend.put(key, delta, { ifAbsent: true });
      const state = this.#ctx.state();
      for (const p of puts) state.index.set(p.id, p.segment, p.offset, p.size);
      for (const d of deletes) state.index.delete(d.id);
      state.txns.push(header.txns[0]);
      state.deltaKeys.push(key);
      state.deltaInfo.set(key, { size: delta.length, time: info.time, deletes: deletes.length });
      this.#ctx.committed();
      this.#reset();
    } catch (err) {
      await this.#abort(writer);
      throw err;
    }
  }

  #writable(): SegmentWriter {
    this.#ctx.assertWritable();
    this.#writer ??= new SegmentWriter(this.#ctx.backend, this.#ctx.session, { segmentSize: this.#ctx.config.segmentSize, maxPending: this.#ctx.maxPendingSegments });
    return this.#writer;
  }

  #noteEntry(name: string): void {
    if (this.#entries === 0) this.#first = parseSegment(name)!.seq;
    this.#entries++;
  }

  /** Waits while uploads lag; an upload failure drops the whole transaction and is rethrown. */
  async #backpressure(writer: SegmentWriter): Promise<void> {
    try {
      await writer.backpressure();
    } catch (err) {
      await this.#abort(writer);
      throw err;
    }
  }

  async #abort(writer: SegmentWriter): Promise<void> {
    await writer.settle();
    writer.discard();
    this.#reset();
  }

  #reset(): void {
    this.#puts = new ChunkIndex();
    this.#deletes = new ChunkIndex();
    this.#entries = 0;
  }
}
