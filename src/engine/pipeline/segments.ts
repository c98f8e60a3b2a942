/** Reads a file path or a byte stream as segments, each in its own ArrayBuffer so it can be moved to a worker. */
import { open } from 'node:fs/promises';
import { ByteQueue } from '../chunker/byte-queue.js';

/** A file path, or a stream of byte pieces (which are copied into segments, so their buffers may be pooled). */
export type PipelineSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Yields segments of exactly `size` bytes (the last may be shorter), never empty ones. */
export async function* readSegments(source: PipelineSource, size: number): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') {
    const file = await open(source, 'r');
    try {
      for (;;) {
        const buf = new Uint8Array(size);
        let filled = 0;
        while (filled < size) {
          const { bytesRead } = await file.read(buf, filled, size - filled, null);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled === 0) return;
        yield filled === size ? buf : buf.slice(0, filled);
        if (filled < size) return;
      }
    } finally {
      await file.close();
    }
  }
  const queue = new ByteQueue();
  for await (const piece of source) {
    queue.push(piece);
    while (queue.length >= size) yield queue.take(size);
  }
  if (queue.length > 0) yield queue.take(queue.length);
}
