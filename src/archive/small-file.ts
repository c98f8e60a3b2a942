/**
 * Stores a small regular file through the codec's worker pipeline as a `FileSource`: a worker reads,
 * ids and seals it in one task, so this thread only walks and puts. Same chunker and ids as `storeFile`, so the output does not depend on the path.
 */
import type { BigIntStats } from 'node:fs';
import { FileSource } from '../engine/index.js';
import type { ChunkWriter } from './chunk-writer.js';
import type { ChunkRef } from './item.js';
import type { ArchiveContext } from './ports.js';

/** Files below this size take this path (larger files stream through `storeFile`). */
export const SMALL_FILE = 128 * 1024;

/** True when `storeSmallFile` applies: a codec with worker pipeline and a file below SMALL_FILE. */
export function isSmallFile(ctx: ArchiveContext, stat: BigIntStats): boolean {
  return ctx.codec.storeChunks !== undefined && stat.size < BigInt(SMALL_FILE);
}

/** Reads, chunks and stores a small file on the worker pipeline; returns its chunk list. */
export async function storeSmallFile(ctx: ArchiveContext, writer: ChunkWriter, fsPath: Buffer, stat: BigIntStats): Promise<ChunkRef[]> {
  const list: ChunkRef[] = [];
  const store = ctx.codec.storeChunks;
  if (!store) throw new TypeError('storeSmallFile needs a codec with storeChunks');
  for await (const c of store(new FileSource(fsPath, stat), (id) => writer.known(id))) {
    list.push(c.stored ? await writer.putSealed(c.id, c.size, c.stored) : { id: c.id, size: c.size });
  }
  return list;
}
