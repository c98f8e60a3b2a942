/** The body of a pipeline worker: builds its codec (its own AEAD session) and answers scan/id/seal tasks. */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { deriveGear } from '../chunker/gear.js';
import { scanCandidates } from '../chunker/scan.js';
import { createCodec, type Codec } from '../codec.js';
import { concat } from '../crypto/suites.js';
import { EngineError } from '../errors.js';
import { releaseBytes } from '../release.js';
import { transferables, type BatchRequestMessage, type BatchResponseMessage, type FileResult, type OpenRequest, type OpenResult, type ReadyMessage, type RequestMessage, type ResponseMessage, type TaskRequest, type TaskResult, type WorkerSetup } from './protocol.js';

/** Serves tasks on `port` until the port closes; never throws (errors go back as messages) unless told to by a fault. */
export function serveWorker(port: MessagePort, setup: WorkerSetup): void {
  const gear = deriveGear(setup.key.chunkerSeed);
  const codecReady = createCodec(setup.key, { compression: setup.compression, implementation: setup.implementation });
  let tasks = 0;
  codecReady.then(
    () => port.postMessage({ ready: true } satisfies ReadyMessage),
    (err: unknown) => port.postMessage({ ready: false, error: describe(err) } satisfies ReadyMessage),
  );
  /** Runs one task; its answer, and the buffers the answer may move. */
  const answer = (codec: Codec, msg: RequestMessage): { response: ResponseMessage; moved: ArrayBuffer[] } => {
    try {
      tasks++;
      if (setup.fault && tasks > setup.fault.afterTasks) {
        if (setup.fault.kind === 'crash') setImmediate(() => { throw new Error('injected worker crash'); });
        else throw new Error('injected task failure');
      }
      const result = run(codec, gear, setup, msg.task);
      return { response: { seq: msg.seq, ok: true, result }, moved: transferables(result) };
    } catch (err) {
      return { response: { seq: msg.seq, ok: false, error: describe(err) }, moved: [] };
    }
  };
  port.on('message', (msg: RequestMessage | BatchRequestMessage) => {
    void codecReady.then((codec) => {
      if (!('batch' in msg)) {
        const { response, moved } = answer(codec, msg);
        port.postMessage(response, moved);
        return;
      }
      const batch: ResponseMessage[] = [];
      const moved: ArrayBuffer[] = [];
      for (const one of msg.batch) {
        const done = answer(codec, one);
        batch.push(done.response);
        moved.push(...done.moved);
      }
      port.postMessage({ batch } satisfies BatchResponseMessage, moved);
    }, (err: unknown) => {
      for (const one of 'batch' in msg ? msg.batch : [msg]) port.postMessage({ seq: one.seq, ok: false, error: describe(err) } satisfies ResponseMessage);
    });
  });
}

function run(codec: Codec, gear: Int32Array, setup: WorkerSetup, task: TaskRequest): TaskResult {
  switch (task.type) {
    case 'scan': {
      if (!setup.masks) throw new EngineError('EINVALID_OPTION', 'scan task without CDC masks');
      return { type: 'scan', candidates: scanCandidates(gear, setup.masks.maskS, setup.masks.maskL, task.tail, task.data) };
    }
    case 'id':
      return { type: 'id', id: codec.id(join(task.parts)) };
    case 'seal':
      return { type: 'seal', stored: codec.seal(task.id, join(task.parts)) };
    case 'id-seal': {
      const data = join(task.parts);
      const id = codec.id(data);
      return { type: 'id-seal', id, stored: codec.seal(id, data) };
    }
    case 'file':
      return readFileTask(codec, task);
    case 'open':
      return openTask(codec, task);
  }
}

/**
 * Opens each chunk of a batch; one that fails is only marked (the main thread opens it again to learn
 * why). The batch's stored bytes are freed once opened: no plaintext shares them (`Codec.open`).
 */
function openTask(codec: Codec, task: OpenRequest): OpenResult {
  const plain: (Uint8Array | undefined)[] = [];
  for (let i = 0, from = 0; i < task.ends.length; from = task.ends[i], i++) {
    try {
      plain.push(codec.open(task.ids.subarray(i * 32, i * 32 + 32), task.data.subarray(from, task.ends[i])));
    } catch {
      plain.push(undefined);
    }
  }
  releaseBytes(task.data);
  return { type: 'open', plain };
}

/** Reads a small file with blocking calls (this thread does nothing else meanwhile), then ids and seals it. */
function readFileTask(codec: Codec, task: Extract<TaskRequest, { type: 'file' }>): FileResult {
  let fd: number;
  try {
    fd = openSync(Buffer.from(task.path.buffer, task.path.byteOffset, task.path.byteLength), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    return { type: 'file', size: 0, error: errnoCode(err) };
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (st.ino !== task.ino || st.dev !== task.dev) return { type: 'file', size: 0, error: 'ECHANGED' };
    const size = Number(st.size);
    if (size > task.limit) return { type: 'file', size, tooBig: true };
    // One byte more than the size: a full buffer means the file grew, and the stream path takes over.
    const buf = Buffer.allocUnsafe(size + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled === buf.length) return { type: 'file', size: filled, tooBig: true };
    }
    if (filled === 0) return { type: 'file', size: 0 };
    const data = buf.subarray(0, filled);
    const id = codec.id(data);
    return task.seal ? { type: 'file', size: filled, id, stored: codec.seal(id, data) } : { type: 'file', size: filled, id };
  } catch (err) {
    return { type: 'file', size: 0, error: errnoCode(err) };
  } finally {
    closeSync(fd);
  }
}

function errnoCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : 'EIO';
}

/** A chunk's bytes in one array: the single part itself, or a copy made here (in parallel) when it spans segments. */
function join(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : concat(parts);
}

function describe(err: unknown): { code?: string; message: string } {
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}
