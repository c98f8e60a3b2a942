/** Reading an answer's body for a network backend's `get`: progress reported, a stalled stream torn down on abort. */

/**
 * The bytes of `body` (a Node stream or a web ReadableStream) in one fresh Uint8Array, told to
 * `onProgress` as they arrive (see `OpOptions.onProgress`); the caller checks the length it got
 * against the answer's. When `signal` aborts (a timeout), a Node stream is destroyed
 * with the signal's reason, so its socket is freed instead of left waiting on a stalled server,
 * and this rejects. (A web stream from `fetch` is aborted by the signal given to `fetch`.)
 */
export async function readBody(body: AsyncIterable<Uint8Array>, options: { onProgress?: (bytes: number) => void; signal?: AbortSignal } = {}): Promise<Uint8Array> {
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
    // A fresh plain Uint8Array, as the contract's get returns (not a Buffer, nor a view of a socket's).
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) { out.set(chunk, at); at += chunk.length; }
    return out;
  } finally {
    signal?.removeEventListener('abort', destroy);
  }
}
