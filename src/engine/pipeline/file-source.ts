/**
 * A regular file given to the pipeline by path and identity (dev, inode). It is an ordinary byte
 * stream (read on the calling thread), but the pipeline recognizes it: a file that fits in one
 * chunk is then read, id'd and sealed by a worker in a single task, so the calling thread does
 * neither the file system calls nor the crypto for the many small files of a typical tree.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** What a file must still be when read: the inode the walk saw, and its size then (a hint). */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
}

/** Error of a file replaced (another inode at the path) between the walk and the read. */
export function changedError(): Error {
  return Object.assign(new Error('file was replaced while being backed up'), { code: 'ECHANGED' });
}

/** A file by path (raw bytes as the kernel names it), opened without following a symlink. */
export class FileSource implements AsyncIterable<Uint8Array> {
  readonly path: Uint8Array;
  readonly identity: FileIdentity;

  constructor(path: Uint8Array, identity: FileIdentity) {
    this.path = path;
    this.identity = identity;
  }

  /** Reads the file here in fresh buffers (the pipeline keeps the pieces); ECHANGED if the inode differs. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const handle = await open(Buffer.from(this.path.buffer, this.path.byteOffset, this.path.byteLength), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const now = await handle.stat({ bigint: true });
      if (now.ino !== this.identity.ino || now.dev !== this.identity.dev) throw changedError();
      let want = Math.min(Number(now.size) + 1, 1024 * 1024);
      for (;;) {
        // One byte more than the size: a short read proves the end without another read call.
        const buf = Buffer.allocUnsafe(Math.max(want, 4096));
        const { bytesRead } = await handle.read(buf, 0, buf.length, null);
        if (bytesRead > 0) yield buf.subarray(0, bytesRead);
        if (bytesRead < buf.length) return;
        want = 1024 * 1024;
      }
    } finally {
      await handle.close();
    }
  }
}
