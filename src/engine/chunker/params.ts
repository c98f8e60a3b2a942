/** Chunker parameters: the validated content-defined (min/avg/max) or fixed-size settings, and the derived cut masks. */
import { InvalidOptionError } from '../errors.js';

/** Content-defined chunking sizes in bytes; avg must be a power of two and min < avg < max. */
export interface CdcSizes {
  min: number;
  avg: number;
  max: number;
}

/** Fixed-size chunking (for disk images): every chunk is `fixed` bytes but the last. */
export interface FixedSize {
  fixed: number;
}

export type ChunkerOptions = CdcSizes | FixedSize;

/** The defaults of DESIGN.md: 512 KiB / 2 MiB / 8 MiB. */
export const DEFAULT_CHUNKER: CdcSizes = Object.freeze({ min: 512 * 1024, avg: 2 * 1024 * 1024, max: 8 * 1024 * 1024 });

/** Largest chunk any setting may produce (bounds memory per chunk and the u32 lengths of the formats). */
export const MAX_CHUNK_LIMIT = 64 * 1024 * 1024;

/** Validated CDC parameters with the two normalized masks over the top bits of the 32-bit gear hash. */
export interface CdcParams extends CdcSizes {
  /** Harder mask (log2(avg) + 2 bits) used while a chunk is shorter than avg. */
  maskS: number;
  /** Easier mask (log2(avg) - 2 bits) used from avg to max; its bits are a subset of maskS's. */
  maskL: number;
}

/** Checks options and returns either fixed size or CDC params with masks; throws InvalidOptionError. */
export function resolveChunkerOptions(options: ChunkerOptions = DEFAULT_CHUNKER): FixedSize | CdcParams {
  if ('fixed' in options) {
    if (!Number.isInteger(options.fixed) || options.fixed < 1 || options.fixed > MAX_CHUNK_LIMIT) {
      throw new InvalidOptionError(`fixed chunk size must be 1..${MAX_CHUNK_LIMIT} bytes`);
    }
    return { fixed: options.fixed };
  }
  const { min, avg, max } = options;
  const bits = Math.log2(avg);
  if (!Number.isInteger(bits) || bits < 8 || bits > 28) throw new InvalidOptionError('avg chunk size must be a power of two from 256 B to 256 MiB');
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 64 || !(min < avg && avg < max) || max > MAX_CHUNK_LIMIT) {
    throw new InvalidOptionError(`chunk sizes must satisfy 64 <= min < avg < max <= ${MAX_CHUNK_LIMIT}`);
  }
  return { min, avg, max, maskS: topBits(bits + 2), maskL: topBits(bits - 2) };
}

/** A 32-bit mask of the top n bits: in a left-shifting gear hash the top bits depend on the most input bytes. */
function topBits(n: number): number {
  return (~0 << (32 - n)) | 0;
}
