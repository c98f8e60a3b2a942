/** Reading an answer's body for a network backend's `get`: progress reported, a stalled stream torn down on abort. */

/**
 * The bytes of `body` (a Node stream or a web ReadableStream), told to `onProgress` as they
 * arrive (see `OpOptions.onProgress`). `size`, when the answer stated it, sizes the buffer; the
 * caller checks the length it got. When `signal` aborts (a timeout), a Node stream is destroyed
 * with the signal's reason, so its socket is freed instead of left waiting on a stalled server,
 * and this rejects. (A web stream from `fetch` is aborted by the signal given to `fetch`.)
 */
export async function readBody(body: AsyncIterable<Uint8Array>, options: { size?: number; onProgress?: (bytes: number) => void; signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const { signal, onProgress } = options;
  const destroy = () => (body as { destroy?: (err?: unknown) => void }).destroy?.(signal?.reason);
  if (signal?.aborted) destroy();
  else signal?.addEventListener('abort', destroy, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of body) {
      chunks.push(chunk);
      total += chunk.length;
      onProgress?.(chunk.length);
    }
    signal?.throwIfAborted();
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    return Buffer.concat(chunks, total);
  } finally {
    signal?.removeEventListener('abort', destroy);
  }
}
