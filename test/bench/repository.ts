/**
 * Repository benchmark, in one run: (1) the checksum options (CRC-32 from node:zlib vs hash-wasm,
 * XXH64 from hash-wasm); (2) log put throughput (put + commit of 2 MiB values) beside raw backend
 * puts of the same number of bytes cut in segment-size objects, on memory and fs; (3) index memory
 * per entry at 1 M entries; (4) open time of a repository with 1 M indexed entries (from deltas
 * and from a full index). Options: `--mib=N` data per throughput round (default 256),
 * `--entries=N` (default 1 000 000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createCRC32 } from 'hash-wasm';
import { createFsBackend } from '../../backends/fs/index.js';
import { createMemoryBackend } from '../../backends/memory/index.js';
import type { Backend } from '../../src/store/backend.js';
import { runtimeLine } from '../helpers/runtime.js';
import { Repository } from '../../src/repository/index.js';
import { loadDigests, xxh64 } from '../../src/repository/digests.js';
import { ChunkIndex, IndexBuilder } from '../../src/repository/index-table.js';

const MIB = 1024 * 1024;
const rate = (bytes: number, ms: number) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`;

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function digests(): Promise<void> {
  await loadDigests();
  const wasmCrc = await createCRC32();
  const header = randomFillSync(new Uint8Array(45));
  const big = randomFillSync(new Uint8Array(2 * MIB));
  const n = 200_000, m = 200;
  const zh = await timed(() => { for (let i = 0; i < n; i++) zlibCrc32(header); });
  const wh = await timed(() => { for (let i = 0; i < n; i++) wasmCrc.init().update(header).digest('binary'); });
  const zb = await timed(() => { for (let i = 0; i < m; i++) zlibCrc32(big); });
  const wb = await timed(() => { for (let i = 0; i < m; i++) wasmCrc.init().update(big).digest('binary'); });
  const xb = await timed(() => { for (let i = 0; i < m; i++) xxh64(big); });
  const xh = await timed(() => { for (let i = 0; i < n; i++) xxh64(header); });
  console.log(`checksums (45-byte header: ns per call; 2 MiB value: throughput); ${await runtimeLine()}`);
  console.log(`  crc32  node:zlib   ${(zh * 1e6 / n).toFixed(0)} ns   ${rate(m * big.length, zb)}`);
  console.log(`  crc32  hash-wasm   ${(wh * 1e6 / n).toFixed(0)} ns   ${rate(m * big.length, wb)}`);
  console.log(`  xxh64  hash-wasm   ${(xh * 1e6 / n).toFixed(0)} ns   ${rate(m * big.length, xb)}`);
}

async function throughput(name: string, make: () => Promise<Backend>, mib: number): Promise<void> {
  const value = 2 * MIB;
  const count = Math.max(1, Math.floor((mib * MIB) / value));
  const values = Array.from({ length: 8 }, () => randomFillSync(new Uint8Array(value)));
  const ids = Array.from({ length: count }, () => randomFillSync(new Uint8Array(32)));
  const segment = 32 * MIB;
  const raw = await make();
  await raw.create();
  const segmentBytes = randomFillSync(new Uint8Array(segment));
  const rawMs = await timed(async () => {
    const puts: Promise<void>[] = [];
    for (let i = 0; i < Math.ceil((count * value) / segment); i++) {
      puts.push(raw.put(`data/raw/${i}`, segmentBytes));
      if (puts.length >= 4) await puts.shift();
    }
    await Promise.all(puts);
  });
  const repo = await Repository.create(await make());
  const logMs = await timed(async () => {
    for (let i = 0; i < count; i++) await repo.put(ids[i], values[i % values.length]);
    await repo.commit();
  });
  await repo.close();
  const bytes = count * value;
  console.log(`  ${name.padEnd(6)} log put+commit ${rate(bytes, logMs).padStart(10)}   raw backend put ${rate(bytes, rawMs).padStart(10)}   (${(bytes / MIB).toFixed(0)} MiB, ratio ${(rawMs / logMs).toFixed(2)})`);
}

function indexMemory(entries: number): void {
  const ids = randomFillSync(new Uint8Array(entries * 32));
  global.gc?.();
  const heap0 = process.memoryUsage().arrayBuffers;
  const builder = new IndexBuilder();
  for (let i = 0; i < entries; i++) builder.put(ids.subarray(i * 32, i * 32 + 32), i % 1000, i, 2 * MIB);
  let index!: ChunkIndex;
  const buildMs = performanceNow(() => { index = ChunkIndex.from(builder); });
  const incremental = new ChunkIndex();
  const setMs = performanceNow(() => { for (let i = 0; i < entries; i++) incremental.set(ids.subarray(i * 32, i * 32 + 32), i % 1000, i, 100); });
  let hits = 0;
  const lookups = 1_000_000;
  const getMs = performanceNow(() => { for (let i = 0; i < lookups; i++) if (index.has(ids.subarray((i % entries) * 32, (i % entries) * 32 + 32))) hits++; });
  void heap0;
  console.log(`index memory at ${entries} entries`);
  console.log(`  built at open:   ${(index.memoryBytes / entries).toFixed(1)} bytes/entry (typed arrays, ${(index.memoryBytes / MIB).toFixed(1)} MiB), sort ${buildMs.toFixed(0)} ms`);
  console.log(`  grown by set():  ${(incremental.memoryBytes / entries).toFixed(1)} bytes/entry, ${(setMs * 1e6 / entries).toFixed(0)} ns per set`);
  console.log(`  lookup:          ${(getMs * 1e6 / lookups).toFixed(0)} ns per has() (${hits} hits)`);
}

function performanceNow(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function openTime(entries: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-repo-'));
  try {
    const backend = createFsBackend(join(dir, 'repo'));
    const repo = await Repository.create(backend);
    const ids = randomFillSync(new Uint8Array(entries * 32));
    const value = new Uint8Array(16);
    const perTxn = Math.ceil(entries / 8);
    const writeMs = await timed(async () => {
      for (let i = 0; i < entries; i++) {
        await repo.put(ids.subarray(i * 32, i * 32 + 32), value);
        if ((i + 1) % perTxn === 0) await repo.commit();
      }
      await repo.commit();
    });
    await repo.close();
    const measure = async () => {
      let count = 0;
      const ms = await timed(async () => { const r = await Repository.open(backend); count = r.count; await r.close(); });
      return { ms, count };
    };
    const fromDeltas = await measure();
    const ex = await Repository.open(backend, { exclusive: true });
    const compactMs = await timed(() => ex.compact());
    await ex.close();
    const fromFull = await measure();
    console.log(`open with ${entries} indexed entries (fs; written in ${(writeMs / 1000).toFixed(1)} s as 8 transactions)`);
    console.log(`  from 8 index deltas:    ${fromDeltas.ms.toFixed(0)} ms (${fromDeltas.count} ids)`);
    console.log(`  from one full index:    ${fromFull.ms.toFixed(0)} ms (${fromFull.count} ids; compaction took ${compactMs.toFixed(0)} ms)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default async function run(args: string[] = []): Promise<void> {
  const opt = (name: string, dflt: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const mib = opt('mib', 256);
  const entries = opt('entries', 1_000_000);
  await digests();
  console.log(`log put throughput, 2 MiB values, 32 MiB segments (raw: the same bytes as 32 MiB puts, 4 at once); ${await runtimeLine()}`);
  await throughput('memory', async () => createMemoryBackend(), mib);
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-repo-'));
  let n = 0;
  try {
    await throughput('fs', async () => createFsBackend(join(dir, `r${n++}`)), mib);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  indexMemory(entries);
  await openTime(entries);
}
