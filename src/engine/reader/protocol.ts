/** Messages between the chunk reader and its workers: one batch of stored chunks in, their plaintexts (or an error) out. */
import type { KeyMaterial } from '../keys/modes.js';

/** workerData of a reader worker. */
export interface ReaderSetup {
  key: KeyMaterial;
}

/** A batch to open: ids[i] names stored[i]. */
export interface OpenRequest {
  seq: number;
  ids: Uint8Array[];
  stored: Uint8Array[];
}

/** Per chunk, its plaintext or the error `Codec.open` threw (class name and code kept). */
export type OpenOutcome = { ok: true; plain: Uint8Array } | { ok: false; name: string; code: string; message: string };

export type OpenResponse = { seq: number; outcomes: OpenOutcome[] } | { ready: true } | { ready: false; message: string };

/** The distinct ArrayBuffers of whole-buffer views: those can move to the other thread without a copy. */
export function movable(views: readonly Uint8Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of views) {
    if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  }
  return [...out];
}
