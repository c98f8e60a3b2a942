/**
 * `transfer`: copies archives from a related repository (one that shares this one's chunk-id key, see
 * docs/adr/0053-related-repositories-and-transfer.md) into this one. Chunks keep their ids, so only those the destination's index
 * lacks are read, authenticated and decrypted with the source's key, and sealed with the destination's; each crosses
 * once however many archives use it. Per archive: its item stream and file chunks, a commit, then the record (the
 * same plaintext under the same id) and a journal entry: nothing of an archive is visible before its record.
 * The destination commits every `commitBytes` of sealed data, so an interrupted run loses at most that much and a
 * rerun sends only what the destination has not committed.
 */
import { releaseBytes, sameIdKey } from '../engine/index.js';
import { isUnreadableRecord, listArchiveNames, putSealedRecord, readRecordWhole, recordId, type ArchiveRecord } from './archive-record.js';
import { fetchChunks } from './chunk-fetch.js';
import { InterruptedError, UnrelatedRepositoryError } from './errors.js';
import { readItems } from './item-stream.js';
import { abortable } from './read-item.js';
import type { OpenedRepository } from './open.js';
import type { ArchiveContext } from './ports.js';

/** What happened to one archive of the source. */
export type TransferStatus =
  /** Copied now (with `dryRun`: would be). */
  | 'transferred'
  /** The destination already has it (same name, same record id): nothing to do. */
  | 'present'
  /** The destination has another archive under this name: skipped, with a warning. */
  | 'name-taken'
  /** A checkpoint archive (skipped unless `includeCheckpoints`). */
  | 'checkpoint';

export interface TransferredArchive {
  name: string;
  status: TransferStatus;
  /** Chunks this archive needed that the destination lacked (copied, or with `dryRun` to copy). */
  chunks: number;
  /** Their plaintext bytes. */
  bytes: number;
  /** Their sealed bytes as stored in the destination (0 with `dryRun`). */
  stored: number;
}

export interface TransferProgress {
  /** The archive being copied. */
  archive: string;
  archivesDone: number;
  archivesTotal: number;
  /** Chunks copied so far and their plaintext bytes (all archives). */
  chunks: number;
  bytes: number;
}

export interface TransferOptions {
  /** Which source archives to consider, by name (default: all). */
  match?: (name: string) => boolean;
  /** Copy checkpoint archives too (default: skipped). */
  includeCheckpoints?: boolean;
  /** Read what is needed to count, write nothing. */
  dryRun?: boolean;
  /** Sealed bytes put into the destination between commits (default: 3/4 of its segment size, at least 1 MiB). */
  commitBytes?: number;
  onProgress?: (progress: TransferProgress) => void;
  /**
   * A source record that cannot be read is skipped and reported here; without it the transfer fails. A destination
   * archive of the same name with another record is skipped and reported through `onNameTaken`.
   */
  onUnreadable?: (name: string, error: Error) => void;
  onNameTaken?: (name: string) => void;
  /** Stops between chunks: what was put is committed, then `InterruptedError` is thrown. */
  signal?: AbortSignal;
}

export interface TransferResult {
  /** Every source archive considered, oldest first (by start time) among those copied. */
  archives: TransferredArchive[];
  /** Archives copied (or, with `dryRun`, to copy). */
  transferred: number;
  /** Chunks copied, their plaintext and their sealed bytes in the destination. */
  chunks: number;
  bytes: number;
  stored: number;
  /** Chunk references found already in the destination (not sent). */
  present: number;
  dryRun: boolean;
  durationMs: number;
}

/**
 * Refuses (`UnrelatedRepositoryError`) a transfer between repositories that do not share the chunk-id key, or from a
 * repository into itself. Compares the keys themselves, never a stored claim.
 */
export function checkRelated(dst: OpenedRepository, src: OpenedRepository): void {
  if (dst.repository.config.id === src.repository.config.id) {
    throw new UnrelatedRepositoryError('ESAME_REPOSITORY', `the other repository is this repository (${dst.repository.config.id.slice(0, 16)}): give another one with --other-repo`);
  }
  if (!sameIdKey(dst.key, src.key)) {
    throw new UnrelatedRepositoryError('EUNRELATED_REPOSITORY', `repository ${dst.repository.config.id.slice(0, 16)} is not related to ${src.repository.config.id.slice(0, 16)} (they do not share the chunk-id key): create the destination with "cairn -r DST rcreate --other-repo SRC --encryption MODE" and transfer into it`);
  }
}

/** Copies the archives of `src` that `dst` lacks into `dst`; see the module header and `TransferOptions`. */
export async function transferArchives(dst: OpenedRepository, src: OpenedRepository, options: TransferOptions = {}): Promise<TransferResult> {
  const started = performance.now();
  checkRelated(dst, src);
  const match = options.match ?? (() => true);
  const have = new Set(await listArchiveNames(dst));
  const archives: TransferredArchive[] = [];
  const todo: { record: ArchiveRecord; id: Uint8Array; plaintext: Uint8Array }[] = [];
  for (const name of await listArchiveNames(src)) {
    if (!match(name)) continue;
    const entry: TransferredArchive = { name, status: 'transferred', chunks: 0, bytes: 0, stored: 0 };
    if (have.has(name)) {
      const [mine, theirs] = await Promise.all([recordId(dst, name), recordId(src, name)]);
      entry.status = mine && theirs && Buffer.from(mine).equals(theirs) ? 'present' : 'name-taken';
      if (entry.status === 'name-taken') options.onNameTaken?.(name);
      archives.push(entry);
      continue;
    }
    let whole;
    try {
      whole = await readRecordWhole(src, name);
    } catch (error) {
      if (!options.onUnreadable || !isUnreadableRecord(error)) throw error;
      options.onUnreadable(name, error);
      continue;
    }
    if (whole.record.checkpoint && !options.includeCheckpoints) {
      archives.push({ ...entry, status: 'checkpoint' });
      continue;
    }
    todo.push(whole);
  }
  todo.sort((a, b) => (a.record.start < b.record.start ? -1 : a.record.start > b.record.start ? 1 : 0));
  const copier = new ChunkCopier(dst, src, options);
  let transferred = 0;
  for (const whole of todo) {
    let entry: TransferredArchive;
    try {
      entry = await copier.archive(whole.record, transferred, todo.length);
    } catch (error) {
      // Keep what was put (an interrupted or failed run then resumes from there); the error is the one to report.
      if (!options.dryRun) await copier.commit().catch(() => undefined);
      throw error;
    }
    if (!options.dryRun) {
      // The chunks first, committed; then the record, sealed under the source's id; then the journal entry.
      await copier.commit();
      const sealed = await dst.codec.seal(whole.id, whole.plaintext);
      await putSealedRecord(dst, whole.record.name, whole.id, sealed);
      // Checkpoints are not journaled (as create leaves them): they come and go without the journal's say.
      if (!whole.record.checkpoint) await dst.journal?.append({ added: [{ name: whole.record.name, id: whole.id }] });
    }
    transferred += 1;
    archives.push(entry);
  }
  return {
    archives, transferred, chunks: copier.chunks, bytes: copier.bytes, stored: copier.stored, present: copier.present,
    dryRun: options.dryRun === true, durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Chunk plaintext held in flight between the source's reads and the destination's puts; batches are opened on the
 * source codec's workers when it has them (the CLI opens the source without: docs/adr/0060-open-chunks-on-workers.md).
 */
const FETCH_LIMITS = { requests: 8, budget: 64 * 1024 * 1024, offload: true };

/** Copies the chunks of archives that the destination lacks, committing every `commitBytes`. */
class ChunkCopier {
  chunks = 0;
  bytes = 0;
  stored = 0;
  present = 0;
  readonly #dst: ArchiveContext;
  readonly #src: ArchiveContext;
  readonly #options: TransferOptions;
  readonly #commitBytes: number;
  #uncommitted = 0;
  /** Ids counted for a dry run (nothing is put, so the destination's index does not learn them). */
  readonly #counted = new Set<string>();
  /** Ids claimed for copying and not yet put (then the destination's `has` knows them). */
  readonly #queued = new Set<string>();
  #commits: Promise<void> = Promise.resolve();

  constructor(dst: OpenedRepository, src: OpenedRepository, options: TransferOptions) {
    this.#dst = dst;
    this.#src = src;
    this.#options = options;
    // Three quarters of a segment: the COMMIT entry then usually lands in the segment the transaction filled, so a
    // transaction is one segment object, and an interruption loses at most about one.
    this.#commitBytes = options.commitBytes ?? Math.max(1024 * 1024, Math.floor(dst.repository.config.segmentSize * 3 / 4));
  }

  /** Copies (or counts) every chunk of one archive the destination lacks. */
  async archive(record: ArchiveRecord, done: number, total: number): Promise<TransferredArchive> {
    const entry: TransferredArchive = { name: record.name, status: 'transferred', chunks: 0, bytes: 0, stored: 0 };
    const report = () => this.#options.onProgress?.({ archive: record.name, archivesDone: done, archivesTotal: total, chunks: this.chunks, bytes: this.bytes });
    report();
    const copy = async (id: Uint8Array, plaintext: Uint8Array): Promise<void> => {
      this.#stopIfAsked();
      const stored = this.#options.dryRun ? 0 : await this.#put(id, plaintext);
      entry.chunks += 1; entry.bytes += plaintext.length; entry.stored += stored;
      this.chunks += 1; this.bytes += plaintext.length; this.stored += stored;
      report();
    };
    // The item stream's chunks are copied as they are read for their items (read once).
    const onChunk = async (id: Uint8Array, plaintext: Uint8Array): Promise<void> => {
      if (this.#claim(id)) await copy(id, plaintext);
    };
    const missing = async function* (this: ChunkCopier): AsyncGenerator<{ id: Uint8Array; size: number }> {
      for await (const item of readItems(this.#src, record.items, { onChunk })) {
        for (const ref of item.chunks ?? []) {
          if (!this.#claim(ref.id)) continue;
          if (this.#options.dryRun) {
            // Counted from the item, not read: a dry run reads only the item streams.
            entry.chunks += 1; entry.bytes += ref.size; this.chunks += 1; this.bytes += ref.size;
            continue;
          }
          yield ref;
        }
      }
    }.bind(this);
    if (this.#options.dryRun) {
      for await (const ref of missing()) void ref; // never yields: missing() counts
      return entry;
    }
    // A stop ends the wait for the next chunk too: reads held back by a rate limit or a slow store may take seconds.
    const fetched = fetchChunks(this.#src, missing(), FETCH_LIMITS);
    try {
      for await (const { ref, data, error } of this.#options.signal ? abortable(fetched, this.#options.signal) : fetched) {
        if (data === undefined) throw error;
        await copy(ref.id, data);
      }
    } catch (error) {
      if (error instanceof InterruptedError) this.#stopIfAsked();
      throw error;
    }
    return entry;
  }

  /** Commits what was put (waits for a commit already running). */
  async commit(): Promise<void> {
    this.#commits = this.#commits.then(() => this.#dst.repository.commit());
    this.#uncommitted = 0;
    await this.#commits;
  }

  /** True when `id` is to be copied by the caller: the destination lacks it and nobody else copies it. Else counts it present. */
  #claim(id: Uint8Array): boolean {
    const hex = Buffer.from(id).toString('hex');
    if (this.#dst.repository.has(id) || this.#queued.has(hex) || this.#counted.has(hex)) {
      this.present += 1;
      return false;
    }
    (this.#options.dryRun ? this.#counted : this.#queued).add(hex);
    return true;
  }

  /** Seals with the destination's key and puts; commits once `commitBytes` are waiting. Resolves to the sealed size. */
  async #put(id: Uint8Array, plaintext: Uint8Array): Promise<number> {
    const sealed = await this.#dst.codec.seal(id, plaintext);
    const size = sealed.length;
    await this.#dst.repository.put(id, sealed);
    // Copied by the put: its memory goes back now, not at the next GC.
    releaseBytes(sealed);
    // From here the destination's index answers for it.
    this.#queued.delete(Buffer.from(id).toString('hex'));
    this.#uncommitted += size;
    if (this.#uncommitted >= this.#commitBytes) await this.commit();
    return size;
  }

  /** On a stop request: commit what was put, then throw `InterruptedError`. */
  #stopIfAsked(): void {
    const signal = this.#options.signal;
    if (!signal?.aborted) return;
    const error = new InterruptedError(String(signal.reason));
    error.message = `interrupted by ${String(signal.reason)}: the chunks copied so far are committed in the destination, no archive was added for the unfinished one; run the same command again to continue (it does not send them again)`;
    throw error;
  }
}
