/**
 * The per-file floor of a small-file backup and restore in this runtime: what the native calls that
 * every small file needs cost on one thread, with nothing else running (no walk, no messages, no
 * repository). It bounds from below what any design on Node can reach; docs/performance.md compares it
 * with restic's whole CPU per file.
 *
 * For each of `--files=N` files of 20–600 bytes (the e2e bench's small-file case, written to a
 * temporary folder): open + fstat + read + close; the engine's chunk id (HMAC-SHA256), seal (zstd,3 and
 * AES-256-OCB) and open (the restore's and check's per-chunk work); and, beside them, the bare
 * node:zlib and node:crypto calls they are built on. Medians of `--rounds=R` rounds, in µs a file.
 * `npm run bench -- floor [--files=20000] [--rounds=3]`.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeZlib from 'node:zlib';
import { createCodec, createKey } from '../../src/engine/index.js';
import { generateSmallFiles } from './e2e.js';

const option = (args: string[], name: string, fallback: number): number => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** µs per call of `fn` over indices 0..n-1. */
function perCall(n: number, fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - start) * 1000) / n;
}

export default async function run(args: string[]): Promise<void> {
  const files = option(args, 'files', 20_000);
  const rounds = option(args, 'rounds', 3);
  const dir = await mkdtemp(join(tmpdir(), 'cairn-floor-'));
  try {
    await generateSmallFiles(dir, files);
    const paths: string[] = [];
    for (const folder of readdirSync(dir).sort()) for (const name of readdirSync(join(dir, folder)).sort()) paths.push(join(dir, folder, name));
    const { key } = await createKey('repokey-aes-ocb', 'bench', { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } });
    const codec = await createCodec(key, { compression: 'zstd,3' });
    const macKey = randomBytes(32);
    const aesKey = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = randomBytes(40);
    // node:zlib has zstd from Node 22.15 on (@types/node 20 lacks it): without it those two lines are left out.
    const zlib = nodeZlib as unknown as Partial<{ zstdCompressSync(d: Uint8Array, o: object): Buffer; zstdDecompressSync(d: Uint8Array): Buffer }> & typeof nodeZlib;
    const zstd = typeof zlib.zstdCompressSync === 'function' && typeof zlib.zstdDecompressSync === 'function'
      ? { compress: zlib.zstdCompressSync, decompress: zlib.zstdDecompressSync } : undefined;
    const level = { [(zlib.constants as Record<string, number>).ZSTD_c_compressionLevel]: 3 };
    const buf = Buffer.allocUnsafe(128 * 1024);
    const data: Buffer[] = new Array(files);
    const ids: Uint8Array[] = new Array(files);
    const sealed: Uint8Array[] = new Array(files);
    const compressed: Buffer[] = new Array(files);

    const steps: [string, (i: number) => void][] = [
      ['open + fstat + read + close', (i) => {
        const fd = openSync(paths[i], 'r');
        fstatSync(fd);
        const n = readSync(fd, buf, 0, buf.length, 0);
        closeSync(fd);
        data[i] = Buffer.from(buf.subarray(0, n));
      }],
      ['engine: chunk id (HMAC-SHA256)', (i) => { ids[i] = codec.id(data[i]); }],
      ['engine: seal (zstd,3 + AES-256-OCB)', (i) => { sealed[i] = codec.seal(ids[i], data[i]); }],
      ['engine: open (restore/check, per chunk)', (i) => { codec.open(ids[i], sealed[i]); }],
      ['  node:crypto createHmac + digest', (i) => { createHmac('sha256', macKey).update(data[i]).digest(); }],
      ...(zstd ? [
        ['  node:zlib zstdCompressSync level 3', (i: number) => { compressed[i] = zstd.compress(data[i], { params: level }); }],
        ['  node:zlib zstdDecompressSync', (i: number) => { zstd.decompress(compressed[i]); }],
      ] as [string, (i: number) => void][] : []),
      ['  node:crypto aes-256-ocb seal', (i) => {
        const c = createCipheriv('aes-256-ocb', aesKey, nonce, { authTagLength: 16 });
        c.setAAD(aad);
        c.update(compressed[i] ?? data[i]);
        c.final();
        c.getAuthTag();
      }],
    ];
    const times = new Map<string, number[]>(steps.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) for (const [name, fn] of steps) times.get(name)!.push(perCall(files, fn));

    const mean = data.reduce((n, d) => n + d.length, 0) / files;
    console.log(`${files} files of ${mean.toFixed(0)} bytes on average, medians of ${rounds} rounds (load ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
    for (const [name] of steps) console.log(`  ${name.padEnd(42)} ${median(times.get(name)!).toFixed(1).padStart(7)} µs a file`);
    const backup = ['open + fstat + read + close', 'engine: chunk id (HMAC-SHA256)', 'engine: seal (zstd,3 + AES-256-OCB)'].reduce((n, s) => n + median(times.get(s)!), 0);
    const restore = median(times.get('engine: open (restore/check, per chunk)')!);
    console.log(`  backup floor (read + id + seal):            ${backup.toFixed(1).padStart(7)} µs a file: ${(backup * 200_000 / 1e6).toFixed(1)} CPU-s for 200 000 files`);
    console.log(`  restore floor (open, without the write):    ${restore.toFixed(1).padStart(7)} µs a file: ${(restore * 200_000 / 1e6).toFixed(1)} CPU-s for 200 000 files`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
