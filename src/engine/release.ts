/**
 * Handing a chunk's memory back at once instead of at the next garbage collection.
 *
 * A Node buffer's memory is freed when V8 collects its last view, and V8 collects when its own
 * heap fills, not when the buffers do: a restore or a check allocates several buffers per chunk
 * and held 206 MiB of them at a point where 64 MiB were in use (docs/performance.md). Detaching
 * the ArrayBuffer (`transfer(0)`, Node 22+) frees its memory now. Every view of it then reads as
 * empty, so this is only for a buffer that nothing else can see: the caller must own every view.
 */

/** Frees the memory of `bytes` now when it is the whole of its own ArrayBuffer; otherwise (a view into a larger buffer, a SharedArrayBuffer, Node 20) does nothing. */
export function releaseBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBufferLike & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
  if (!(buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return;
  // Node 20 has no `transfer`; a buffer already detached is left as it is.
  if (typeof buffer.transfer !== 'function' || buffer.detached) return;
  buffer.transfer(0);
}
