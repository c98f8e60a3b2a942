/**
 * `info`: an archive's record plus what only reading its items tells: the number of items, its
 * unique chunks and their total plaintext size (what this archive alone references).
 */
import { readRecord, type ArchiveRecord } from './archive-record.js';
import { readItems } from './item-stream.js';
import type { ArchiveContext } from './ports.js';

export interface ArchiveInfo extends ArchiveRecord {
  /** Wall time of the `create` run, in seconds. */
  duration: number;
  itemCount: number;
  /** Distinct chunks referenced by the archive's files. */
  uniqueChunks: number;
  /** Plaintext bytes of those distinct chunks (the archive's size after deduplication within itself). */
  uniqueSize: number;
}

/** Reads an archive's record and items; `ArchiveNotFoundError` when it does not exist. */
export async function archiveInfo(ctx: ArchiveContext, name: string): Promise<ArchiveInfo> {
  const record = await readRecord(ctx, name);
  const seen = new Set<string>();
  let itemCount = 0;
  let uniqueSize = 0;
  for await (const item of readItems(ctx, record.items)) {
    itemCount += 1;
    for (const c of item.chunks ?? []) {
      const hex = Buffer.from(c.id).toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      uniqueSize += c.size;
    }
  }
  return { ...record, duration: Number(record.end - record.start) / 1e9, itemCount, uniqueChunks: seen.size, uniqueSize };
}
