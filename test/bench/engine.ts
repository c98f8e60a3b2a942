/**
 * Engine benchmark: MiB/s of each stage on one thread (CDC, ids, compression, AEAD envelope) beside the raw
 * node:crypto AES-256-OCB rate of the same run, then the whole pipeline (read → chunk → id → compress → encrypt)
 * on 1 GiB of random and of mixed data (text, structured binary, random) with 1 and with 2 workers.
 * `npm run bench -- engine [--mib=1024] [--compression=lz4]` or `node --import tsx test/bench/engine.ts`.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createCodec, createKey, createPipeline, DEFAULT_CHUNKER, type KeyMaterial } from '../../src/engine/index.js';
import { deriveGear } from '../../src/engine/chunker/gear.js';
import { resolveChunkerOptions, type CdcParams } from '../../src/engine/chunker/params.js';
import { scanCandidates } from '../../src/engine/chunker/scan.js';
import { createIdFunction } from '../../src/engine/ids.js';
import { compressFrame, decompressFrame, loadRawCodecs, parseCompression } from '../../src/engine/compress/index.js';
import { binaryish, randomish, textish } from '../engine/data.js';
import { runtimeLine } from '../helpers/runtime.js';
import { wasmZstd } from '../../src/engine/compress/libs.js';

const MIB = 1024 * 1024;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** Runs fn over `data` in `piece`-sized slices for at least `ms`, returns MiB/s. */
function rate(data: Uint8Array, piece: number, fn: (p: Uint8Array) => unknown, ms = 1500): number {
  const start = performance.now();
  let bytes = 0;
  do {
    for (let at = 0; at < data.length; at += piece) {
      const p = data.subarray(at, at + piece);
      fn(p);
      bytes += p.length;
    }
  } while (performance.now() - start < ms);
  return bytes / MIB / ((performance.now() - start) / 1000);
}

function mixedPool(size: number): Uint8Array {
  const third = Math.floor(size / 3);
  const parts = [textish('bench text', third), binaryish('bench binary', third), randomish('bench random', size - 2 * third)];
  // Interleave in 8 MiB runs so every stretch of a stream sees all three kinds.
  const out = new Uint8Array(size);
  let at = 0;
  for (let off = 0; at < size; off += 8 * MIB) for (const p of parts) {
    const run = p.subarray(off, off + 8 * MIB);
    out.set(run.subarray(0, size - at), at);
    at += Math.min(run.length, size - at);
  }
  return out;
}

async function* stream(pool: Uint8Array, total: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += MIB) {
    const at = (sent + Math.floor(sent / pool.length) * 4096) % (pool.length - MIB);
    yield pool.subarray(at, at + Math.min(MIB, total - sent));
  }
}

/** Wall-clock MiB/s, and the CPU the whole process used (all threads): cores busy on average and ms per MiB. */
async function pipelineRate(key: KeyMaterial, pool: Uint8Array, total: number, workers: number, compression: string): Promise<{ mibs: number; cores: number; cpuMsPerMib: number }> {
  const pipeline = await createPipeline(key, { workers, compression });
  try {
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    let bytes = 0;
    for await (const c of pipeline.run(stream(pool, total))) bytes += c.size;
    if (bytes !== total) throw new Error(`pipeline returned ${bytes} of ${total} bytes`);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return { mibs: total / MIB / seconds, cores: cpuSeconds / seconds, cpuMsPerMib: (cpuSeconds * 1000) / (total / MIB) };
  } finally {
    await pipeline.close();
  }
}

/**
 * `--mib=N` pipeline input per run (default 1024), `--compression=SPEC` for the pipeline (default lz4),
 * `--pipeline-only` to skip the single-stage figures.
 */
export default async function run(args: string[] = []): Promise<void> {
  const opt = (name: string, dflt: string): string => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
  const total = Number(opt('mib', '1024')) * MIB;
  const compression = opt('compression', 'lz4');
  const row = (name: string, mibs: number): void => console.log(`${name.padEnd(44)} ${mibs.toFixed(0).padStart(6)} MiB/s`);
  console.log(`load average before: ${load()}`);
  const { key } = await createKey('repokey-aes-ocb', 'bench', { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } });
  const mixed = mixedPool(96 * MIB);
  const random = randomish('bench random pool', 64 * MIB);
  const sample = mixed.subarray(0, 48 * MIB);

  if (!args.includes('--pipeline-only')) await stages(key, mixed, random, sample, row);
  await pipelines(key, mixed, random, total, compression, row);
}

type Row = (name: string, mibs: number) => void;

/** Raw node:crypto AES-256-OCB over one piece with a fresh counter nonce: the yardstick printed beside our figures. */
function makeOcb(): (p: Uint8Array) => void {
  const aesKey = randomBytes(32);
  let n = 0;
  return (p) => {
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(n++, 8);
    const c = createCipheriv('aes-256-ocb', aesKey, iv, { authTagLength: 16 });
    c.update(p);
    c.final();
    c.getAuthTag();
  };
}

async function stages(key: KeyMaterial, mixed: Uint8Array, random: Uint8Array, sample: Uint8Array, row: Row): Promise<void> {
  const ocb = makeOcb();
  console.log(`-- one thread, 2 MiB pieces; ${await runtimeLine()}`);
  row('raw node:crypto aes-256-ocb (random)', rate(random, 2 * MIB, ocb));

  const params = resolveChunkerOptions(DEFAULT_CHUNKER) as CdcParams;
  const gear = deriveGear(key.chunkerSeed);
  const empty = new Uint8Array(0);
  row('CDC scan (random)', rate(random, 4 * MIB, (p) => scanCandidates(gear, params.maskS, params.maskL, empty, p)));
  row('CDC scan (mixed)', rate(sample, 4 * MIB, (p) => scanCandidates(gear, params.maskS, params.maskL, empty, p)));
  const hmac = await createIdFunction('hmac-sha256', key.macKey);
  const blake = await createIdFunction('blake3', key.macKey);
  row('id hmac-sha256', rate(random, 2 * MIB, hmac));
  row('id keyed blake3', rate(random, 2 * MIB, blake));

  const codecs = await loadRawCodecs();
  for (const spec of ['lz4', 'zstd,1', 'zstd,3', 'zlib,6', 'auto,lz4', 'auto,zstd,3']) {
    const s = parseCompression(spec);
    row(`compress ${spec} (mixed)`, rate(sample, 2 * MIB, (p) => compressFrame(codecs, s, p), 1000));
    if (spec.startsWith('auto')) row(`compress ${spec} (random)`, rate(random, 2 * MIB, (p) => compressFrame(codecs, s, p), 1000));
  }
  for (const spec of ['lz4', 'zstd,3', 'zlib,6']) {
    const frames: Uint8Array[] = [];
    for (let at = 0; at < 16 * MIB; at += 2 * MIB) {
      const f = compressFrame(codecs, parseCompression(spec), sample.subarray(at, at + 2 * MIB));
      frames.push(new Uint8Array(Buffer.concat([f.header, f.body])));
    }
    let i = 0;
    row(`decompress ${spec} (mixed)`, rate(sample.subarray(0, 16 * MIB), 2 * MIB, () => decompressFrame(codecs, frames[i++ % frames.length]), 1000));
  }
  console.log(`  (zstd implementation: ${codecs.zstdImplementation})`);
  if (codecs.zstdImplementation !== '@bokuweb/zstd-wasm') {
    // The same rows with the WebAssembly build, so one run compares the two on this Node.
    const wasm = await wasmZstd();
    const wasmCodecs = { ...codecs, zstdCompress: wasm.compress, zstdDecompress: wasm.decompress, zstdImplementation: wasm.implementation };
    const s = parseCompression('zstd,3');
    row('compress zstd,3 (mixed), WebAssembly', rate(sample, 2 * MIB, (p) => compressFrame(wasmCodecs, s, p), 1000));
    const frames: Uint8Array[] = [];
    for (let at = 0; at < 16 * MIB; at += 2 * MIB) {
      const f = compressFrame(wasmCodecs, s, sample.subarray(at, at + 2 * MIB));
      frames.push(new Uint8Array(Buffer.concat([f.header, f.body])));
    }
    let i = 0;
    row('decompress zstd,3 (mixed), WebAssembly', rate(sample.subarray(0, 16 * MIB), 2 * MIB, () => decompressFrame(wasmCodecs, frames[i++ % frames.length]), 1000));
  }
  for (const suite of ['aes-256-ocb', 'chacha20-poly1305'] as const) {
    const codec = await createCodec({ ...key, suite, mode: suite === 'aes-256-ocb' ? 'repokey-aes-ocb' : 'repokey-chacha20-poly1305' }, { compression: 'none' });
    const id = new Uint8Array(32);
    row(`seal envelope ${suite} (compression none)`, rate(random, 2 * MIB, (p) => codec.seal(id, p)));
  }
  row('raw node:crypto aes-256-ocb again (random)', rate(random, 2 * MIB, ocb));
}

async function pipelines(key: KeyMaterial, mixed: Uint8Array, random: Uint8Array, total: number, compression: string, row: Row): Promise<void> {
  row('raw node:crypto aes-256-ocb (random), same run', rate(random, 2 * MIB, makeOcb()));

  console.log(`-- pipeline, ${total / MIB} MiB per run, compression ${compression}; load average: ${load()}; ${await runtimeLine()}`);
  const results: Record<string, number> = {};
  for (const [name, pool] of [['random', random], ['mixed', mixed]] as const) {
    for (const workers of [1, 2]) {
      const r = await pipelineRate(key, pool, total, workers, compression);
      results[`${name}${workers}`] = r.mibs;
      console.log(`${`pipeline ${name}, ${workers} worker${workers > 1 ? 's' : ''}`.padEnd(44)} ${r.mibs.toFixed(0).padStart(6)} MiB/s`
        + `   (${r.cores.toFixed(2)} cores busy, ${r.cpuMsPerMib.toFixed(2)} CPU-ms/MiB, load ${load().split(' ')[0]})`);
    }
    console.log(`  2 workers / 1 worker on ${name}: ${(results[`${name}2`] / results[`${name}1`]).toFixed(2)}×`);
  }
  console.log(`load average after: ${load()}`);
  console.log('(CPU-ms/MiB is the whole process, all threads; on an idle 2-core machine MiB/s ≈ 2000 / CPU-ms/MiB at best)');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run(process.argv.slice(2));
