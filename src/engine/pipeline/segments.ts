/**
 * Reads a file path or a byte stream as segments in SharedArrayBuffers: workers scan them and read chunk bytes
 * from them directly, so the main thread never copies a file's bytes (a stream's pieces are copied once, into
 * the segments, since their buffers may be pooled or reused by the producer).
 */
import { open } from 'node:fs/promises';

/** A file path, or a stream of byte pieces (a `FileSource` is one, which small files skip reading here). */
export type PipelineSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const shared = (size: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(size));
/** A first piece at least this big marks a large stream (readers hand out up to 1 MiB at a time). */
const LARGE_PIECE = 256 * 1024;

/** Yields segments of exactly `size` bytes (the last may be shorter), never empty ones, never written again. */
export async function* readSegments(source: PipelineSource, size: number): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') {
    const file = await open(source, 'r');
    try {
      for (;;) {
        const buf = shared(size);
        let filled = 0;
        while (filled < size) {
          const { bytesRead } = await file.read(buf, filled, size - filled, null);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled > 0) yield buf.subarray(0, filled);
        if (filled < size) return;
      }
    } finally {
      await file.close();
    }
  }
  // Segments start small and double up to `size`: most streams are small files, and a full-size
  // SharedArrayBuffer per file costs a zero-filled allocation far larger than the file.
  // A stream that already filled a segment, or whose first piece is big, is a large input: full segments then.
  let buf: Uint8Array | undefined;
  let filled = 0;
  let large = false;
  for await (const piece of source) {
    for (let at = 0; at < piece.length;) {
      if (!buf) buf = shared(large || piece.length - at >= LARGE_PIECE ? size : Math.min(size, Math.max(piece.length - at, 16 * 1024)));
      else if (filled === buf.length) {
        const grown = shared(Math.min(size, Math.max(buf.length * 2, filled + piece.length - at)));
        grown.set(buf);
        buf = grown;
      }
      const n = Math.min(buf.length - filled, piece.length - at);
      buf.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield buf;
        buf = undefined;
        filled = 0;
        large = true;
      }
    }
  }
  if (buf && filled > 0) yield buf.subarray(0, filled);
}

/** Segments of one stream by absolute offset, from which chunks are cut as lists of views (no copy). */
export class SegmentWindow {
  #segments: { base: number; bytes: Uint8Array }[] = [];
  #end = 0;

  /** Appends the next segment of the stream. */
  push(bytes: Uint8Array): void {
    this.#segments.push({ base: this.#end, bytes });
    this.#end += bytes.length;
  }

  /** Views of the bytes [from, to) (which must be held), then forgets segments wholly before `to`. */
  cut(from: number, to: number): Uint8Array[] {
    const parts: Uint8Array[] = [];
    for (const { base, bytes } of this.#segments) {
      const lo = Math.max(from, base);
      const hi = Math.min(to, base + bytes.length);
      if (lo < hi) parts.push(bytes.subarray(lo - base, hi - base));
    }
    while (this.#segments.length > 0 && this.#segments[0].base + this.#segments[0].bytes.length <= to) this.#segments.shift();
    return parts;
  }
}
