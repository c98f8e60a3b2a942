/**
 * Turns one walked file system object into an item: metadata from its stat, the link target of
 * a symlink, and for a regular file its chunks (read, chunked and stored, unless cached).
 */
import { constants } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import type { ChunkWriter } from './chunk-writer.js';
import type { ChunkRef, Item } from './item.js';
import type { Owners } from './owners.js';
import type { ArchiveContext } from './ports.js';
import { InterruptedError } from './errors.js';

const READ_SIZE = 1024 * 1024;
/**
 * Files below this size are chunked, hashed and sealed on this thread: for them the three worker
 * round trips of the pipeline cost more than the work. Same chunker, so the same chunks either way.
 */
const SMALL_FILE = 128 * 1024;
/** Chunks of one file sealed and put concurrently (bounded: each holds up to one max-size chunk). */
const CHUNKS_IN_FLIGHT = 4;

/** The metadata every item has, from an lstat; atime only when asked. */
export function itemFromStat(archivePath: Uint8Array, stat: BigIntStats, owners: Owners, options: { atime?: boolean } = {}): Item {
  const uid = Number(stat.uid);
  const gid = Number(stat.gid);
  const item: Item = {
    path: archivePath, mode: Number(stat.mode), uid, gid,
    mtime: stat.mtimeNs, ctime: stat.ctimeNs,
  };
  // Off by default (as in Borg): reading a file changes its atime, so every run would differ.
  if (options.atime) item.atime = stat.atimeNs;
  const user = owners.userName(uid);
  const group = owners.groupName(gid);
  if (user !== undefined) item.user = user;
  if (group !== undefined) item.group = group;
  if (stat.isCharacterDevice() || stat.isBlockDevice()) item.rdev = Number(stat.rdev);
  if (stat.isFile()) {
    item.size = Number(stat.size);
    if (stat.nlink > 1n) item.hlid = hardLinkId(stat);
    // Fewer allocated blocks than the size needs: the file has holes.
    if (stat.blocks * 512n < stat.size) item.sparse = true;
  }
  return item;
}

/** H(dev, inode): equal for every link of one file within one run, meaningless across machines. */
export function hardLinkId(stat: BigIntStats): Uint8Array {
  return createHash('sha256').update(`${stat.dev}:${stat.ino}`).digest().subarray(0, 16);
}

/** The target of a symlink, as raw bytes. */
export async function readLinkTarget(fsPath: Buffer): Promise<Uint8Array> {
  return readlink(fsPath, { encoding: 'buffer' });
}

/** Fresh buffers per read: the chunker holds on to the pieces it is given. */
async function* readFile(fsPath: Buffer, expected: BigIntStats): AsyncGenerator<Uint8Array> {
  const handle = await open(fsPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const now = await handle.stat({ bigint: true });
    if (now.ino !== expected.ino || now.dev !== expected.dev) {
      throw Object.assign(new Error('file was replaced while being backed up'), { code: 'ECHANGED' });
    }
    // Sized to the file (most files are small): a 1 MiB buffer per small file is mostly garbage.
    let remaining = Number(now.size);
    for (;;) {
      const want = Math.min(READ_SIZE, Math.max(remaining + 1, 4096));
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, null);
      if (bytesRead === 0) return;
      remaining = Math.max(0, remaining - bytesRead);
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Reads, chunks and stores a file's contents; returns its chunk list in order. `onRead` sees each piece's length as it is read. */
export async function storeFile(ctx: ArchiveContext, writer: ChunkWriter, fsPath: Buffer, stat: BigIntStats, signal?: AbortSignal, onRead?: (bytes: number) => void): Promise<ChunkRef[]> {
  const source = readFile(fsPath, stat);
  return storeStream(ctx, writer, onRead ? counted(source, onRead) : source, Number(stat.size) >= SMALL_FILE, signal);
}

/** `source`, telling `onRead` the length of each piece as it passes. */
export async function* counted(source: AsyncIterable<Uint8Array>, onRead: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    onRead(piece.length);
    yield piece;
  }
}

/**
 * Chunks and stores a stream of fresh buffers (a file, standard input); returns its chunk list in
 * order. `large` sends it through the worker pipeline, whose window is the only buffer: memory stays
 * bounded whatever the stream's length. Once `signal` is aborted, reading stops with `InterruptedError`.
 */
export async function storeStream(ctx: ArchiveContext, writer: ChunkWriter, stream: AsyncIterable<Uint8Array>, large: boolean, signal?: AbortSignal): Promise<ChunkRef[]> {
  const refs: Promise<ChunkRef>[] = [];
  const inFlight = new Set<Promise<ChunkRef>>();
  const source = signal ? abortable(stream, signal) : stream;
  if (ctx.codec.storeChunks && large) {
    const list: ChunkRef[] = [];
    // Awaiting each put keeps the pipeline's window as the only buffer (backpressure end to end).
    for await (const c of ctx.codec.storeChunks(source, (id) => writer.known(id))) {
      list.push(c.stored ? await writer.putSealed(c.id, c.size, c.stored) : { id: c.id, size: c.size });
    }
    return list;
  }
  try {
    for await (const chunk of ctx.codec.chunks(source, 'data')) {
      const p = writer.store(chunk);
      refs.push(p);
      inFlight.add(p);
      p.then(() => inFlight.delete(p), () => inFlight.delete(p));
      if (inFlight.size >= CHUNKS_IN_FLIGHT) await Promise.race(inFlight);
    }
  } catch (error) {
    // No put may outlive the failure: the caller may commit next.
    await Promise.allSettled(refs);
    throw error;
  }
  return Promise.all(refs);
}

/**
 * `source` until `signal` is aborted, then `InterruptedError` (the signal's reason is its name). A
 * read still waiting (an idle pipe) is not awaited: the abort ends the wait. A signal aborted before
 * the first read (during the lock, the files cache or the worker pool's start) ends it before any
 * read: an abort event already fired, so a listener added now would never hear it.
 */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  if (signal.aborted) throw new InterruptedError(String(signal.reason));
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    const next = await nextOrAbort(it, signal);
    if (next === 'aborted' || signal.aborted) {
      void it.return?.()?.catch(() => undefined);
      throw new InterruptedError(String(signal.reason));
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * The next piece, or 'aborted' as soon as `signal` is. Each wait listens for the abort only while it
 * lasts: racing every read against one promise that never settles (what this was) kept every piece
 * read reachable from that promise's reactions, all of a file's bytes until it ended.
 */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | 'aborted'> {
  // Aborted while the consumer held the last piece: its abort event fired when nobody listened.
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (result) => { signal.removeEventListener('abort', onAbort); resolve(result); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}
