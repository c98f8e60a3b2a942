/** Entry file of a pipeline worker thread (worker.ts under tsx, worker.js once built): hands its port to serveWorker. */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerSetup } from './protocol.js';
import { serveWorker } from './worker-main.js';

if (parentPort) serveWorker(parentPort, workerData as WorkerSetup);
