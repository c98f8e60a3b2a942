/**
 * `check --verify-data` in one read: the repository's whole-segment scan (`CheckOptions.onValue`)
 * hands over the stored value of every indexed chunk while it holds the segment, and this opens it
 * there (authenticates, decrypts, decompresses, recomputes its id). `checkArchives` then takes the
 * outcome from `scanned` instead of downloading the chunk a second time; only chunks the scan did
 * not hand over (in a missing segment, or whose entry is damaged) are fetched again, so their
 * error names them as before.
 */
import { chunkHex } from './chunk-fetch.js';
import type { ArchiveContext } from './ports.js';

/** Per chunk (hex id): its plaintext size once opened, or the error opening it gave. */
export type ScannedChunks = Map<string, number | Error>;

/**
 * The `onValue` visitor for `repository.check({ readData: true, onValue })` and what it found.
 * `onProgress` is told the chunks opened so far of the chunks the repository holds.
 */
export function scanOpener(ctx: ArchiveContext, onProgress?: (done: number, total: number) => void): { scanned: ScannedChunks; onValue(id: Uint8Array, value: Uint8Array): Promise<void> } {
  const scanned: ScannedChunks = new Map();
  let total = 0;
  if (onProgress) for (const _ of ctx.repository.ids()) total += 1;
  return {
    scanned,
    async onValue(id, value) {
      const hex = chunkHex(id);
      try {
        scanned.set(hex, (await ctx.codec.open(id, value)).length);
      } catch (error) {
        scanned.set(hex, error instanceof Error ? error : new Error(String(error)));
      }
      onProgress?.(scanned.size, Math.max(total, scanned.size));
    },
  };
}
