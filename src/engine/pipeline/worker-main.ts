/** The body of a pipeline worker: builds its codec (its own AEAD session) and answers scan/id/seal tasks. */
import type { MessagePort } from 'node:worker_threads';
import { deriveGear } from '../chunker/gear.js';
import { scanCandidates } from '../chunker/scan.js';
import { createCodec, type Codec } from '../codec.js';
import { concat } from '../crypto/suites.js';
import { EngineError } from '../errors.js';
import { transferables, type ReadyMessage, type RequestMessage, type ResponseMessage, type TaskRequest, type TaskResult, type WorkerSetup } from './protocol.js';

/** Serves tasks on `port` until the port closes; never throws (errors go back as messages) unless told to by a fault. */
export function serveWorker(port: MessagePort, setup: WorkerSetup): void {
  const gear = deriveGear(setup.key.chunkerSeed);
  const codecReady = createCodec(setup.key, { compression: setup.compression, implementation: setup.implementation });
  let tasks = 0;
  codecReady.then(
    () => port.postMessage({ ready: true } satisfies ReadyMessage),
    (err: unknown) => port.postMessage({ ready: false, error: describe(err) } satisfies ReadyMessage),
  );
  port.on('message', (msg: RequestMessage) => {
    void codecReady.then((codec) => {
      tasks++;
      if (setup.fault && tasks > setup.fault.afterTasks) {
        if (setup.fault.kind === 'crash') setImmediate(() => { throw new Error('injected worker crash'); });
        else throw new Error('injected task failure');
      }
      const result = run(codec, gear, setup, msg.task);
      port.postMessage({ seq: msg.seq, ok: true, result } satisfies ResponseMessage, transferables(result));
    }).catch((err: unknown) => {
      port.postMessage({ seq: msg.seq, ok: false, error: describe(err) } satisfies ResponseMessage);
    });
  });
}

function run(codec: Codec, gear: Int32Array, setup: WorkerSetup, task: TaskRequest): TaskResult {
  switch (task.type) {
    case 'scan': {
      if (!setup.masks) throw new EngineError('invalid-option', 'scan task without CDC masks');
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
  }
}

/** A chunk's bytes in one array: the single part itself, or a copy made here (in parallel) when it spans segments. */
function join(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : concat(parts);
}

function describe(err: unknown): { code?: string; message: string } {
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}
