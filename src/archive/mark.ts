/**
 * Mark phase shared by compact and check: every chunk id referenced by any archive (item stream
 * chunks and file chunks). A set of hex ids: ~100 bytes per live chunk in memory.
 */
import { isUnreadableRecord, listArchiveNames, readRecord } from './archive-record.js';
import { RecordUnreadableError } from './errors.js';
import { readItems } from './item-stream.js';
import type { ArchiveContext } from './ports.js';

export interface LiveSet {
  archives: number;
  items: number;
  /** Referenced id (hex) → plaintext size (item-stream chunks have size -1: unknown until read). */
  ids: Map<string, number>;
}

/**
 * Reads every archive; any archive that cannot be read rejects (never sweep on a partial mark): a
 * bad record with `RecordUnreadableError`, since the archive it held may reference any chunk.
 */
export async function markLive(ctx: ArchiveContext, names?: readonly string[]): Promise<LiveSet> {
  const live: LiveSet = { archives: 0, items: 0, ids: new Map() };
  for (const name of names ?? await listArchiveNames(ctx)) {
    const record = await readRecord(ctx, name).catch((error: unknown) => {
      throw isUnreadableRecord(error) ? new RecordUnreadableError(name, { cause: error }) : error;
    });
    live.archives += 1;
    for (const id of record.items) live.ids.set(Buffer.from(id).toString('hex'), -1);
    for await (const item of readItems(ctx, record.items)) {
      live.items += 1;
      for (const c of item.chunks ?? []) live.ids.set(Buffer.from(c.id).toString('hex'), c.size);
    }
  }
  return live;
}
