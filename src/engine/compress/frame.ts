/**
 * The self-describing compression frame of one chunk (the plaintext that the AEAD seals):
 *
 *   offset 0  u8      algorithm: 0 none, 1 lz4, 2 zstd, 3 zlib
 *   offset 1  u8      level (zstd 1..22, zlib 0..9; 0 for none and lz4) — informative; readers only check its range
 *   offset 2  u32 BE  length of the uncompressed chunk
 *   offset 6  ...     body: none = the bytes; lz4 = lz4_flex size-prepended block (u32 LE length + LZ4 block);
 *                     zstd = exactly one zstd frame (RFC 8878) with content size, nothing after it;
 *                     zlib = RFC 1950 stream
 *
 * The uncompressed length is at most MAX_RAW_LENGTH (the largest chunk). A reader refuses a larger
 * one, and a body whose own size field (LZ4 prefix, zstd frame content size) differs from it,
 * before any decoder runs, and caps every decoder's output at it: in the modes without encryption
 * the frame is read before it is authenticated, so it may come from anyone who can write the store.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { ChunkIntegrityError, UnsupportedFormatError } from '../errors.js';
import type { RawCodecs } from './libs.js';
import { ALGORITHM_IDS, type Algorithm, type CompressionSpec } from './spec.js';
import { MAX_CHUNK_LIMIT } from '../chunker/params.js';
import { zstdContentSize, zstdFrameLength } from './zstd-header.js';

export const FRAME_HEADER_SIZE = 6;
/** The largest uncompressed length a frame may have: the largest chunk the chunker can cut. */
export const MAX_RAW_LENGTH = MAX_CHUNK_LIMIT;

/** A frame as two parts so a caller can feed them to a cipher without concatenating. */
export interface FrameParts {
  header: Uint8Array;
  body: Uint8Array;
}

const SAMPLE = 16 * 1024;
/** `auto` stores a chunk uncompressed when LZ4 saves less than this fraction of a sample. */
const AUTO_MIN_SAVING = 0.03;

/** Compresses one chunk per `spec`; falls back to `none` whenever compression would not make it smaller. */
export function compressFrame(codecs: RawCodecs, spec: CompressionSpec, data: Uint8Array): FrameParts {
  if (data.length > MAX_RAW_LENGTH) throw new RangeError(`a chunk of ${data.length} bytes is larger than the largest chunk (${MAX_RAW_LENGTH} bytes)`);
  let algorithm: Algorithm = spec.algorithm;
  if (spec.auto && algorithm !== 'none' && !looksCompressible(codecs, data)) algorithm = 'none';
  let body = data;
  if (algorithm !== 'none' && data.length > 0) {
    body = compressBody(codecs, algorithm, spec.level, data);
    if (body.length >= data.length) {
      algorithm = 'none';
      body = data;
    }
  } else {
    algorithm = 'none';
  }
  const header = new Uint8Array(FRAME_HEADER_SIZE);
  header[0] = ALGORITHM_IDS[algorithm];
  header[1] = algorithm === 'zstd' || algorithm === 'zlib' ? spec.level : 0;
  new DataView(header.buffer).setUint32(2, data.length, false);
  return { header, body };
}

/** Returns the uncompressed bytes of a frame; a malformed frame is an ChunkIntegrityError, an unknown algorithm unsupported. */
export function decompressFrame(codecs: RawCodecs, frame: Uint8Array): Uint8Array {
  if (frame.length < FRAME_HEADER_SIZE) throw new ChunkIntegrityError('compression frame shorter than its header');
  const rawLength = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(2, false);
  const body = frame.subarray(FRAME_HEADER_SIZE);
  // The level is informative, but it must be canonical: 0 for none/lz4, in range for zstd/zlib.
  const level = frame[1];
  if ((frame[0] <= 1 && level !== 0) || (frame[0] === 2 && (level < 1 || level > 22)) || (frame[0] === 3 && level > 9)) {
    throw new ChunkIntegrityError('compression frame has a non-canonical level byte');
  }
  if (rawLength > MAX_RAW_LENGTH) throw new ChunkIntegrityError(`compression frame claims ${rawLength} bytes, more than the largest chunk`);
  const decoded = checkBodySize(frame[0], body, rawLength);
  let out: Uint8Array;
  try {
    switch (frame[0]) {
      case 0: out = body; break;
      case 1: out = codecs.lz4Decompress(body); break;
      case 2: out = codecs.zstdDecompress(decoded, rawLength); break;
      case 3: out = asUint8(inflateSync(body, { maxOutputLength: Math.max(rawLength, 1) })); break;
      default: throw new UnsupportedFormatError(`compression algorithm ${frame[0]}`);
    }
  } catch (err) {
    if (err instanceof UnsupportedFormatError) throw err;
    throw new ChunkIntegrityError('compressed body does not decode');
  }
  if (out.length !== rawLength) throw new ChunkIntegrityError(`decompressed ${out.length} bytes, header says ${rawLength}`);
  return out;
}

/**
 * The empty zstd frame (magic, single-segment descriptor, content size 0, one empty raw last
 * block) that node:zlib appended when a frame ended exactly at the end of its 16 KiB output chunk.
 * Repositories written before the fix hold such bodies; they are authenticated like any other.
 */
const EMPTY_ZSTD_FRAME = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00);

/**
 * The size the body itself announces must be the frame's: the decoders allocate what it says.
 * Returns what the decoder gets: the body, or for zstd its one frame.
 */
function checkBodySize(algorithm: number, body: Uint8Array, rawLength: number): Uint8Array {
  let announced: number | undefined = rawLength;
  if (algorithm === 1) announced = body.length < 4 ? undefined : new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  else if (algorithm === 2) announced = zstdContentSize(body);
  if (announced !== rawLength) throw new ChunkIntegrityError(`compressed body announces ${announced ?? 'no'} size, the frame header ${rawLength} bytes`);
  if (algorithm !== 2) return body;
  // node:zlib would decode a second frame or skip trailing bytes where the WebAssembly build
  // refuses them: one rule for both, so every Node reads a repository the same way. The one
  // exception is node:zlib's own empty trailing frame, which only the first frame is decoded past.
  const length = zstdFrameLength(body);
  if (length === body.length) return body;
  if (length !== undefined && body.length - length === EMPTY_ZSTD_FRAME.length && Buffer.from(EMPTY_ZSTD_FRAME).equals(body.subarray(length))) return body.subarray(0, length);
  throw new ChunkIntegrityError('compressed body is not exactly one zstd frame');
}

function compressBody(codecs: RawCodecs, algorithm: Algorithm, level: number, data: Uint8Array): Uint8Array {
  switch (algorithm) {
    case 'lz4': return codecs.lz4Compress(data);
    case 'zstd': return codecs.zstdCompress(data, level);
    case 'zlib': return asUint8(deflateSync(data, { level }));
    default: return data;
  }
}

/** Cheap test: LZ4 on up to three 16 KiB samples (start, middle, end); incompressible data costs ~48 KiB of work. */
function looksCompressible(codecs: RawCodecs, data: Uint8Array): boolean {
  if (data.length <= 3 * SAMPLE) return codecs.lz4Compress(data).length < data.length * (1 - AUTO_MIN_SAVING);
  const mid = Math.floor(data.length / 2 - SAMPLE / 2);
  let packed = 0;
  for (const at of [0, mid, data.length - SAMPLE]) packed += codecs.lz4Compress(data.subarray(at, at + SAMPLE)).length;
  return packed < 3 * SAMPLE * (1 - AUTO_MIN_SAVING);
}

/** A plain Uint8Array view of a Buffer (callers compare and transfer these; Buffer's pooling is not wanted here). */
function asUint8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
