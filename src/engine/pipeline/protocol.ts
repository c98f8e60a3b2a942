/** Messages between the pipeline's main thread and its workers (structured clone; large buffers are transferred). */
import type { KeyMaterial } from '../keys/modes.js';
import type { CompressionSpec } from '../compress/index.js';
import type { AeadImplementation } from '../crypto/suites.js';

/** What every worker is started with. */
export interface WorkerSetup {
  key: KeyMaterial;
  compression: CompressionSpec;
  implementation?: AeadImplementation;
  /** Gear masks for scan tasks (absent with fixed-size chunking). */
  masks?: { maskS: number; maskL: number };
  /** Fault injection for tests: after `afterTasks` tasks this worker throws from a task or crashes the thread. */
  fault?: WorkerFault;
}

export interface WorkerFault {
  kind: 'throw' | 'crash';
  afterTasks: number;
}

/**
 * `data` and `parts` are views into SharedArrayBuffer segments (shared, not copied or moved); a chunk's `parts` are
 * its bytes in order, more than one when it spans segments.
 */
export type TaskRequest =
  | { type: 'scan'; tail: Uint8Array; data: Uint8Array }
  | { type: 'id'; parts: Uint8Array[] }
  | { type: 'seal'; id: Uint8Array; parts: Uint8Array[] }
  | { type: 'id-seal'; parts: Uint8Array[] }
  /** Read a whole file of at most `limit` bytes that must still be inode (dev, ino); id it, and seal it too if `seal`. */
  | { type: 'file'; path: Uint8Array; dev: bigint; ino: bigint; size: number; limit: number; seal: boolean }
  /** Open stored chunks: `ids` holds n ids of 32 bytes, chunk i's stored bytes are `data[ends[i-1] .. ends[i]]`. */
  | OpenRequest;

/** Chunks to open, packed in two buffers of their own so they travel without being copied. */
export interface OpenRequest {
  type: 'open';
  ids: Uint8Array;
  ends: Uint32Array;
  data: Uint8Array;
}

/** The opened chunks in order; `undefined` for one that did not open. Each is moved when it has a buffer of its own. */
export interface OpenResult {
  type: 'open';
  plain: (Uint8Array | undefined)[];
}

/** Outcome of a file task: its one chunk (none when empty), an errno-style `error`, or `tooBig` (then read it as a stream). */
export interface FileResult {
  type: 'file';
  size: number;
  id?: Uint8Array;
  stored?: Uint8Array;
  error?: string;
  tooBig?: boolean;
}

export type TaskResult =
  | { type: 'scan'; candidates: Int32Array }
  | { type: 'id'; id: Uint8Array }
  | { type: 'seal'; stored: Uint8Array }
  | { type: 'id-seal'; id: Uint8Array; stored: Uint8Array }
  | FileResult
  | OpenResult;

export interface RequestMessage {
  seq: number;
  task: TaskRequest;
}

export type ResponseMessage =
  | { seq: number; ok: true; result: TaskResult }
  | { seq: number; ok: false; error: { code?: string; message: string } };

/**
 * Small-file (`file`) tasks posted during one turn of the event loop go to a worker in one message,
 * and their answers come back in one: a message per file cost the main thread more than the work.
 */
export interface BatchRequestMessage {
  batch: RequestMessage[];
}

export interface BatchResponseMessage {
  batch: ResponseMessage[];
}

/** Ready signal a worker sends once its codec is built (or the error that stopped it). */
export type ReadyMessage = { ready: true } | { ready: false; error: { code?: string; message: string } };

/** The ArrayBuffers of a message that can be moved instead of copied. */
export function transferables(value: TaskRequest | TaskResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (b: Uint8Array | Int32Array | Uint32Array): void => {
    // Only whole, unshared buffers may be moved; views into a larger buffer are copied by the structured clone.
    if (b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !out.includes(b.buffer)) out.push(b.buffer);
  };
  if ('stored' in value && value.stored) add(value.stored);
  if ('candidates' in value) add(value.candidates);
  if (value.type === 'open') {
    if ('ids' in value) {
      add(value.ids);
      add(value.ends);
      add(value.data);
    } else {
      for (const p of value.plain) if (p) add(p);
    }
  }
  return out;
}
