/**
 * Promise forms of the SFTP requests the backend uses, plus pipelined whole-range reads and
 * writes: many requests of the server's maximum size in flight at once, because one request per
 * round trip would cap throughput at (packet size / latency).
 */
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import pLimit from 'p-limit';

/** Requests in flight per transfer; OpenSSH's sftp-server answers them in order. */
const IN_FLIGHT = 16;
/** Bytes per READ/WRITE request: below OpenSSH's 256 KiB limit and ssh2's packet limit. */
const PIECE = 64 * 1024;

type Cb<T> = (err: Error | null | undefined, value: T) => void;

/** Calls the callback-style `fn` and resolves with its result. */
export function call<T = void>(fn: (cb: Cb<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(err) : resolve(value)));
    } catch (err) {
      reject(err); // ssh2 throws synchronously on a closed channel
    }
  });
}

export const open = (s: SFTPWrapper, path: string, flags: 'r' | 'wx', mode = 0o600) =>
  call<Buffer>((cb) => s.open(path, flags, { mode }, cb as never));
export const close = (s: SFTPWrapper, handle: Buffer) => call((cb) => s.close(handle, cb as never));
export const fstat = (s: SFTPWrapper, handle: Buffer) => call<Attributes>((cb) => s.fstat(handle, cb as never));
export const stat = (s: SFTPWrapper, path: string) => call<Attributes>((cb) => s.stat(path, cb as never));
export const unlink = (s: SFTPWrapper, path: string) => call((cb) => s.unlink(path, cb as never));
export const mkdir = (s: SFTPWrapper, path: string) => call((cb) => s.mkdir(path, { mode: 0o700 }, cb as never));
export const rmdir = (s: SFTPWrapper, path: string) => call((cb) => s.rmdir(path, cb as never));
export const readdir = (s: SFTPWrapper, path: string) => call<FileEntry[]>((cb) => s.readdir(path, cb as never));
/** Plain SSH_FXP_RENAME: protocol v3 says it fails when `to` exists; some servers replace `to` instead. */
export const rename = (s: SFTPWrapper, from: string, to: string) => call((cb) => s.rename(from, to, cb as never));
/** Whether the server advertised extension `name` in its VERSION packet (ssh2 keeps the list). */
export const advertises = (s: SFTPWrapper, name: string): boolean =>
  Object.hasOwn((s as unknown as { _extensions?: Record<string, string> })._extensions ?? {}, name);
/** `posix-rename@openssh.com`: replaces `to` atomically (plain SFTP rename refuses an existing target). */
export const posixRename = (s: SFTPWrapper, from: string, to: string) => call((cb) => s.ext_openssh_rename(from, to, cb as never));
/** `hardlink@openssh.com`: link(2) on the server, which fails when `to` exists. */
export const hardlink = (s: SFTPWrapper, from: string, to: string) => call((cb) => s.ext_openssh_hardlink(from, to, cb as never));
/** `fsync@openssh.com`: the data is on the server's disk when this resolves. */
export const fsync = (s: SFTPWrapper, handle: Buffer) => call((cb) => s.ext_openssh_fsync(handle, cb as never));

async function pipeline(total: number, work: (offset: number, length: number) => Promise<void>): Promise<void> {
  const offsets = Array.from({ length: Math.ceil(total / PIECE) }, (_, i) => i * PIECE);
  await pLimit(IN_FLIGHT).map(offsets, (offset) => work(offset, Math.min(PIECE, total - offset)));
}

/** Writes all of `bytes` at offset 0 of the open file. */
export async function writeAll(s: SFTPWrapper, handle: Buffer, bytes: Uint8Array): Promise<void> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  await pipeline(buf.length, (offset, length) => call((cb) => s.write(handle, buf, offset, length, offset, cb as never)));
}

/**
 * Reads `length` bytes from `position` of the open file into a new buffer; stops early at the
 * end of the file (the result is then shorter). A short answer mid-file is continued.
 * `onProgress` is told the bytes of each answer as it arrives.
 */
export async function readRange(s: SFTPWrapper, handle: Buffer, position: number, length: number, onProgress?: (bytes: number) => void): Promise<Uint8Array> {
  const out = Buffer.alloc(length);
  let end = length;
  await pipeline(length, async (offset, size) => {
    let done = 0;
    while (done < size && offset + done < end) {
      const n = await call<number>((cb) => s.read(handle, out, offset + done, size - done, position + offset + done, cb as never));
      if (!n) { end = Math.min(end, offset + done); break; }
      done += n;
      onProgress?.(n);
    }
  });
  // A plain Uint8Array, as the contract's get returns: `slice` of a Buffer is a view, and a repository
  // that sliced ids out of a segment kept the whole segment alive (docs/backend-contract.md).
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  return end === length ? bytes : bytes.subarray(0, end);
}
