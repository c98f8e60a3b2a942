/**
 * Atomic writes of the files cairn keeps on this machine (key files, the files cache, the security
 * state): a temporary name in the same folder, fsync, rename over the old file, fsync the folder,
 * so a crash leaves the old file or the new one, never a mix. Private: 0600 in a 0700 folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces `path` with `bytes` atomically (see above); the temporary file is removed on failure. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * The bytes of `path`, or undefined when it does not exist or holds more than `maxBytes` (checked
 * before anything is allocated): a local file is untrusted input too.
 */
export async function readFileBounded(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return undefined;
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(bytes, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // Shorter than its size said (being replaced): the caller's check rejects a cut copy.
    return got === size ? bytes : bytes.subarray(0, got);
  } finally {
    await handle.close();
  }
}
