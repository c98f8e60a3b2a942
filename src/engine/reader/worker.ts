/** Entry of a chunk reader worker: builds the codec for the key it was given and opens every batch it receives. */
import { parentPort, workerData } from 'node:worker_threads';
import { createCodec } from '../codec.js';
import { movable, type OpenOutcome, type OpenRequest, type OpenResponse, type ReaderSetup } from './protocol.js';

const port = parentPort;
if (port) {
  const ready = createCodec((workerData as ReaderSetup).key);
  ready.then(
    () => port.postMessage({ ready: true } satisfies OpenResponse),
    (err: unknown) => port.postMessage({ ready: false, message: (err as Error)?.message ?? String(err) } satisfies OpenResponse),
  );
  port.on('message', (req: OpenRequest) => {
    void ready.then((codec) => {
      const outcomes = req.ids.map((id, i): OpenOutcome => {
        try {
          return { ok: true, plain: codec.open(id, req.stored[i]) };
        } catch (err) {
          const e = err as { name?: string; code?: string; message?: string };
          return { ok: false, name: e.name ?? 'Error', code: e.code ?? 'ECHUNK_INTEGRITY', message: e.message ?? String(err) };
        }
      });
      const plains = outcomes.flatMap((o) => (o.ok ? [o.plain] : []));
      port.postMessage({ seq: req.seq, outcomes } satisfies OpenResponse, movable(plains));
    });
  });
}
