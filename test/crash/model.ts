/**
 * The deterministic workload of the crash test, shared by the child that writes it and the parent
 * that verifies it: transaction `t` puts `count(t)` values and deletes items 0 and 1 of
 * transaction t - 3.
 */
import { createHash } from 'node:crypto';

function hash(...parts: (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join(':')).digest();
}

/** Number of values transaction `t` puts (1..12). */
export function count(seed: number, t: number): number {
  return 1 + (hash('count', seed, t).readUInt8(0) % 12);
}

/** Id of item `i` of transaction `t`. */
export function itemId(seed: number, t: number, i: number): Uint8Array {
  return new Uint8Array(hash('id', seed, t, i));
}

/** Value of item `i` of transaction `t`: 0..24 KiB from a xorshift stream seeded by a hash. */
export function itemValue(seed: number, t: number, i: number): Uint8Array {
  const h = hash('value', seed, t, i);
  const size = h.readUInt32LE(0) % (24 * 1024);
  const out = new Uint8Array(size + 3 - ((size + 3) % 4));
  const words = new Uint32Array(out.buffer);
  let x = h.readUInt32LE(4) | 1;
  for (let k = 0; k < words.length; k++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; words[k] = x; }
  return out.subarray(0, size);
}

/** The (transaction, item) pairs transaction `t` deletes. */
export function deletes(t: number): [number, number][] {
  return t >= 3 ? [[t - 3, 0], [t - 3, 1]] : [];
}
