/**
 * The archive layer's `ChunkCodec` built from the engine: id MAC, compression and AEAD from the
 * engine's codec, content-defined chunking keyed by the repository's chunker seed, and (for file
 * contents) the engine's worker-thread pipeline, started on first use.
 */
import { availableParallelism } from 'node:os';
import { createChunker, createCodec, createPipeline, type ChunkerOptions, type KeyMaterial, type Pipeline } from '../engine/index.js';
import type { ChunkCodec } from './ports.js';

/** Item-stream chunks: 32 KiB / 128 KiB / 512 KiB (Borg's item chunker), so metadata dedups finely. */
export const ITEMS_CHUNKER: ChunkerOptions = { min: 32 * 1024, avg: 128 * 1024, max: 512 * 1024 };

export interface EngineCodecOptions {
  /** Compression of new chunks, e.g. "lz4" (default), "zstd,3", "auto,zstd". */
  compression?: string;
  /** File-content chunker sizes (default 512 KiB / 2 MiB / 8 MiB); must be the same for every client of a repository. */
  chunker?: ChunkerOptions;
  /** Worker threads of the pipeline (default: the number of cores); 0 = no workers, everything on this thread. */
  workers?: number;
}

/** A codec that owns worker threads: call `close()` when done. */
export interface EngineChunkCodec extends ChunkCodec {
  close(): Promise<void>;
}

/** Builds the codec of an opened key. */
export async function createEngineCodec(key: KeyMaterial, options: EngineCodecOptions = {}): Promise<EngineChunkCodec> {
  const codec = await createCodec(key, { compression: options.compression });
  const data = createChunker(key.chunkerSeed, options.chunker);
  const items = createChunker(key.chunkerSeed, ITEMS_CHUNKER);
  let pipeline: Promise<Pipeline> | undefined;
  const useWorkers = options.workers !== 0;
  const result: EngineChunkCodec = {
    chunkId: (plaintext) => codec.id(plaintext),
    seal: async (id, plaintext) => codec.seal(id, plaintext),
    open: async (id, stored) => codec.open(id, stored),
    chunks: (source, purpose) => (purpose === 'items' ? items : data).chunks(source),
    async close() {
      if (pipeline) await (await pipeline).close();
    },
  };
  if (useWorkers) {
    // One pool for both directions, sized by its first use: writing uses every core; reading one
    // core fewer, as this thread is busy writing files or checking (one worker fewer saves its
    // memory at the same speed on 2 cores: docs/performance.md).
    // Read once: on Node 24 each call reads /proc/self/cgroup (~17 µs), and storeChunks runs per small file.
    const cores = availableParallelism();
    const started = (workers: number): Promise<Pipeline> => (pipeline ??= createPipeline(key, { workers: options.workers ?? workers, chunker: options.chunker, compression: options.compression }));
    result.storeChunks = async function* (source, isKnown) {
      yield* (await started(cores)).run(source, { isKnown });
    };
    result.openMany = async (ids, stored) => (await started(Math.max(1, cores - 1))).open(ids, stored);
  }
  return result;
}
