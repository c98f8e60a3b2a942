/** Per-chunk, self-describing compression: parse a setting, compress to a frame, decompress any frame. */
export { parseCompression, formatCompression, ALGORITHM_IDS } from './spec.js';
export type { Algorithm, CompressionSpec } from './spec.js';
export { compressFrame, decompressFrame, FRAME_HEADER_SIZE, MAX_RAW_LENGTH } from './frame.js';
export type { FrameParts } from './frame.js';
export { loadRawCodecs } from './libs.js';
export type { RawCodecs } from './libs.js';
