/**
 * The content size and the length of a zstd frame (RFC 8878, 3.1.1), read without decoding:
 *
 *   offset 0  u32 LE  magic 0xFD2FB528
 *   offset 4  u8      Frame_Header_Descriptor: bits 7-6 FCS flag, bit 5 single segment,
 *                     bit 3 reserved (0), bit 2 content checksum, bits 1-0 dictionary id flag
 *   then      u8      Window_Descriptor, absent in single-segment frames
 *   then      0/1/2/4 bytes dictionary id (LE)
 *   then      0/1/2/4/8 bytes Frame_Content_Size (LE; the 2-byte form adds 256)
 *   then      blocks, each a u24 LE header (bit 0 last block, bits 2-1 type: 0 raw, 1 RLE,
 *             2 compressed, 3 reserved; bits 23-3 size) and its content: `size` bytes, 1 for RLE
 *   then      u32 content checksum when bit 2 of the descriptor is set
 */

const MAGIC = 0xfd2fb528;
const DICT_ID_BYTES = [0, 1, 2, 4];
const RLE = 1;
const RESERVED = 3;

interface FrameHeader {
  contentSize: number | undefined;
  /** Where the first block starts. */
  length: number;
  checksum: boolean;
}

function readHeader(frame: Uint8Array): FrameHeader | undefined {
  if (frame.length < 5) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return undefined;
  const descriptor = frame[4];
  if (descriptor & 0x08) return undefined;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  const at = 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 0x03];
  if (at + fcsBytes > frame.length) return undefined;
  let contentSize: number | undefined;
  switch (fcsBytes) {
    case 0: contentSize = undefined; break;
    case 1: contentSize = view.getUint8(at); break;
    case 2: contentSize = view.getUint16(at, true) + 256; break;
    case 4: contentSize = view.getUint32(at, true); break;
    default: {
      const size = view.getBigUint64(at, true);
      contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
    }
  }
  return { contentSize, length: at + fcsBytes, checksum: (descriptor & 0x04) !== 0 };
}

/** The frame's content size, or undefined when the header is malformed or does not state it. */
export function zstdContentSize(frame: Uint8Array): number | undefined {
  return readHeader(frame)?.contentSize;
}

/**
 * The length of the zstd frame at the start of `bytes` (header, blocks, checksum), found by
 * walking the block headers; undefined when it is malformed or runs past the end. Decoders
 * differ on bytes after a frame (node:zlib decodes a second frame and ignores garbage, the
 * WebAssembly build refuses both), so a reader requires this to be the whole body.
 */
export function zstdFrameLength(bytes: Uint8Array): number | undefined {
  const header = readHeader(bytes);
  if (!header) return undefined;
  let at = header.length;
  for (;;) {
    if (at + 3 > bytes.length) return undefined;
    const block = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
    const type = (block >> 1) & 3;
    if (type === RESERVED) return undefined;
    at += 3 + (type === RLE ? 1 : block >>> 3);
    if (at > bytes.length) return undefined;
    if (block & 1) break;
  }
  if (header.checksum) at += 4;
  return at > bytes.length ? undefined : at;
}
