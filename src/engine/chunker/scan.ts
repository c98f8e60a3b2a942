/** The parallelizable half of the chunker: finds candidate cut points in one segment of a stream. */

/**
 * The rolling gear hash h(i) = Σ_k gear[b(i-k)] << k (mod 2^32) depends only on the 32 bytes ending at i, so any
 * segment can be scanned independently given the 31 bytes before it (`tail`; empty at stream start, where the
 * bytes before the stream count as absent). A candidate is a position p (a chunk would END at p, exclusive) where
 * (h & maskL) == 0; it is "strong" when also (h & maskS) == 0. Returned as Int32Array entries `rel * 2 + strong`
 * with `rel` the end offset relative to the segment start (1..segment length), in increasing order.
 */
export function scanCandidates(gear: Int32Array, maskS: number, maskL: number, tail: Uint8Array, data: Uint8Array): Int32Array {
  let h = 0;
  for (let i = 0; i < tail.length; i++) h = ((h << 1) + gear[tail[i]]) | 0;
  const out = new Candidates(maskS);
  const n = data.length;
  // Bytes before the first 4-byte boundary, then whole little-endian words (4 bytes per load: ~1.5× faster in V8),
  // then the last bytes. On a big-endian machine the byte loop does everything.
  let i = 0;
  const aligned = LITTLE_ENDIAN ? Math.min(n, (4 - (data.byteOffset & 3)) & 3) : n;
  for (; i < aligned; i++) {
    h = ((h << 1) + gear[data[i]]) | 0;
    if ((h & maskL) === 0) out.add(i + 1, h);
  }
  const words = (data.byteOffset + i) % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset + i, (n - i) >>> 2) : new Uint32Array(0);
  const m = words.length;
  for (let j = 0, base = i; j < m; j++, base += 4) {
    const w = words[j];
    h = ((h << 1) + gear[w & 255]) | 0;
    if ((h & maskL) === 0) out.add(base + 1, h);
    h = ((h << 1) + gear[(w >>> 8) & 255]) | 0;
    if ((h & maskL) === 0) out.add(base + 2, h);
    h = ((h << 1) + gear[(w >>> 16) & 255]) | 0;
    if ((h & maskL) === 0) out.add(base + 3, h);
    h = ((h << 1) + gear[w >>> 24]) | 0;
    if ((h & maskL) === 0) out.add(base + 4, h);
  }
  for (i += m * 4; i < n; i++) {
    h = ((h << 1) + gear[data[i]]) | 0;
    if ((h & maskL) === 0) out.add(i + 1, h);
  }
  return out.result();
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A growable list of candidates (rare: about one per avg/4 bytes of ordinary data). */
class Candidates {
  #list = new Int32Array(64);
  #count = 0;
  readonly #maskS: number;

  constructor(maskS: number) {
    this.#maskS = maskS;
  }

  add(end: number, h: number): void {
    if (this.#count === this.#list.length) {
      const grown = new Int32Array(this.#list.length * 2);
      grown.set(this.#list);
      this.#list = grown;
    }
    this.#list[this.#count++] = end * 2 + ((h & this.#maskS) === 0 ? 1 : 0);
  }

  result(): Int32Array {
    return this.#list.slice(0, this.#count);
  }
}

/** The last (up to) 31 bytes of the stream so far, which the next segment's scan needs as `tail`. */
export function nextTail(prevTail: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length >= 31) return data.slice(data.length - 31);
  const joined = new Uint8Array(Math.min(31, prevTail.length + data.length));
  const fromPrev = joined.length - data.length;
  joined.set(prevTail.subarray(prevTail.length - fromPrev), 0);
  joined.set(data, fromPrev);
  return joined;
}
