/**
 * Reading many chunks at once: the real repository's `getMany` reads adjacent entries of a segment
 * with one backend read. It is not part of the `ChunkRepository` port (test doubles lack it), so
 * callers look for it and fall back to one `get` per chunk.
 */

/** A repository that can read many entries at once, in the order asked, each digest-verified. */
export interface BatchReader {
  getMany(ids: readonly Uint8Array[]): Promise<Uint8Array[]>;
}

/** The repository as a `BatchReader` when it has `getMany`, else undefined. */
export function batchReader(repo: object): BatchReader | undefined {
  return typeof (repo as Partial<BatchReader>).getMany === 'function' ? repo as BatchReader : undefined;
}

/**
 * A codec that can open many chunks at once off this thread (e.g. with the engine's chunk reader):
 * each plaintext verified as `open` does; a failing chunk rejects the call. Optional on the port.
 */
export interface BatchOpener {
  openMany(ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<Uint8Array[]>;
}

/** The codec as a `BatchOpener` when it has `openMany`, else undefined. */
export function batchOpener(codec: object): BatchOpener | undefined {
  return typeof (codec as Partial<BatchOpener>).openMany === 'function' ? codec as BatchOpener : undefined;
}
