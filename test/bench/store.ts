/**
 * Store benchmark: fs backend put/get of 32 MiB objects beside plain fs.writeFile/readFile of
 * the same bytes, interleaved in one run so both see the same disk and cache state. The backend
 * pays for fsync (file and folder) on put; to show what that costs the plain write is measured
 * both without and with an fsync. Reads are from the page cache in both cases.
 */
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { createFsBackend } from '../../backends/fs/index.js';
import { runtimeLine } from '../helpers/runtime.js';

const MIB = 1024 * 1024;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** `--rounds=N` (default 5), `--mib=N` object size (default 32). */
export default async function run(args: string[] = []): Promise<void> {
  const opt = (name: string, dflt: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const rounds = opt('rounds', 5);
  const size = opt('mib', 32) * MIB;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-store-'));
  try {
    const b = createFsBackend(join(dir, 'store'));
    await b.create();
    const bytes = randomFillSync(new Uint8Array(size));
    const t = { put: [] as number[], get: [] as number[], write: [] as number[], writeSync: [] as number[], read: [] as number[] };
    for (let i = 0; i < rounds + 1; i++) {
      const key = `data/00/${i}`;
      const plain = join(dir, `plain-${i}`);
      const put = await timed(() => b.put(key, bytes));
      const write = await timed(() => writeFile(plain, bytes));
      const writeSync = await timed(async () => {
        const h = await open(`${plain}-sync`, 'w');
        try { await h.writeFile(bytes); await h.sync(); } finally { await h.close(); }
      });
      const get = await timed(() => b.get(key));
      const read = await timed(() => readFile(plain));
      if (i === 0) continue; // warm-up round
      t.put.push(put); t.write.push(write); t.writeSync.push(writeSync); t.get.push(get); t.read.push(read);
      await Promise.all([b.delete(key), rm(plain), rm(`${plain}-sync`)]);
    }
    const rate = (ms: number) => (size / MIB / (ms / 1000)).toFixed(0);
    const [put, write, writeSync, get, read] = [t.put, t.write, t.writeSync, t.get, t.read].map(median) as number[];
    console.log(`object ${size / MIB} MiB, ${rounds} rounds (median), temp dir ${tmpdir()}; ${await runtimeLine()}`);
    console.log(`put  fs backend ${rate(put)} MiB/s | fs.writeFile ${rate(write)} MiB/s (ratio ${(write / put).toFixed(2)}) | writeFile+fsync ${rate(writeSync)} MiB/s (ratio ${(writeSync / put).toFixed(2)})`);
    console.log(`get  fs backend ${rate(get)} MiB/s | fs.readFile  ${rate(read)} MiB/s (ratio ${(read / get).toFixed(2)})`);
    console.log('ratio = backend throughput / plain throughput (1.00 = as fast as plain fs)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
