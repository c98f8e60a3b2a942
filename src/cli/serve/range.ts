/**
 * HTTP byte ranges (RFC 9110 §14): the one `Range: bytes=…` form `cairn serve` answers with 206. Several ranges in
 * one header are answered with the whole file (200), as the RFC allows; a range that does not overlap the file is 416.
 */

/** What to send for a request of a `size`-byte file: all of it, one range, or 416. */
export type RangeAnswer = { kind: 'whole' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/** `end` is inclusive, as in Content-Range. `header` is the Range header (undefined: none). */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'whole' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  // Not a single byte range (several, another unit, malformed): ignored, the whole file is sent.
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' };
  if (end < start) return { kind: 'whole' };
  return { kind: 'partial', start, end };
}
