/**
 * The item stream: items encoded back to back, cut into content-defined chunks (smaller than
 * file chunks) and deduplicated, so an unchanged part of a tree costs no new item chunks.
 */
import type { ChunkWriter } from './chunk-writer.js';
import { createItemDecoder, encodeItem, itemFromWire, type Item } from './item.js';
import type { ArchiveContext } from './ports.js';
import { ArchiveCorruptError } from './errors.js';
import { fetchChunks } from './chunk-fetch.js';
import { MsgpackSplitter } from '../repository/index.js';

/** Bytes buffered before chunking; chunks ending before the last cut are final. */
const BATCH = 4 * 1024 * 1024;

/** Appends items and produces the ordered chunk ids of the stream. */
export class ItemStreamWriter {
  readonly #ctx: ArchiveContext;
  readonly #chunks: ChunkWriter;
  readonly #ids: Uint8Array[] = [];
  #parts: Uint8Array[] = [];
  #buffered = 0;
  #count = 0;

  constructor(ctx: ArchiveContext, chunks: ChunkWriter) {
    this.#ctx = ctx;
    this.#chunks = chunks;
  }

  /** Number of items added. */
  get count(): number {
    return this.#count;
  }

  async add(item: Item): Promise<void> {
    const bytes = encodeItem(item);
    this.#parts.push(bytes);
    this.#buffered += bytes.length;
    this.#count += 1;
    if (this.#buffered >= BATCH) await this.#cut(false);
  }

  /**
   * Chunks the buffer. All chunks but the last are final (a content-defined cut does not depend on
   * what follows it); the last stays buffered unless `final`.
   */
  async #cut(final: boolean): Promise<void> {
    const pieces: Uint8Array[] = [];
    for await (const chunk of this.#ctx.codec.chunks(this.#parts, 'items')) pieces.push(chunk);
    const last = final ? undefined : pieces.pop();
    for (const piece of pieces) this.#ids.push((await this.#chunks.store(piece)).id);
    this.#parts = last ? [last] : [];
    this.#buffered = last?.length ?? 0;
  }

  /** The ids of a stream holding every item so far, for a checkpoint; the writer continues. */
  async snapshot(): Promise<Uint8Array[]> {
    const tail: Uint8Array[] = [];
    for await (const chunk of this.#ctx.codec.chunks(this.#parts, 'items')) tail.push((await this.#chunks.store(chunk)).id);
    return [...this.#ids, ...tail];
  }

  /** Stores the rest and returns every id of the stream, in order. */
  async finish(): Promise<Uint8Array[]> {
    await this.#cut(true);
    return [...this.#ids];
  }
}

/** Item-stream chunks read ahead of the decoder: batches of 4, 4 at once, at most 16 chunks held. */
const ITEM_LIMITS = { requests: 4, budget: 8 * 1024 * 1024, batchChunks: 4 };

/**
 * Yields the items of a stream in order; its chunks are read ahead through `fetchChunks`. `onChunk` sees each
 * verified chunk of the stream before its items are decoded (`transfer` copies them from there, reading each once).
 */
export async function* readItems(ctx: ArchiveContext, ids: readonly Uint8Array[], options: { onChunk?(id: Uint8Array, plaintext: Uint8Array): Promise<void> } = {}): AsyncGenerator<Item> {
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for await (const { ref, data, error } of fetchChunks(ctx, ids.map((id) => ({ id })), ITEM_LIMITS)) {
      if (data === undefined) throw error;
      await options.onChunk?.(ref.id, data);
      yield data;
    }
  }
  try {
    // Each item is decoded once all of it is there: the decoder never allocates for contents a header only promises.
    const splitter = new MsgpackSplitter();
    const decoder = createItemDecoder();
    for await (const chunk of bytes()) for (const value of splitter.push(chunk)) yield itemFromWire(decoder.decode(value));
    splitter.finish();
  } catch (error) {
    if (error instanceof TypeError || (error as Error)?.name === 'DecodeError' || error instanceof RangeError) {
      throw new ArchiveCorruptError('item stream does not decode', { cause: error });
    }
    throw error;
  }
}
