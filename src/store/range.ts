/** Validation of byte ranges, shared by every backend. */
import type { ByteRange } from './backend.js';
import { InvalidRangeError } from './errors.js';

/** Throws `InvalidRangeError` for negative or non-integer offsets and lengths. */
export function checkRange(range: ByteRange, backend: string, key: string): void {
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!ok(range.offset) || !ok(range.length)) {
    throw new InvalidRangeError(`invalid range ${range.offset}+${range.length} for ${key}`, { backend, key });
  }
}
