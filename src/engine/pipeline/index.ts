/**
 * The pipeline: read → chunk → id → dedup check → compress → encrypt, with scanning, MAC, compression and AEAD on a
 * worker pool. Input goes into SharedArrayBuffer segments that workers scan and cut chunks from, so the main thread
 * only reads, applies the cut rule and keeps order. Memory is bounded (docs/format/chunks.md "Memory"): at most
 * `workers + 1` segments being scanned, the chunk being cut (≤ max + one segment) and `window` chunks in flight.
 */
import { availableParallelism } from 'node:os';
import { resolveChunkerOptions, type ChunkerOptions } from '../chunker/params.js';
import { nextTail } from '../chunker/scan.js';
import { CutSelector } from '../chunker/select.js';
import { parseCompression, type CompressionSpec } from '../compress/index.js';
import type { AeadImplementation } from '../crypto/suites.js';
import { InvalidOptionError } from '../errors.js';
import type { KeyMaterial } from '../keys/modes.js';
import { WorkerPool } from './pool.js';
import { changedError, FileSource } from './file-source.js';
import type { FileResult, OpenResult, WorkerFault } from './protocol.js';
import { readSegments, SegmentWindow, type PipelineSource } from './segments.js';

export type { PipelineSource } from './segments.js';
export { FileSource, type FileIdentity } from './file-source.js';
export { WorkerPool, workerEntry } from './pool.js';

export interface PipelineOptions {
  /** Worker threads (default: os.availableParallelism()). */
  workers?: number;
  /** Chunker sizes or fixed size (default 512 KiB / 2 MiB / 8 MiB). */
  chunker?: ChunkerOptions;
  /** Compression for new chunks (default "lz4"). */
  compression?: string | CompressionSpec;
  /** Read and scan unit in bytes (default 4 MiB). */
  segmentSize?: number;
  /** Chunks in flight per run (default 2 × workers + 2): the backpressure bound. */
  window?: number;
  implementation?: AeadImplementation;
  /** Fault injection for tests only. */
  fault?: WorkerFault;
}

/** One chunk of the input, in input order. `stored` is present only for chunks that must be written. */
export interface PipelineChunk {
  id: Uint8Array;
  size: number;
  stored?: Uint8Array;
}

export interface RunOptions {
  /** Dedup check: true if the repository already has this id (then the chunk is neither compressed nor encrypted). */
  isKnown?(id: Uint8Array): boolean | Promise<boolean>;
}

/** A started pipeline; run() may be called for many files (also concurrently); close() stops the workers. */
export interface Pipeline {
  readonly workers: number;
  /** Yields the chunks of `source` in order; any error (read, worker, callback) rejects the iteration. */
  run(source: PipelineSource, options?: RunOptions): AsyncGenerator<PipelineChunk>;
  /**
   * Opens stored chunks (32-byte ids) on a worker, as `Codec.open` would: each result is the verified plaintext, or
   * undefined when that chunk did not open (open it with `Codec.open` to get the error). The inputs are copied.
   */
  open(ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  close(): Promise<void>;
}

/** Starts the worker pool for `key`. Remember to close() it (workers keep the process alive). */
export async function createPipeline(key: KeyMaterial, options: PipelineOptions = {}): Promise<Pipeline> {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new InvalidOptionError('workers must be a positive integer');
  const chunking = resolveChunkerOptions(options.chunker);
  const segmentSize = options.segmentSize ?? 4 * 1024 * 1024;
  if (!Number.isInteger(segmentSize) || segmentSize < 4096) throw new InvalidOptionError('segmentSize must be >= 4096');
  const window = options.window ?? 2 * workers + 2;
  const compression = typeof options.compression === 'object' ? options.compression : parseCompression(options.compression ?? 'lz4');
  const masks = 'fixed' in chunking ? undefined : { maskS: chunking.maskS, maskL: chunking.maskL };
  const pool = await WorkerPool.start(workers, { key, compression, implementation: options.implementation, masks, fault: options.fault });

  /** Yields each chunk as views into the shared segments (see SegmentWindow); the main thread copies nothing. */
  async function* chunksOf(source: PipelineSource): AsyncGenerator<Uint8Array[]> {
    const segments = readSegments(source, segmentSize);
    const held = new SegmentWindow();
    let offset = 0;
    let emitted = 0;
    if ('fixed' in chunking) {
      for await (const seg of segments) {
        held.push(seg);
        offset += seg.length;
        for (; offset - emitted >= chunking.fixed; emitted += chunking.fixed) yield held.cut(emitted, emitted + chunking.fixed);
      }
      if (offset > emitted) yield held.cut(emitted, offset);
      return;
    }
    const selector = new CutSelector(chunking);
    const scans: Promise<{ candidates: Int32Array; data: Uint8Array }>[] = [];
    let tail: Uint8Array = new Uint8Array(0);
    let more = true;
    try {
      // A whole input of at most `min` bytes is one chunk whatever its candidates: skip the scan round trip
      // (most files are small). A segment shorter than segmentSize is the last one.
      const first = await segments.next();
      if (first.done) return;
      if (first.value.length < segmentSize && first.value.length <= chunking.min) {
        yield [first.value];
        return;
      }
      let pushBack: Uint8Array | undefined = first.value;
      for (;;) {
        // Keep up to workers + 1 segments being scanned ahead of the one whose cuts are being applied.
        while (more && scans.length <= workers) {
          const next: IteratorResult<Uint8Array> = pushBack ? { done: false, value: pushBack } : await segments.next();
          pushBack = undefined;
          if (next.done) {
            more = false;
            break;
          }
          const prev = tail;
          tail = nextTail(tail, next.value);
          const data = next.value;
          const scan = (pool.request({ type: 'scan', tail: prev, data }) as Promise<{ candidates: Int32Array }>).then((r) => ({ candidates: r.candidates, data }));
          scan.catch(() => undefined);
          scans.push(scan);
        }
        const first = scans.shift();
        if (!first) break;
        const { candidates, data } = await first;
        held.push(data);
        for (const cut of selector.push(offset, data.length, candidates)) {
          yield held.cut(emitted, cut);
          emitted = cut;
        }
        offset += data.length;
      }
      for (const cut of selector.finish()) yield held.cut(emitted, cut);
    } finally {
      // An early stop or an error must still close the file being read.
      await segments.return(undefined);
    }
  }

  async function* run(source: PipelineSource, runOptions: RunOptions = {}): AsyncGenerator<PipelineChunk> {
    const isKnown = runOptions.isKnown;
    const sealing = new Set<string>();
    const inFlight: Promise<PipelineChunk>[] = [];
    // Dedup decisions are taken one at a time in input order, so a chunk repeated within this run is sealed once and
    // the earlier occurrence (yielded first) is the one that carries `stored`; isKnown is never called concurrently.
    let gate: Promise<unknown> = Promise.resolve();
    const handle = async (parts: Uint8Array[]): Promise<PipelineChunk> => {
      let size = 0;
      for (const p of parts) size += p.length;
      if (!isKnown) {
        const r = (await pool.request({ type: 'id-seal', parts })) as { id: Uint8Array; stored: Uint8Array };
        return { id: r.id, size, stored: r.stored };
      }
      const idTask = pool.request({ type: 'id', parts }) as Promise<{ type: 'id'; id: Uint8Array }>;
      idTask.catch(() => undefined);
      const decided = gate.then(async () => {
        const r = await idTask;
        const name = Buffer.from(r.id).toString('hex');
        if (sealing.has(name) || (await isKnown(r.id))) return { r, seal: false };
        sealing.add(name);
        return { r, seal: true };
      });
      gate = decided.catch(() => undefined);
      const { r, seal } = await decided;
      if (!seal) return { id: r.id, size };
      const s = (await pool.request({ type: 'seal', id: r.id, parts })) as { stored: Uint8Array };
      return { id: r.id, size, stored: s.stored };
    };
    // A file that fits in one chunk: one worker task reads, ids and (speculatively, unless the caller can only
    // know it by asking) seals it. A known chunk's seal is wasted work, but the round trip saved matters more.
    const oneChunk = 'fixed' in chunking ? chunking.fixed : chunking.min;
    if (source instanceof FileSource && source.identity.size <= BigInt(oneChunk)) {
      const { path, identity } = source;
      // The path in a buffer of its own: a view into Buffer's 8 KiB pool would clone the whole pool slab.
      const r = (await pool.request({ type: 'file', path: new Uint8Array(path), dev: identity.dev, ino: identity.ino, size: Number(identity.size), limit: oneChunk, seal: true })) as FileResult;
      if (r.error === 'ECHANGED') throw changedError();
      if (r.error) throw Object.assign(new Error(`cannot read file: ${r.error}`), { code: r.error });
      if (!r.tooBig) {
        if (!r.id) return;
        if (!r.stored || (isKnown && await isKnown(r.id))) yield { id: r.id, size: r.size };
        else yield { id: r.id, size: r.size, stored: r.stored };
        return;
      }
    }
    try {
      for await (const chunk of chunksOf(source)) {
        const p = handle(chunk);
        p.catch(() => undefined);
        inFlight.push(p);
        while (inFlight.length >= window) yield await (inFlight.shift() as Promise<PipelineChunk>);
      }
      while (inFlight.length > 0) yield await (inFlight.shift() as Promise<PipelineChunk>);
    } finally {
      // On an early exit or error, let in-flight tasks settle so none outlives the run unobserved.
      await Promise.allSettled(inFlight);
    }
  }

  async function open(ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (ids.length !== stored.length) throw new InvalidOptionError('open: one stored value per id');
    const packedIds = new Uint8Array(ids.length * 32);
    const ends = new Uint32Array(ids.length);
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i].length !== 32) throw new InvalidOptionError('open: chunk ids are 32 bytes');
      packedIds.set(ids[i], i * 32);
      ends[i] = total += stored[i].length;
    }
    // Not zero-filled: every byte is written just below.
    const data = new Uint8Array(Buffer.allocUnsafeSlow(total).buffer, 0, total);
    for (let i = 0; i < stored.length; i++) data.set(stored[i], i === 0 ? 0 : ends[i - 1]);
    const r = (await pool.request({ type: 'open', ids: packedIds, ends, data })) as OpenResult;
    return r.plain;
  }

  return { workers, run, open, close: () => pool.close() };
}
