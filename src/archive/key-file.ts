/** Writing a local key file: atomically (temp name, fsync, rename, folder fsync), 0600 in a 0700 folder. */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './local-file.js';

/** Writes `blob` to `path`; with `keepPrevious` the file it replaces is first kept as `<path>.prev`. */
export async function writeKeyFile(path: string, blob: Uint8Array, options: { keepPrevious?: boolean } = {}): Promise<void> {
  if (options.keepPrevious) {
    const previous = await readFile(path).catch(() => undefined);
    if (previous) await writeKeyFile(`${path}.prev`, previous);
  }
  await writeFileAtomic(path, blob);
}
