/** The sequential half of the chunker: turns candidate cut points into chunk boundaries under min/avg/max. */
import type { CdcSizes } from './params.js';

/**
 * Chooses cuts: from chunk start s, the chunk ends at the first candidate p with p - s >= min that is strong when
 * p - s < avg (normalized chunking), or at s + max if no candidate qualifies up to there. Segments must be pushed in
 * stream order; the selector itself holds only two numbers, so it is cheap to run on the main thread.
 */
export class CutSelector {
  readonly #sizes: CdcSizes;
  #start = 0;
  #end = 0;

  constructor(sizes: CdcSizes) {
    this.#sizes = sizes;
  }

  /** Absolute offset where the current (unfinished) chunk begins. */
  get start(): number {
    return this.#start;
  }

  /** Feeds the candidates of the segment [base, base + length) and returns the absolute end offsets of new cuts. */
  push(base: number, length: number, candidates: Int32Array): number[] {
    const { min, avg, max } = this.#sizes;
    if (base !== this.#end) throw new RangeError(`segment at ${base} pushed out of order (expected ${this.#end})`);
    const cuts: number[] = [];
    let start = this.#start;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      const p = base + (c >>> 1);
      while (p - start > max) {
        start += max;
        cuts.push(start);
      }
      const len = p - start;
      if (len < min || (len < avg && (c & 1) === 0)) continue;
      start = p;
      cuts.push(p);
    }
    const end = base + length;
    while (end - start >= max) {
      start += max;
      cuts.push(start);
    }
    this.#start = start;
    this.#end = end;
    return cuts;
  }

  /** Ends the stream: returns the final cut (the short last chunk) if any bytes remain. */
  finish(): number[] {
    if (this.#end > this.#start) {
      this.#start = this.#end;
      return [this.#end];
    }
    return [];
  }
}
