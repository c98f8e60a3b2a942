/**
 * Stores chunks for one `create` run: ids a chunk by its keyed MAC, skips chunks the repository
 * (or this run) already has, seals and puts the rest, and counts what was added.
 */
import { releaseBytes } from '../engine/index.js';
import type { ArchiveStats } from './archive-record.js';
import type { ChunkRef } from './item.js';
import type { ArchiveContext } from './ports.js';

/** Deduplicating chunk storage with the new-data counters of `ArchiveStats`. */
export class ChunkWriter {
  readonly #ctx: ArchiveContext;
  readonly #stats: ArchiveStats;
  /**
   * Ids being sealed or put right now, so concurrent files never store one twice. Removed once the
   * put is accepted: from then on `has()` answers (it covers this session's uncommitted puts).
   */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(ctx: ArchiveContext, stats: ArchiveStats) {
    this.#ctx = ctx;
    this.#stats = stats;
  }

  /** Stores `plaintext` unless present; resolves when the repository accepted it. */
  async store(plaintext: Uint8Array): Promise<ChunkRef> {
    const id = this.#ctx.codec.chunkId(plaintext);
    const ref = { id, size: plaintext.length };
    if (this.#ctx.repository.has(id)) return ref;
    const key = Buffer.from(id).toString('hex');
    const pending = this.#pending.get(key);
    if (pending) {
      await pending;
      return ref;
    }
    const work = (async () => {
      const sealed = await this.#ctx.codec.seal(id, plaintext);
      await this.#ctx.repository.put(id, sealed);
      this.#stats.chunks += 1;
      this.#stats.deduplicated += plaintext.length;
      this.#stats.compressed += sealed.length;
      releaseBytes(sealed);
    })();
    this.#pending.set(key, work);
    try {
      await work;
    } finally {
      this.#pending.delete(key);
    }
    return ref;
  }

  /** True when the chunk is stored or being stored in this run. */
  known(id: Uint8Array): boolean {
    return this.#ctx.repository.has(id) || this.#pending.has(Buffer.from(id).toString('hex'));
  }

  /**
   * Puts a chunk the pipeline already sealed, unless another file of this run stored it meanwhile.
   * `stored` is this call's alone: its memory is freed once the repository copied it (or did not need it).
   */
  async putSealed(id: Uint8Array, size: number, stored: Uint8Array): Promise<ChunkRef> {
    const key = Buffer.from(id).toString('hex');
    const pending = this.#pending.get(key);
    try {
      if (pending) await pending;
      else if (!this.#ctx.repository.has(id)) {
        const work = this.#ctx.repository.put(id, stored).then(() => {
          this.#stats.chunks += 1;
          this.#stats.deduplicated += size;
          this.#stats.compressed += stored.length;
        });
        this.#pending.set(key, work);
        try {
          await work;
        } finally {
          this.#pending.delete(key);
        }
      }
    } finally {
      releaseBytes(stored);
    }
    return { id, size };
  }

  /** True when every chunk of a list is stored (a files-cache hit is only used then). */
  hasAll(chunks: readonly ChunkRef[]): boolean {
    return chunks.every((c) => this.known(c.id));
  }
}
