/**
 * Repository and archive statistics: what the store holds (from a listing and the index: no chunk is downloaded) and
 * what the archives reference (from their item streams, each read once). Definitions, also in docs/cli.md ("stats"):
 *
 * - original: the plaintext size of every file of every archive counted (a file in 3 archives counts 3 times);
 * - deduplicated: the plaintext size of the distinct chunks those files reference (each chunk once): what
 *   deduplication could not avoid; never larger than original;
 * - compressed: the stored (compressed and encrypted) size of those distinct chunks, as the index records it;
 * - added (per archive, oldest first): the distinct chunks an archive references that no older archive does, i.e.
 *   what it added to the repository when it was made (provided nothing older was deleted since);
 * - metadata: the item-stream chunks (names, modes, times, chunk lists), outside the three figures above.
 */
import { listArchives, type ListArchivesOptions } from './list.js';
import type { ArchiveRecord } from './archive-record.js';
import { readItems } from './item-stream.js';
import type { ArchiveContext } from './ports.js';

/** Distinct chunks: how many, their plaintext bytes, their stored bytes. */
export interface ChunkTotals { chunks: number; size: number; stored: number }

/** One archive's figures. */
export interface ArchiveUsage {
  name: string;
  start: bigint;
  checkpoint: boolean;
  files: number;
  /** Plaintext size of its files. */
  original: number;
  /** Distinct data chunks it references (its size deduplicated within itself). */
  referenced: ChunkTotals;
  /** Distinct data chunks no older archive references. */
  added: ChunkTotals;
}

/** The repository and every archive counted. */
export interface RepositoryStats {
  /** Segment objects in the store and their bytes (a listing): the repository's size, garbage until compact included. */
  segments: number;
  size: number;
  /** Chunks in the index (data, metadata, unreferenced until compact) and their stored bytes. */
  chunks: number;
  stored: number;
  archives: number;
  files: number;
  original: number;
  /** Distinct data chunks of all archives counted: `size` is "deduplicated", `stored` is "compressed". */
  unique: ChunkTotals;
  /** original / deduplicated (how many times deduplication shrank the data); null when nothing is stored. */
  dedupRatio: number | null;
  /** deduplicated / compressed (how many times compression, after encryption overhead, shrank it); null when nothing is stored. */
  compressionRatio: number | null;
  /** Distinct item-stream chunks of the archives counted, and their stored bytes. */
  metadata: { chunks: number; stored: number };
  /** Chunks referenced by an archive and missing from the index (damage: run check). */
  missing: number;
  perArchive: ArchiveUsage[];
}

export interface StatsOptions extends ListArchivesOptions {
  /** Archives counted (default all, checkpoints included: they keep data too). */
  archives?(record: ArchiveRecord): boolean;
}

const key = (id: Uint8Array): string => Buffer.from(id).toString('latin1');

/** Counts the repository (listing + index) and the archives (oldest first); reads each item stream once. */
export async function repositoryStats(ctx: ArchiveContext, options: StatsOptions = {}): Promise<RepositoryStats> {
  const repo = ctx.repository;
  const usage = await repo.segmentUsage?.() ?? { segments: 0, bytes: 0 };
  let stored = 0;
  let chunks = 0;
  for (const id of repo.ids()) { chunks += 1; stored += repo.storedSize?.(id) ?? 0; }
  const seen = new Set<string>();
  const seenMeta = new Set<string>();
  const stats: RepositoryStats = {
    segments: usage.segments, size: usage.bytes, chunks, stored, archives: 0, files: 0, original: 0,
    unique: { chunks: 0, size: 0, stored: 0 }, dedupRatio: null, compressionRatio: null, metadata: { chunks: 0, stored: 0 },
    missing: 0, perArchive: [],
  };
  const storedOf = (id: Uint8Array): number => {
    const n = repo.storedSize?.(id);
    if (n === undefined) stats.missing += 1;
    return n ?? 0;
  };
  for (const record of await listArchives(ctx, options)) {
    if (options.archives && !options.archives(record)) continue;
    stats.archives += 1;
    const mine = new Set<string>();
    const a: ArchiveUsage = {
      name: record.name, start: record.start, checkpoint: record.checkpoint, files: 0, original: 0,
      referenced: { chunks: 0, size: 0, stored: 0 }, added: { chunks: 0, size: 0, stored: 0 },
    };
    for (const id of record.items) {
      if (seenMeta.has(key(id))) continue;
      seenMeta.add(key(id));
      stats.metadata.chunks += 1;
      stats.metadata.stored += storedOf(id);
    }
    for await (const item of readItems(ctx, record.items)) {
      if (!item.chunks) continue;
      a.files += 1;
      for (const ref of item.chunks) {
        a.original += ref.size;
        const k = key(ref.id);
        if (mine.has(k)) continue;
        mine.add(k);
        const s = storedOf(ref.id);
        add(a.referenced, ref.size, s);
        if (seen.has(k)) continue;
        seen.add(k);
        add(a.added, ref.size, s);
      }
    }
    stats.files += a.files;
    stats.original += a.original;
    add(stats.unique, a.added.size, a.added.stored, a.added.chunks);
    stats.perArchive.push(a);
  }
  const u = stats.unique;
  stats.dedupRatio = u.size > 0 ? stats.original / u.size : null;
  stats.compressionRatio = u.stored > 0 ? u.size / u.stored : null;
  return stats;
}

function add(t: ChunkTotals, size: number, stored: number, chunks = 1): void {
  t.chunks += chunks;
  t.size += size;
  t.stored += stored;
}
