/**
 * The engine's public surface, used by the archive layer: keys, chunker, chunk codec (id MAC, compression, AEAD)
 * and the worker-thread pipeline. It depends on nothing in store/ or repository/.
 */
export { EngineError, WrongPassphraseError, KeyCorruptError, KeyOutdatedError, PassphraseUnavailableError, ChunkIntegrityError, UnsupportedFormatError, InvalidOptionError, WorkerFailedError } from './errors.js';

export { createKey, openKey, changePassphrase, describeKey, keyFingerprint, deriveLocalKey, sameIdKey, idKeyFingerprint, exportKey, importKey, readPassphrase, DEFAULT_KDF, MODE_IDS, parseMode, storedInRepository, suiteOfMode } from './keys/index.js';
export type { CreateKeyOptions, ExportFormat, ReadPassphraseOptions, PromptInput, KdfParams, KeyMaterial, KeyMode } from './keys/index.js';

export { createChunker, DEFAULT_CHUNKER, MAX_CHUNK_LIMIT, resolveChunkerOptions } from './chunker/index.js';
export type { Chunker, ChunkerOptions, CdcSizes, FixedSize } from './chunker/index.js';

export { createIdFunction, ID_ALGORITHMS } from './ids.js';
export type { IdAlgorithm, IdFunction } from './ids.js';

export { parseCompression, formatCompression } from './compress/index.js';
export type { Algorithm, CompressionSpec } from './compress/index.js';

export { SUITE_IDS } from './crypto/suites.js';
export type { Suite, AeadImplementation } from './crypto/suites.js';
export { ENVELOPE_OVERHEAD } from './crypto/envelope.js';

export { createCodec } from './codec.js';
export { releaseBytes } from './release.js';
export type { Codec, CodecOptions } from './codec.js';

export { createPipeline, FileSource } from './pipeline/index.js';
export type { Pipeline, PipelineOptions, PipelineChunk, PipelineSource, RunOptions } from './pipeline/index.js';
