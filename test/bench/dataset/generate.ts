/**
 * Writes the benchmark's "day 1" tree, a pure function of (seed, size): tens of thousands of small
 * prose, source and JSON files, a few large compressible files (logs, records, a book), incompressible
 * "media" files and an exact duplicate of one large file. At 1 GiB the shares are about 30 % small
 * files (~28,000), 30 % large compressible, 28 % random, 10 % duplicate.
 */
import { mkdir, open, writeFile, copyFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { Prng, randomBytes } from './prng.js';
import { makeVocabulary, prose, source, jsonRecords, logLines } from './content.js';

export interface DatasetOptions {
  /** Total size in bytes (default 1 GiB). */
  bytes?: number;
  seed?: string;
}

export interface DatasetSummary {
  files: number;
  bytes: number;
  smallFiles: number;
}

export const GiB = 1024 ** 3;
const PIECE = 4 * 1024 * 1024;

/** Parses sizes such as `64M`, `1G`, `1500000` (binary units). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size "${text}": use e.g. 64M or 1G`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: GiB }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

/** Generates the day-1 tree under `root` (which must be empty or absent). */
export async function generateDataset(root: string, options: DatasetOptions = {}): Promise<DatasetSummary> {
  const total = options.bytes ?? GiB;
  const seed = options.seed ?? 'cairn-bench-1';
  const prng = new Prng(seed);
  const vocab = makeVocabulary(prng);
  const summary: DatasetSummary = { files: 0, bytes: 0, smallFiles: 0 };
  const put = async (path: string, data: string | Buffer): Promise<void> => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
    summary.files++;
    summary.bytes += Buffer.byteLength(data);
  };

  // Small files: folders of ~25 files, three kinds, log-uniform sizes 200 B .. 64 KiB.
  let small = 0;
  for (let dir = 0; small < total * 0.3; dir++) {
    const folder = join(root, 'projects', `p${Math.floor(dir / 40)}`, `${prng.pick(vocab)}-${dir}`);
    for (let i = 0; i < 25 && small < total * 0.3; i++) {
      const size = prng.logSize(200, 64 * 1024);
      const kind = prng.int(20);
      const base = `${prng.pick(vocab)}-${i}`;
      const [name, text] = kind < 8 ? [`${base}.ts`, source(prng, vocab, size)]
        : kind < 15 ? [`${base}.md`, prose(prng, vocab, size)]
        : [`${base}.json`, jsonRecords(prng, vocab, size)];
      await put(join(folder, name), text);
      small += Buffer.byteLength(text);
      summary.smallFiles++;
    }
  }

  // Large compressible files, written in pieces so memory stays small.
  const large: Array<[string, (size: number) => string]> = [
    ['logs/app.log', (size) => logLines(prng, vocab, size)],
    ['data/records.jsonl', (size) => jsonRecords(prng, vocab, size).replace(/,\n/g, '\n')],
    ['docs/book.txt', (size) => prose(prng, vocab, size)],
  ];
  const largeSizes: number[] = [];
  for (const [path, make] of large) {
    largeSizes.push(await writePieces(join(root, path), total * 0.1, make));
    summary.files++;
  }
  summary.bytes += largeSizes.reduce((a, b) => a + b, 0);

  // Incompressible files of unequal sizes.
  const shares = [0.12, 0.08, 0.05, 0.03];
  for (const [i, share] of shares.entries()) {
    const name = `media/clip-${i}.mp4`;
    const path = join(root, name);
    summary.bytes += await writePieces(path, total * share, (size) => randomBytes(seed, `${name}/${size}/${prng.next()}`, size));
    summary.files++;
  }

  // An exact duplicate of a large file (dedup must store it once).
  await mkdir(join(root, 'backup-copy'), { recursive: true });
  await copyFile(join(root, 'logs/app.log'), join(root, 'backup-copy', 'app.log'));
  summary.files++;
  summary.bytes += largeSizes[0]!;
  return summary;
}

/** Writes about `size` bytes made by `make(pieceSize)` and returns the bytes written. */
export async function writePieces(path: string, size: number, make: (size: number) => string | Buffer): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  let written = 0;
  try {
    while (written < size) {
      const piece = make(Math.min(PIECE, Math.ceil(size - written)));
      const buffer = typeof piece === 'string' ? Buffer.from(piece) : piece;
      await file.write(buffer);
      written += buffer.length;
    }
  } finally {
    await file.close();
  }
  return written;
}
