/** The keyed gear table: 256 pseudo-random 32-bit words derived from the repository's chunker seed. */
import { hkdfSync } from 'node:crypto';

const INFO = 'cairn chunker gear v1';

/**
 * Derives the gear table as HKDF-SHA256(ikm = seed, salt = empty, info = "cairn chunker gear v1", 1024 bytes),
 * read as 256 big-endian u32 words (stored as int32 for fast signed arithmetic). Same seed → same table everywhere.
 */
export function deriveGear(seed: Uint8Array): Int32Array {
  const bytes = new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), INFO, 1024));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const gear = new Int32Array(256);
  for (let i = 0; i < 256; i++) gear[i] = view.getInt32(i * 4, false);
  return gear;
}
