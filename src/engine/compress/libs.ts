/**
 * Loads the compression libraries lazily: zstd from node:zlib when this Node has it (22.15 and
 * later), else the zstd WebAssembly build; lz4 is always the WebAssembly build. Both zstd builds
 * write one frame with its content size, so either reads what the other wrote (test/engine/compress.test.ts).
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

/** Synchronous raw codecs once loaded; every function returns a fresh byte array. */
export interface RawCodecs {
  lz4Compress(data: Uint8Array): Uint8Array;
  lz4Decompress(data: Uint8Array): Uint8Array;
  zstdCompress(data: Uint8Array, level: number): Uint8Array;
  /** Decodes one zstd frame of exactly `rawLength` bytes; never produces (or allocates for) more. */
  zstdDecompress(data: Uint8Array, rawLength: number): Uint8Array;
  /** Which zstd implementation is in use ('node:zlib' or '@bokuweb/zstd-wasm'), for benchmarks and reports. */
  zstdImplementation: ZstdImplementation;
}

export type ZstdImplementation = 'node:zlib' | '@bokuweb/zstd-wasm';

/** One zstd implementation. */
export interface ZstdCodec {
  compress(data: Uint8Array, level: number): Uint8Array;
  decompress(data: Uint8Array, rawLength: number): Uint8Array;
  implementation: ZstdImplementation;
}

/** The part of node:zlib's zstd API used here (absent before Node 22.15; @types/node 20 lacks it). */
interface NodeZstd {
  zstdCompressSync(data: Uint8Array, options: { params: Record<number, number>; chunkSize?: number }): Buffer;
  zstdDecompressSync(data: Uint8Array, options: { maxOutputLength: number; chunkSize?: number }): Buffer;
  constants: Record<string, number>;
}

/** zlib's smallest output chunk (Z_MIN_CHUNK). */
const MIN_CHUNK = 64;

/** At least ZSTD_compressBound(n) (n + n/256 + up to 64 for inputs under 128 KiB): a frame always fits. */
export const zstdBound = (n: number): number => n + (n >> 7) + 1024;

let loaded: Promise<RawCodecs> | undefined;
let wasm: Promise<ZstdCodec> | undefined;

/** Loads (once per thread) and returns the codecs. */
export function loadRawCodecs(): Promise<RawCodecs> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<RawCodecs> {
  const require = createRequire(import.meta.url);
  const lz4 = require('lz4-wasm-nodejs') as { compress(d: Uint8Array): Uint8Array; decompress(d: Uint8Array): Uint8Array };
  const zstd = nativeZstd() ?? (await wasmZstd());
  return {
    lz4Compress: lz4.compress,
    lz4Decompress: lz4.decompress,
    zstdCompress: zstd.compress,
    zstdDecompress: zstd.decompress,
    zstdImplementation: zstd.implementation,
  };
}

/** zstd from node:zlib, or undefined when this Node has none. */
export function nativeZstd(): ZstdCodec | undefined {
  const z = zlib as unknown as Partial<NodeZstd>;
  if (typeof z.zstdCompressSync !== 'function' || typeof z.zstdDecompressSync !== 'function' || !z.constants) return undefined;
  const { zstdCompressSync, zstdDecompressSync } = z as NodeZstd;
  const levelParam = z.constants.ZSTD_c_compressionLevel;
  return {
    // One call with all input ends the frame at once, so zstd writes the content size into the
    // header (checked by the tests; the frame reader requires it). One output chunk larger than
    // zstd's bound: with node:zlib's 16 KiB chunks, a frame ending exactly at a chunk's end was
    // followed by a second, empty frame (9 bytes) that the frame reader refuses (frame.ts).
    compress: (data, level) => plain(zstdCompressSync(data, { params: { [levelParam]: level }, chunkSize: zstdBound(data.length) })),
    // maxOutputLength stops the decoder at the frame's length (ERR_BUFFER_TOO_LARGE), whatever it
    // holds; one output chunk of that length saves concatenating 16 KiB pieces (~1.3x faster).
    decompress: (data, rawLength) => plain(zstdDecompressSync(data, { maxOutputLength: Math.max(rawLength, 1), chunkSize: Math.max(MIN_CHUNK, rawLength) })),
    implementation: 'node:zlib',
  };
}

/** The zstd WebAssembly build (loaded once per thread). */
export function wasmZstd(): Promise<ZstdCodec> {
  wasm ??= (async () => {
    const zstd = (await import('@bokuweb/zstd-wasm')) as unknown as {
      init(): Promise<void>;
      compress(d: Uint8Array, level?: number): Uint8Array;
      decompress(d: Uint8Array, opts?: { defaultHeapSize?: number }): Uint8Array;
    };
    await zstd.init();
    return {
      compress: (data: Uint8Array, level: number) => zstd.compress(data, level),
      // The build allocates the content size the frame header states (the frame reader has
      // checked it equals rawLength) and decodes into exactly that much.
      decompress: (data: Uint8Array, rawLength: number) => zstd.decompress(data, { defaultHeapSize: Math.max(rawLength, 1) }),
      implementation: '@bokuweb/zstd-wasm' as const,
    };
  })();
  return wasm;
}

function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
