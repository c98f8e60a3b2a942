/**
 * Decompression bombs for tests: tiny bodies that announce or expand to huge outputs, built by
 * hand so a test never needs the gigabyte it describes.
 */

/**
 * A valid zstd frame (RFC 8878) of `size` zero bytes (a multiple of 128 KiB) made of RLE blocks:
 * 4 bytes per 128 KiB, so 1 GiB takes 32 KiB. `announce` is the content size its header states.
 */
export function zstdZeros(size: number, announce = size): Uint8Array {
  const BLOCK = 128 * 1024;
  const blocks = size / BLOCK;
  if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError('size must be a positive multiple of 128 KiB');
  const out = Buffer.alloc(4 + 1 + 8 + blocks * 4);
  out.writeUInt32LE(0xfd2fb528, 0);
  out[4] = 0xe0; // 8-byte content size, single segment, no checksum, no dictionary
  out.writeBigUInt64LE(BigInt(announce), 5);
  for (let i = 0, at = 13; i < blocks; i++, at += 4) {
    const header = (BLOCK << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0); // RLE block of BLOCK bytes
    out.writeUIntLE(header, at, 3);
    out[at + 3] = 0;
  }
  return new Uint8Array(out);
}

/** A compression frame (cairn's 6-byte header) around `body`, claiming `rawLength`. */
export function compressionFrame(algorithm: number, rawLength: number, body: Uint8Array): Uint8Array {
  const header = Buffer.alloc(6);
  header[0] = algorithm;
  header[1] = algorithm === 2 ? 3 : 0;
  header.writeUInt32BE(rawLength, 2);
  return new Uint8Array(Buffer.concat([header, body]));
}
