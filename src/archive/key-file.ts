/** Writing a local key file: atomically (temp name, fsync, rename, folder fsync), 0600 in a 0700 folder. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `blob` to `path`; with `keepPrevious` the file it replaces is first kept as `<path>.prev`. */
export async function writeKeyFile(path: string, blob: Uint8Array, options: { keepPrevious?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  if (options.keepPrevious) {
    const previous = await readFile(path).catch(() => undefined);
    if (previous) await writeKeyFile(`${path}.prev`, previous);
  }
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(blob);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
