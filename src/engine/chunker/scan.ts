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
  let out = new Int32Array(64);
  let count = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    h = ((h << 1) + gear[data[i]]) | 0;
    if ((h & maskL) === 0) {
      if (count === out.length) {
        const grown = new Int32Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out[count++] = (i + 1) * 2 + ((h & maskS) === 0 ? 1 : 0);
    }
  }
  return out.slice(0, count);
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
