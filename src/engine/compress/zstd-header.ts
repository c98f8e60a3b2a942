/**
 * The content size a zstd frame header announces (RFC 8878, 3.1.1.1), read without decoding:
 *
 *   offset 0  u32 LE  magic 0xFD2FB528
 *   offset 4  u8      Frame_Header_Descriptor: bits 7-6 FCS flag, bit 5 single segment,
 *                     bit 3 reserved (0), bits 1-0 dictionary id flag
 *   then      u8      Window_Descriptor, absent in single-segment frames
 *   then      0/1/2/4 bytes dictionary id (LE)
 *   then      0/1/2/4/8 bytes Frame_Content_Size (LE; the 2-byte form adds 256)
 */

const MAGIC = 0xfd2fb528;
const DICT_ID_BYTES = [0, 1, 2, 4];

/** The frame's content size, or undefined when the header is malformed or does not state it. */
export function zstdContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 5) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return undefined;
  const descriptor = frame[4];
  if (descriptor & 0x08) return undefined;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 0x03];
  if (at + fcsBytes > frame.length) return undefined;
  switch (fcsBytes) {
    case 1: return view.getUint8(at);
    case 2: return view.getUint16(at, true) + 256;
    case 4: return view.getUint32(at, true);
    default: {
      const size = view.getBigUint64(at, true);
      return size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
    }
  }
}
