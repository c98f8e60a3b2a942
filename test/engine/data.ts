/** Deterministic test data for the engine tests and benchmark: pseudo-random, text-like and compressible binary bytes. */
import { createHash, createCipheriv } from 'node:crypto';

/** `size` pseudo-random bytes from a label (AES-256-CTR keystream keyed by SHA-256(label)): fast and repeatable. */
export function randomish(label: string, size: number): Uint8Array {
  const key = createHash('sha256').update(label).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(size)));
}

const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they '
  + 'you were her she there been one all we their has would when if so no will more out up into do any your what some can '
  + 'backup archive chunk repository segment encryption passphrase session nonce compression deduplication worker').split(' ');

/** English-like text (compresses ~3×), deterministic from the label. */
export function textish(label: string, size: number): Uint8Array {
  const noise = randomish(label, Math.ceil(size / 2) + 16);
  const out = Buffer.alloc(size);
  let at = 0;
  let i = 0;
  while (at < size) {
    const w = WORDS[(noise[i % noise.length] * 256 + noise[(i + 1) % noise.length]) % WORDS.length];
    const sep = noise[(i + 2) % noise.length] % 13 === 0 ? '.\n' : ' ';
    at += out.write(w + sep, at);
    i += 3;
  }
  return new Uint8Array(out.buffer, out.byteOffset, size);
}

/** Binary with structure (records of small integers and repeats), compresses ~4-6×, deterministic from the label. */
export function binaryish(label: string, size: number): Uint8Array {
  const noise = randomish(label, Math.ceil(size / 8) + 8);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let at = 0, i = 0; at + 16 <= size; at += 16, i += 2) {
    view.setUint32(at, i, true);
    view.setUint16(at + 4, noise[i % noise.length], true);
    view.setUint16(at + 6, 0x7f00, true);
    view.setFloat64(at + 8, (noise[(i + 1) % noise.length] % 16) / 4, true);
  }
  return out;
}
