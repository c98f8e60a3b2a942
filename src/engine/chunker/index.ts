/** The chunker: keyed, normalized content-defined chunking (or fixed-size), streaming with bounded memory. */
import { ByteQueue } from './byte-queue.js';
import { deriveGear } from './gear.js';
import { resolveChunkerOptions, type CdcParams, type ChunkerOptions } from './params.js';
import { nextTail, scanCandidates } from './scan.js';
import { CutSelector } from './select.js';

export { DEFAULT_CHUNKER, MAX_CHUNK_LIMIT, resolveChunkerOptions } from './params.js';
export type { CdcSizes, CdcParams, ChunkerOptions, FixedSize } from './params.js';
export { deriveGear } from './gear.js';
export { scanCandidates, nextTail } from './scan.js';
export { CutSelector } from './select.js';
export { ByteQueue } from './byte-queue.js';

/** Splits a byte stream into chunks; the same seed, options and bytes always give the same chunks. */
export interface Chunker {
  /**
   * Yields the chunks of `source` in order, each in its own ArrayBuffer of exactly its size. Memory held is at most
   * max chunk size + one input piece (+ the candidate list of that piece). Pieces must not be mutated once yielded.
   */
  chunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array>;
}

/** Creates a chunker keyed by the repository's chunker seed (ignored for fixed-size chunking). */
export function createChunker(seed: Uint8Array, options?: ChunkerOptions): Chunker {
  const params = resolveChunkerOptions(options);
  if ('fixed' in params) return { chunks: (source) => fixedChunks(source, params.fixed) };
  const gear = deriveGear(seed);
  return { chunks: (source) => cdcChunks(source, gear, params) };
}

async function* fixedChunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const queue = new ByteQueue();
  for await (const piece of source) {
    queue.push(piece);
    while (queue.length >= size) yield queue.take(size);
  }
  if (queue.length > 0) yield queue.take(queue.length);
}

async function* cdcChunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, gear: Int32Array, params: CdcParams): AsyncGenerator<Uint8Array> {
  const queue = new ByteQueue();
  const selector = new CutSelector(params);
  let tail: Uint8Array = new Uint8Array(0);
  let offset = 0;
  let emitted = 0;
  for await (const piece of source) {
    if (piece.length === 0) continue;
    const candidates = scanCandidates(gear, params.maskS, params.maskL, tail, piece);
    tail = nextTail(tail, piece);
    queue.push(piece);
    for (const cut of selector.push(offset, piece.length, candidates)) {
      yield queue.take(cut - emitted);
      emitted = cut;
    }
    offset += piece.length;
  }
  for (const cut of selector.finish()) yield queue.take(cut - emitted);
}
