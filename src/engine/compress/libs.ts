/** Loads the compression libraries lazily: node:zlib zstd when this Node has it, else the zstd and lz4 WebAssembly builds. */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

/** Synchronous raw codecs once loaded; every function returns a fresh byte array. */
export interface RawCodecs {
  lz4Compress(data: Uint8Array): Uint8Array;
  lz4Decompress(data: Uint8Array): Uint8Array;
  zstdCompress(data: Uint8Array, level: number): Uint8Array;
  zstdDecompress(data: Uint8Array, rawLength: number): Uint8Array;
  /** Which zstd implementation is in use ('node:zlib' or '@bokuweb/zstd-wasm'), for benchmarks and reports. */
  zstdImplementation: string;
}

interface NodeZstd {
  zstdCompressSync(data: Uint8Array, options: { params: Record<number, number>; pledgedSrcSize?: number }): Buffer;
  zstdDecompressSync(data: Uint8Array, options?: { maxOutputLength?: number }): Buffer;
  constants: Record<string, number>;
}

let loaded: Promise<RawCodecs> | undefined;

/** Loads (once per thread) and returns the codecs. */
export function loadRawCodecs(): Promise<RawCodecs> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<RawCodecs> {
  const require = createRequire(import.meta.url);
  const lz4 = require('lz4-wasm-nodejs') as { compress(d: Uint8Array): Uint8Array; decompress(d: Uint8Array): Uint8Array };
  const nodeZstd = zlib as unknown as Partial<NodeZstd>;
  if (typeof nodeZstd.zstdCompressSync === 'function' && typeof nodeZstd.zstdDecompressSync === 'function' && nodeZstd.constants) {
    const z = nodeZstd as NodeZstd;
    const levelParam = z.constants.ZSTD_c_compressionLevel;
    return {
      lz4Compress: lz4.compress,
      lz4Decompress: lz4.decompress,
      // pledgedSrcSize writes the content size into the frame header, so the WebAssembly decoder can read it too.
      zstdCompress: (data, level) => plain(z.zstdCompressSync(data, { params: { [levelParam]: level }, pledgedSrcSize: data.length })),
      zstdDecompress: (data, rawLength) => plain(z.zstdDecompressSync(data, { maxOutputLength: Math.max(rawLength, 1) })),
      zstdImplementation: 'node:zlib',
    };
  }
  const zstd = (await import('@bokuweb/zstd-wasm')) as unknown as {
    init(): Promise<void>;
    compress(d: Uint8Array, level?: number): Uint8Array;
    decompress(d: Uint8Array, opts?: { defaultHeapSize?: number }): Uint8Array;
  };
  await zstd.init();
  return {
    lz4Compress: lz4.compress,
    lz4Decompress: lz4.decompress,
    zstdCompress: (data, level) => zstd.compress(data, level),
    zstdDecompress: (data, rawLength) => zstd.decompress(data, { defaultHeapSize: Math.max(rawLength, 1) }),
    zstdImplementation: '@bokuweb/zstd-wasm',
  };
}

function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
