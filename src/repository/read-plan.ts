/**
 * Groups the entries of one segment that a caller wants at once into runs that one ranged read
 * can cover: a restore asks for chunks in the order a backup wrote them, so neighbours are common.
 */

/** Two entries share a read when at most this many bytes lie between them... */
export const COALESCE_GAP = 64 * 1024;
/** ...and the whole read stays within this size. */
export const COALESCE_SPAN = 16 * 1024 * 1024;

/** An entry wanted from a segment: where it lies, and `index`, its place in the caller's request. */
export interface WantedEntry {
  index: number;
  offset: number;
  size: number;
}

/**
 * Sorts `entries` by offset and splits them into runs, each to be read with one request from the
 * first entry's offset to the end of the last one. Every entry is in exactly one run.
 */
export function planRuns(entries: WantedEntry[], gap = COALESCE_GAP, span = COALESCE_SPAN): WantedEntry[][] {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  const runs: WantedEntry[][] = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    const first = sorted[start];
    const prev = sorted[i - 1];
    const next = sorted[i];
    if (next && next.offset - (prev.offset + prev.size) <= gap && next.offset + next.size - first.offset <= span) continue;
    runs.push(sorted.slice(start, i));
    start = i;
  }
  return runs;
}
