/**
 * The quick count behind `create`'s totals and ETA (as restic's): a second walk of the sources
 * with the backup's own exclusions that only lists folders and stats entries, run beside the
 * backup, and stopped as soon as the backup stops.
 */
import { walk, type WalkOptions } from './walk.js';

/** Regular files and their bytes, as the backup's walk will find them (hard links counted each time). */
export interface SourceTotals {
  files: number;
  bytes: number;
}

/**
 * Counts what `walk(paths, options)` yields (the backup's options: its callbacks are not called);
 * resolves to undefined when `signal` aborts first. Warnings are the backup's to report.
 */
export async function countSources(paths: readonly string[], options: WalkOptions, signal: AbortSignal): Promise<SourceTotals | undefined> {
  const totals: SourceTotals = { files: 0, bytes: 0 };
  if (signal.aborted) return undefined;
  for await (const entry of walk(paths, { ...options, onWarning: () => undefined, onRoot: undefined, onExcluded: undefined })) {
    if (signal.aborted) return undefined;
    if (entry.stat.isFile()) {
      totals.files += 1;
      totals.bytes += Number(entry.stat.size);
    }
  }
  return signal.aborted ? undefined : totals;
}
