/**
 * The two checksums of the segment format: CRC-32 (headers) from `node:zlib` and XXH64 (values)
 * from hash-wasm. The wasm module is loaded once by `loadDigests()` (called by `Repository.create`
 * and `open`), never at import time; after that both functions are synchronous.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createXXHash64, type IHasher } from 'hash-wasm';

let hasher: IHasher | undefined;
let loading: Promise<void> | undefined;

/** Makes `xxh64()` usable. Idempotent and cheap after the first call. */
export function loadDigests(): Promise<void> {
  loading ??= createXXHash64().then((h) => { hasher = h; });
  return loading;
}

/** CRC-32 (IEEE, as zlib/PNG) of the concatenation of `parts`. */
export function crc32(...parts: Uint8Array[]): number {
  let value = 0;
  for (const part of parts) value = zlibCrc32(part, value);
  return value >>> 0;
}

/**
 * XXH64 (seed 0) of the concatenation of `parts`, as a bigint. Stored little-endian.
 * Throws if `loadDigests()` has not completed (a programming error, not a data error).
 */
export function xxh64(...parts: Uint8Array[]): bigint {
  if (!hasher) throw new Error('xxh64 used before loadDigests() resolved');
  hasher.init();
  for (const part of parts) hasher.update(part);
  const digest = hasher.digest('binary');
  // hash-wasm gives the canonical big-endian form.
  let value = 0n;
  for (const byte of digest) value = (value << 8n) | BigInt(byte);
  return value;
}
