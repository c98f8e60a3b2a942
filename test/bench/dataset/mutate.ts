/**
 * The benchmark's "day 2": changes about 2 % of the files of a generated tree, deterministically:
 * appends, same-size in-place edits, deletions and new small files, plus an insertion in the middle
 * of each large compressible file and of one random file, and an append to the big log.
 */
import { readdir, readFile, writeFile, appendFile, rm, open, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Prng, randomBytes } from './prng.js';
import { makeVocabulary, prose, source, logLines } from './content.js';

export interface MutationSummary {
  appended: number;
  edited: number;
  deleted: number;
  created: number;
  inserted: number;
  /** Files whose content changed or that are new (what an incremental backup must read). */
  changedFiles: number;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Applies the day-2 changes to the tree at `root` made by generateDataset with the same seed. */
export async function mutateDataset(root: string, options: { seed?: string; fraction?: number } = {}): Promise<MutationSummary> {
  const seed = `${options.seed ?? 'cairn-bench-1'}/day2`;
  const prng = new Prng(seed);
  const vocab = makeVocabulary(new Prng(seed));
  const smallFiles = (await walk(join(root, 'projects')));
  const count = Math.max(4, Math.round(smallFiles.length * (options.fraction ?? 0.02)));
  // A deterministic sample without repetition (partial Fisher-Yates).
  const pool = [...smallFiles];
  for (let i = 0; i < count; i++) {
    const j = i + prng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const chosen = pool.slice(0, count);
  const summary: MutationSummary = { appended: 0, edited: 0, deleted: 0, created: 0, inserted: 0, changedFiles: 0 };
  const quarter = Math.ceil(count / 4);
  for (const [i, path] of chosen.entries()) {
    if (i < quarter) {
      await appendFile(path, prose(prng, vocab, 100 + prng.int(4000)));
      summary.appended++;
    } else if (i < 2 * quarter) {
      const data = await readFile(path);
      const at = prng.int(Math.max(1, data.length - 64));
      const edit = Buffer.from(prose(prng, vocab, Math.min(64, data.length - at)).toUpperCase());
      const handle = await open(path, 'r+');
      await handle.write(edit, 0, edit.length, at);
      await handle.close();
      summary.edited++;
    } else if (i < 3 * quarter) {
      await rm(path);
      summary.deleted++;
    } else {
      const target = `${path.replace(/\.[a-z]+$/, '')}-new-${i}.ts`;
      await writeFile(target, source(prng, vocab, prng.logSize(200, 64 * 1024)));
      summary.created++;
    }
  }
  await mkdir(join(root, 'projects', 'new-project'), { recursive: true });
  for (let i = 0; i < quarter; i++) {
    await writeFile(join(root, 'projects', 'new-project', `notes-${i}.md`), prose(prng, vocab, prng.logSize(200, 16 * 1024)));
    summary.created++;
  }

  // Insertions in the middle of large files shift every later byte: only content-defined chunking keeps the rest.
  for (const path of ['data/records.jsonl', 'docs/book.txt', 'media/clip-2.mp4']) {
    const data = await readFile(join(root, path));
    const middle = Math.floor(data.length / 2) + prng.int(4096);
    const insert = path.endsWith('.mp4') ? randomBytes(seed, path, 4096) : Buffer.from(prose(prng, vocab, 1000 + prng.int(3000)));
    await writeFile(join(root, path), Buffer.concat([data.subarray(0, middle), insert, data.subarray(middle)]));
    summary.inserted++;
  }
  await appendFile(join(root, 'logs/app.log'), logLines(prng, vocab, 256 * 1024, 1.8e12));
  summary.appended++;
  summary.changedFiles = summary.appended + summary.edited + summary.created + summary.inserted;
  return summary;
}
