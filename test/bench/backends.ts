/**
 * Backend benchmark, two parts.
 *
 * 1. Throughput: put and get of 32 MiB objects at concurrency 1, 4 and 8 on every backend, each
 *    against its local server, printed as throughput and as a ratio to the fs backend measured in
 *    the same run. Requests are counted two ways: calls into the Backend, and HTTP requests seen on
 *    Node's `http.client.request.start` diagnostics channel (S3, GCS, Azure; SFTP speaks SSH).
 * 2. Cost of a backup: the `cairn` executable backs up the generated dataset (test/bench/dataset,
 *    `--backup-size=1G` by default) to each remote backend's local server, then the day-2 changes;
 *    printed per run: the requests by kind, retries and object bytes of the `backend` object of its
 *    --json result, and what the harness's proxy in front of the server saw (HTTP requests, or bytes
 *    on the SSH connection). Beside it, restic over SFTP (bytes on the wire) and over S3 (requests
 *    counted by the proxy), where restic is installed. `--backup-size=0` skips this part.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/store/backend.js';
import { createFsBackend } from '../../backends/fs/index.js';
import { backupCost } from './cost/backup-cost.js';
import { runtimeLine } from '../helpers/runtime.js';

const MIB = 1024 * 1024;
type Factory = { make(root: string): Promise<Backend>; stop(): Promise<void> };

let httpRequests = 0;
const onRequest = () => { httpRequests++; };

async function fsFactory(): Promise<Factory> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-backends-'));
  return { make: async (root) => createFsBackend(join(dir, root)), stop: () => rm(dir, { recursive: true, force: true }) };
}

async function remoteFactory(name: string): Promise<Factory> {
  const mod = (await import(`../backends/factories/${name}.js`)) as { startFactory(): Promise<Factory | Error> };
  const f = await mod.startFactory();
  if (f instanceof Error) throw f;
  return f;
}

interface Row { backend: string; concurrency: number; put: number; get: number; calls: number; http: number }

/** Writes and reads `objects` objects of `size` bytes, `concurrency` at a time; MiB/s each way. */
async function measure(b: Backend, bytes: Uint8Array, objects: number, concurrency: number): Promise<Omit<Row, 'backend' | 'concurrency'>> {
  let calls = 0;
  const http0 = httpRequests;
  const keys = Array.from({ length: objects }, (_, i) => `data/bench/${concurrency}-${i}`);
  const inBatches = async (fn: (key: string) => Promise<unknown>) => {
    const start = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < keys.length) { const key = keys[next++] as string; calls++; await fn(key); }
    }));
    return (objects * bytes.length) / MIB / ((performance.now() - start) / 1000);
  };
  const put = await inBatches((k) => b.put(k, bytes));
  const get = await inBatches(async (k) => { const v = await b.get(k); if (v.length !== bytes.length) throw new Error(`short read of ${k}`); });
  for (const k of keys) await b.delete(k);
  return { put, get, calls, http: httpRequests - http0 };
}

/** `--objects=N` per measurement (default 8), `--mib=N` (default 32), `--only=a,b` backends, `--backup-size=1G` (0: skip part 2). */
export default async function run(args: string[] = []): Promise<void> {
  const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const objects = Number(opt('objects') ?? 8);
  const size = Number(opt('mib') ?? 32) * MIB;
  const names = (opt('only') ?? 'fs,sftp,s3,gcs,azure').split(',');
  const backupSize = opt('backup-size') ?? process.env.CAIRN_BENCH_SIZE ?? '1G';
  const bytes = randomFillSync(new Uint8Array(size));
  const rows: Row[] = [];
  subscribe('http.client.request.start', onRequest);
  try {
    for (const name of names) {
      const factory = name === 'fs' ? await fsFactory() : await remoteFactory(name);
      try {
        const b = await factory.make(`bench-${process.pid}`);
        await b.create();
        for (const concurrency of [1, 4, 8]) rows.push({ backend: name, concurrency, ...(await measure(b, bytes, objects, concurrency)) });
        await b.destroy();
        await b.close();
      } finally {
        await factory.stop();
      }
    }
  } finally {
    unsubscribe('http.client.request.start', onRequest);
  }
  const base = (c: number) => rows.find((r) => r.backend === 'fs' && r.concurrency === c);
  console.log(`${await runtimeLine()}`);
  console.log(`${objects} objects of ${size / MIB} MiB per row; ratio = backend MiB/s ÷ fs MiB/s at the same concurrency`);
  console.log('backend  conc   put MiB/s (ratio)   get MiB/s (ratio)   backend calls   http requests');
  for (const r of rows) {
    const f = base(r.concurrency);
    const ratio = (x: number, y: number | undefined) => (y ? (x / y).toFixed(2) : '-');
    console.log(`${r.backend.padEnd(8)} ${String(r.concurrency).padStart(4)}   ${r.put.toFixed(0).padStart(9)} (${ratio(r.put, f?.put)})   ${r.get.toFixed(0).padStart(9)} (${ratio(r.get, f?.get)})   ${String(r.calls).padStart(13)}   ${String(r.http).padStart(13)}`);
  }
  if (backupSize !== '0') await backupCost(names, backupSize);
}
