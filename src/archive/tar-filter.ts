/**
 * The compression around a tar stream (`export-tar`, `import-tar`): gzip, or zstd where the runtime has it
 * (node:zlib from Node 22.15; Node 20 has none), chosen by the file name when writing and by the magic bytes when
 * reading (gzip 1f 8b, zstd 28 b5 2f fd).
 */
import { Readable, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import type { DumpSink } from './dump.js';
import { ArchiveError, TarFormatError } from './errors.js';

export type TarFilter = 'none' | 'gzip' | 'zstd';

/** The filter a file name asks for: `.tar.gz`/`.tgz` gzip, `.tar.zst`/`.tzst` zstd, anything else none. */
export function tarFilterOf(fileName: string): TarFilter {
  if (/\.(?:tar\.gz|tgz)$/i.test(fileName)) return 'gzip';
  if (/\.(?:tar\.zst|tzst)$/i.test(fileName)) return 'zstd';
  return 'none';
}

/** This runtime has no zstd (Node before 22.15, e.g. Node 20). */
export class ZstdUnavailableError extends ArchiveError {
  constructor() {
    super('EZSTD_UNAVAILABLE', `zstd needs Node 22.15 or later (this is Node ${process.versions.node}): use .tar.gz or a plain .tar, or run cairn on Node 24`);
  }
}

type ZstdZlib = { createZstdCompress?(): Transform; createZstdDecompress?(): Transform };

function zstd(kind: 'compress' | 'decompress'): Transform {
  const z = zlib as unknown as ZstdZlib;
  const make = kind === 'compress' ? z.createZstdCompress : z.createZstdDecompress;
  if (typeof make !== 'function') throw new ZstdUnavailableError();
  return make.call(zlib);
}

/** Throws `ZstdUnavailableError` now, before anything is written, when `filter` is zstd and the runtime lacks it. */
export function checkTarFilter(filter: TarFilter): void {
  if (filter === 'zstd') zstd('compress').destroy();
}

/** A sink that compresses into `out`; `close()` flushes the end and resolves false when `out` stopped taking bytes. */
export function compressingSink(out: DumpSink, filter: Exclude<TarFilter, 'none'>): { sink: DumpSink; close(): Promise<boolean> } {
  const z = filter === 'gzip' ? zlib.createGzip() : zstd('compress');
  let taking = true;
  let ended = false;
  let onEnd: (() => void) | undefined;
  const pump = (async () => {
    for await (const piece of z as AsyncIterable<Uint8Array>) if (taking && !await out(piece)) taking = false;
  })();
  pump.catch(() => undefined).finally(() => { ended = true; onEnd?.(); });
  /**
   * Until `z` drains or the pump ends (then its failure is thrown). Each wait listens only while it
   * lasts: a race against `pump` at every wait (what this was) piled a reaction on it per drain.
   */
  const drained = async (): Promise<void> => {
    if (!ended) {
      await new Promise<void>((resolve) => {
        const done = (): void => { z.off('drain', done); onEnd = undefined; resolve(); };
        onEnd = done;
        z.once('drain', done);
      });
    }
    if (ended) await pump;
  };
  return {
    sink: async (bytes) => {
      if (!taking) return false;
      if (!z.write(bytes)) await drained();
      return taking;
    },
    close: async () => {
      z.end();
      await pump;
      return taking;
    },
  };
}

/** `source` uncompressed: gzip or zstd by its first bytes, else as it is. A damaged stream is `TarFormatError`. */
export async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 4 && !ended) {
    const next = await it.next();
    if (next.done) ended = true;
    else head = Buffer.concat([head, next.value]);
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const filter: TarFilter = head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd ? 'zstd' : 'none';
  if (filter === 'none') {
    yield* all();
    return;
  }
  const z = filter === 'gzip' ? zlib.createGunzip() : zstd('decompress');
  const out = pipeline(Readable.from(all(), { objectMode: false }), z, () => undefined);
  try {
    for await (const piece of out as AsyncIterable<Buffer>) yield piece;
  } catch (error) {
    if (typeof (error as { code?: unknown })?.code === 'string' && String((error as { code: string }).code).startsWith('Z_')) {
      throw new TarFormatError(0, `the ${filter} stream is damaged (${(error as Error).message})`);
    }
    throw error;
  }
}
