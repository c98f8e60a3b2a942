/**
 * Writing a regular file's contents during `extract`. Small files, whose bytes are all fetched and
 * authenticated before the file is opened, are written in one go on this thread; larger ones are
 * streamed into a temporary name in the same folder and renamed over the final name only when
 * complete, so a failure (a damaged chunk, a full disk) never leaves a truncated file behind.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { releaseBytes } from '../engine/index.js';
import type { Item } from './item.js';
import type { Identity } from './restore-fs.js';
import { applyThroughFd, applyThroughHandle, type MetadataContext } from './restore-meta.js';

/** Opened so that nothing existing is reused and no symlink is followed. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const BLOCK = 64 * 1024;
const ZERO = new Uint8Array(BLOCK);
/** Temporary names start with this (then 12 random hex digits); documented in ADR 0043. */
export const TEMP_PREFIX = '.cairn-tmp-';

export interface Written {
  size: number;
  /** The new file's identity, when asked for (the first of a hard-link group). */
  identity?: Identity;
}

/**
 * Creates a small regular file (no xattrs, not sparse) with its contents, owner, mode and times in
 * one go on this thread, through its descriptor: six file system calls without six thread-pool
 * round trips, which cost more than the calls themselves for small files. Refuses to follow a
 * symlink or to replace anything (`EEXIST`); a failed write removes the file again.
 */
export function writeSmallFile(dest: Buffer, item: Item, chunks: readonly Uint8Array[], m: MetadataContext, identify: boolean): Written {
  const fd = openSync(dest, CREATE, 0o600);
  let size = 0;
  let identity: Identity | undefined;
  try {
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.length) at += writeSync(fd, chunk, at, chunk.length - at, size + at);
      size += chunk.length;
    }
    applyThroughFd(fd, item, m);
    if (identify) {
      const st = fstatSync(fd, { bigint: true });
      identity = { dev: st.dev, ino: st.ino };
    }
  } catch (error) {
    closeSync(fd);
    unlinkSync(dest);
    throw error;
  }
  closeSync(fd);
  return { size, identity };
}

function isZero(bytes: Uint8Array): boolean {
  return Buffer.compare(bytes, ZERO.subarray(0, bytes.length)) === 0;
}

/**
 * Streams a file's chunks, in order, into a new temporary name beside `dest` (zero blocks of a
 * sparse item become holes), sets its metadata through the descriptor, then renames it to `dest`
 * (replacing a non-folder there, never following it). `consumed` is called once for every chunk
 * promise after it settled, also those left unread after a failure; `wrote` after each chunk is
 * written (its length). On failure the temporary file is removed and the error rethrown.
 */
export async function writeLargeFile(dest: Buffer, item: Item, data: readonly Promise<Uint8Array>[], consumed: (chunk: Promise<Uint8Array>) => void, m: MetadataContext, identify: boolean, wrote?: (bytes: number) => void): Promise<Written> {
  const temp = Buffer.concat([dest.subarray(0, dest.lastIndexOf(0x2f)), Buffer.from(`/${TEMP_PREFIX}${randomBytes(6).toString('hex')}`)]);
  let next = 0;
  const take = async (): Promise<Uint8Array> => {
    const chunk = data[next++];
    try {
      return await chunk;
    } finally {
      consumed(chunk);
    }
  };
  let handle;
  try {
    handle = await open(temp, CREATE, 0o600);
  } catch (error) {
    while (next < data.length) await take().catch(() => undefined);
    throw error;
  }
  let offset = 0;
  let identity: Identity | undefined;
  try {
    try {
      while (next < data.length) {
        const chunk = await take();
        if (item.sparse) {
          for (let at = 0; at < chunk.length; at += BLOCK) {
            const block = chunk.subarray(at, at + BLOCK);
            if (!isZero(block)) await handle.write(block, 0, block.length, offset + at);
          }
        } else {
          let at = 0;
          while (at < chunk.length) at += (await handle.write(chunk, at, chunk.length - at, offset + at)).bytesWritten;
        }
        offset += chunk.length;
        wrote?.(chunk.length);
        // Fetched for this file alone (chunk-fetch.ts) and written: its memory goes back now, not at the next GC.
        releaseBytes(chunk);
      }
      if (item.sparse) await handle.truncate(offset);
      await applyThroughHandle(handle, temp, item, m);
      if (identify) {
        const st = await handle.stat({ bigint: true });
        identity = { dev: st.dev, ino: st.ino };
      }
    } finally {
      await handle.close();
    }
    await rename(temp, dest);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    while (next < data.length) await take().catch(() => undefined);
    throw error;
  }
  return { size: offset, identity };
}
