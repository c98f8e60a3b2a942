/** The chunk codec: id MAC, then compression frame, then AEAD envelope — and the way back, verified. */
import { timingSafeEqual } from 'node:crypto';
import { compressFrame, decompressFrame, loadRawCodecs, parseCompression, type CompressionSpec, type RawCodecs } from './compress/index.js';
import { EnvelopeOpener, SealingSession } from './crypto/envelope.js';
import { concat, defaultImplementation, type AeadImplementation } from './crypto/suites.js';
import { ChunkIntegrityError } from './errors.js';
import { releaseBytes } from './release.js';
import { createIdFunction, type IdFunction } from './ids.js';
import type { KeyMaterial } from './keys/modes.js';

export interface CodecOptions {
  /** Compression setting for seal(), e.g. "lz4", "zstd,3", "auto,zlib,9" (default "lz4"). Reading needs none. */
  compression?: string | CompressionSpec;
  /** AEAD implementation (default: node:crypto when available); 'noble' is the pure-JS ChaCha20-Poly1305. */
  implementation?: AeadImplementation;
  /** Fixed session id (tests and vectors only: reusing one with the same key would repeat nonces). */
  sessionId?: Uint8Array;
}

/** One thread's view of a key: seal() runs in a session of its own (random session id, nonce counter). */
export interface Codec {
  readonly key: KeyMaterial;
  readonly compression: CompressionSpec;
  /** The session id seal() uses, or undefined in modes without encryption. */
  readonly sessionId: Uint8Array | undefined;
  /** The 32-byte chunk id of a plaintext. */
  id(plaintext: Uint8Array): Uint8Array;
  /** The stored bytes for a chunk: envelope(suite, session, nonce, AEAD(frame)) or 0x00 | frame without encryption. */
  seal(id: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * The plaintext of stored bytes, checking authenticity and that it hashes to `id`; ChunkIntegrityError
   * otherwise. The plaintext never shares memory with `stored`, and when it is the whole of its
   * ArrayBuffer it owns that buffer alone (the caller may move it to another thread, or free it with
   * `releaseBytes`); a small one may be a view into Node's shared buffer pool.
   */
  open(id: Uint8Array, stored: Uint8Array): Uint8Array;
}

/** Builds a codec; async because compression and BLAKE3 load WebAssembly once per thread. */
export async function createCodec(key: KeyMaterial, options: CodecOptions = {}): Promise<Codec> {
  const compression = typeof options.compression === 'object' ? options.compression : parseCompression(options.compression ?? 'lz4');
  const [codecs, idOf] = await Promise.all([loadRawCodecs(), createIdFunction(key.idAlgorithm, key.macKey)]);
  const suite = key.suite;
  const impl = options.implementation ?? (suite === 'none' ? 'node' : defaultImplementation(suite));
  const session = suite === 'none' ? undefined : new SealingSession(key.encryptionKey, suite, impl, options.sessionId);
  const opener = new EnvelopeOpener(key.encryptionKey, suite, options.implementation);
  return new ChunkCodec(key, compression, codecs, idOf, session, opener);
}

class ChunkCodec implements Codec {
  readonly key: KeyMaterial;
  readonly compression: CompressionSpec;
  readonly #codecs: RawCodecs;
  readonly #idOf: IdFunction;
  readonly #session: SealingSession | undefined;
  readonly #opener: EnvelopeOpener;

  constructor(key: KeyMaterial, compression: CompressionSpec, codecs: RawCodecs, idOf: IdFunction, session: SealingSession | undefined, opener: EnvelopeOpener) {
    this.key = key;
    this.compression = compression;
    this.#codecs = codecs;
    this.#idOf = idOf;
    this.#session = session;
    this.#opener = opener;
  }

  get sessionId(): Uint8Array | undefined {
    return this.#session?.sessionId;
  }

  id(plaintext: Uint8Array): Uint8Array {
    return this.#idOf(plaintext);
  }

  seal(id: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const { header, body } = compressFrame(this.#codecs, this.compression, plaintext);
    if (this.#session) return this.#session.seal(id, [header, body]);
    return concat([new Uint8Array([0]), header, body]);
  }

  open(id: Uint8Array, stored: Uint8Array): Uint8Array {
    const frame = this.#opener.open(id, stored);
    let plaintext = decompressFrame(this.#codecs, frame);
    // An uncompressed frame's body is a view into the frame (or, without encryption, into `stored`):
    // copied, so the plaintext owns its memory alone, and the decrypted frame freed now.
    if (plaintext.buffer === frame.buffer) plaintext = new Uint8Array(plaintext);
    if (frame.buffer !== stored.buffer) releaseBytes(frame);
    const actual = this.#idOf(plaintext);
    if (actual.length !== id.length || !timingSafeEqual(actual, id)) throw new ChunkIntegrityError('plaintext does not match its chunk id');
    return plaintext;
  }
}
