/**
 * `check --verify-data` in one read: the repository's whole-segment scan (`CheckOptions.onValue`)
 * hands over the stored value of every indexed chunk while it holds the segment, and this opens it
 * (authenticates, decrypts, decompresses, recomputes its id). `checkArchives` then takes the
 * outcome from `settled()` instead of downloading the chunk a second time; only chunks the scan did
 * not hand over (in a missing segment, or whose entry is damaged) are fetched again, so their
 * error names them as before.
 *
 * With a codec that has `openMany`, values are collected into batches (`BATCH_BYTES` or
 * `BATCH_CHUNKS`) opened on its worker threads, at most `BATCHES` (4) at once while the scan goes on.
 * When that many are out, the next batch is opened here: this thread is otherwise idle during a
 * check, so it works beside the workers. A chunk the workers could not open is opened again here,
 * which gives its error. If the workers themselves fail, `onValue` and `settled` reject with that
 * error: it is not a damaged chunk.
 */
import { releaseBytes } from '../engine/index.js';
import { chunkHex } from './chunk-fetch.js';
import type { ArchiveContext } from './ports.js';

/** Per chunk (hex id): its plaintext size once opened, or the error opening it gave. */
export type ScannedChunks = Map<string, number | Error>;

const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_CHUNKS = 64;
/**
 * Batches out on the workers before this thread opens one itself. While this thread opens a batch
 * (tens of ms) it sends nothing, so the workers need that much queued: 4 took a check of the 1 GiB
 * dataset 5.1–5.5 s against 5.5–6.2 s with 2, for ~10 MiB more (docs/performance.md).
 */
const BATCHES = 4;

export interface ScanOpener {
  /** The `onValue` visitor for `repository.check({ readData: true, onValue })`. */
  onValue(id: Uint8Array, value: Uint8Array): Promise<void>;
  /** What the scan found, once every value handed over is opened. */
  settled(): Promise<ScannedChunks>;
}

/** A scan opener for `ctx`; `onProgress` is told the chunks opened so far of the chunks the repository holds. */
export function scanOpener(ctx: ArchiveContext, onProgress?: (done: number, total: number) => void): ScanOpener {
  const scanned: ScannedChunks = new Map();
  let total = 0;
  if (onProgress) for (const _ of ctx.repository.ids()) total += 1;
  const record = (hex: string, outcome: number | Error): void => {
    scanned.set(hex, outcome);
    onProgress?.(scanned.size, Math.max(total, scanned.size));
  };
  /** Opens one value on this thread. */
  const openHere = async (id: Uint8Array, value: Uint8Array): Promise<void> => {
    try {
      const plain = await ctx.codec.open(id, value);
      record(chunkHex(id), plain.length);
      releaseBytes(plain);
    } catch (error) {
      record(chunkHex(id), error instanceof Error ? error : new Error(String(error)));
    }
  };
  const openMany = ctx.codec.openMany?.bind(ctx.codec);
  if (!openMany) return { onValue: openHere, settled: async () => scanned };

  let ids: Uint8Array[] = [];
  let values: Uint8Array[] = [];
  let bytes = 0;
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const send = async (): Promise<void> => {
    if (ids.length === 0) return;
    const batch = { ids, values };
    ids = [];
    values = [];
    bytes = 0;
    if (running.size >= BATCHES) {
      for (let i = 0; i < batch.ids.length; i++) await openHere(batch.ids[i], batch.values[i]);
      // Let the workers' answers in (they are macrotasks): else this thread alone would open everything.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    const done = openMany(batch.ids, batch.values).then(async (plain) => {
      for (let i = 0; i < plain.length; i++) {
        const p = plain[i];
        if (p) {
          record(chunkHex(batch.ids[i]), p.length);
          // Only its size is kept: its memory goes back now, not at the next GC.
          releaseBytes(p);
        } else await openHere(batch.ids[i], batch.values[i]);
      }
    });
    done.catch((error: unknown) => { failure ??= { error }; });
    running.add(done);
    void done.finally(() => running.delete(done)).catch(() => undefined);
  };
  return {
    async onValue(id, value) {
      ids.push(id);
      values.push(value);
      bytes += value.length;
      if (bytes >= BATCH_BYTES || ids.length >= BATCH_CHUNKS) await send();
      if (failure) throw failure.error;
    },
    async settled() {
      await send();
      await Promise.all(running);
      return scanned;
    },
  };
}
