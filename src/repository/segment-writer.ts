/**
 * A session's segment writer: entries are appended to an in-memory segment; a full segment is
 * uploaded whole in the background while the next one fills. At most `maxPending` sealed segments
 * wait for upload, so memory stays under (maxPending + 1) × segmentSize: `backpressure()` waits
 * when uploads lag. The segment holding a COMMIT entry is uploaded only after every earlier segment
 * of the transaction is stored, so a COMMIT entry in the store proves the whole transaction is.
 */
import type { Backend } from '../store/backend.js';
import { segmentKey, segmentName } from './layout.js';

export interface SegmentWriterOptions {
  segmentSize: number;
  /** Sealed segments allowed to wait for upload at once (the memory bound). Default 4. */
  maxPending?: number;
}

export class SegmentWriter {
  readonly session: string;
  readonly #backend: Backend;
  readonly #segmentSize: number;
  readonly #maxPending: number;
  #seq = 0;
  #buffer = new Uint8Array(0);
  #length = 0;
  readonly #pending = new Map<string, { bytes: Uint8Array; done: Promise<void> }>();
  #failure: unknown;
  #waiters: (() => void)[] = [];

  constructor(backend: Backend, session: string, options: SegmentWriterOptions) {
    this.#backend = backend;
    this.session = session;
    this.#segmentSize = options.segmentSize;
    this.#maxPending = options.maxPending ?? 4;
  }

  /** Seq of the segment entries are currently appended to. */
  get seq(): number { return this.#seq; }

  /** Bytes in the open segment. */
  get length(): number { return this.#length; }

  /** The first upload failure, if any: the transaction cannot commit. */
  get failure(): unknown { return this.#failure; }

  /**
   * Appends one entry made of `parts` and returns where it landed. Cuts a new segment first when
   * the entry does not fit (an entry larger than segmentSize gets a segment of its own).
   */
  append(parts: Uint8Array[]): { name: string; offset: number; size: number } {
    const size = parts.reduce((n, p) => n + p.length, 0);
    if (this.#length > 0 && this.#length + size > this.#segmentSize) this.#seal();
    this.#reserve(size);
    const offset = this.#length;
    for (const part of parts) { this.#buffer.set(part, this.#length); this.#length += part.length; }
    return { name: segmentName(this.session, this.#seq), offset, size };
  }

  /** Cuts a new segment now unless `size` more bytes fit in the open one. */
  ensureRoom(size: number): void {
    if (this.#length > 0 && this.#length + size > this.#segmentSize) this.#seal();
  }

  /** Resolves once fewer than maxPending segments wait for upload; rejects on an upload failure. */
  async backpressure(): Promise<void> {
    while (this.#pending.size >= this.#maxPending && this.#failure === undefined) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Bytes of an entry still held in memory (open or uploading segment), or undefined. */
  read(name: string, offset: number, size: number): Uint8Array | undefined {
    if (name === segmentName(this.session, this.#seq) && offset + size <= this.#length) return this.#buffer.slice(offset, offset + size);
    const pending = this.#pending.get(name);
    return pending && offset + size <= pending.bytes.length ? pending.bytes.slice(offset, offset + size) : undefined;
  }

  /**
   * Ends a transaction: waits for every earlier segment, then uploads the open segment (which
   * holds the COMMIT entry) and waits for it. Afterwards appends go to a fresh segment.
   */
  async finishTransaction(): Promise<void> {
    await this.#drain();
    if (this.#length > 0) {
      this.#seal();
      await this.#drain();
    }
  }

  /** Waits for every upload to end (success or not); leaves the open segment alone. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#pending.values()].map((p) => p.done));
  }

  /** Throws away the open segment's bytes (after a failed transaction) and forgets the failure. */
  discard(): void {
    if (this.#length > 0) this.#seq++;
    this.#buffer = new Uint8Array(0);
    this.#length = 0;
    this.#failure = undefined;
  }

  async #drain(): Promise<void> {
    await this.settle();
    if (this.#failure !== undefined) throw this.#failure;
  }

  #seal(): void {
    const name = segmentName(this.session, this.#seq);
    // A mostly empty segment (a small commit) is copied out, so a backend that keeps what it is given
    // does not keep a whole segment-sized buffer alive.
    const bytes = this.#length < this.#buffer.length / 2 ? this.#buffer.slice(0, this.#length) : this.#buffer.subarray(0, this.#length);
    this.#seq++;
    this.#buffer = new Uint8Array(0);
    this.#length = 0;
    const done = this.#backend.put(segmentKey(name), bytes).then(
      () => { this.#pending.delete(name); this.#wake(); },
      (err: unknown) => { this.#failure ??= err; this.#pending.delete(name); this.#wake(); },
    );
    this.#pending.set(name, { bytes, done });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #reserve(size: number): void {
    const need = this.#length + size;
    if (need <= this.#buffer.length) return;
    // The whole segment at once: growing by doubling copied up to a segment per segment and left as much
    // garbage. Pages of a fresh zero-filled buffer are only committed once written, so a small open segment
    // still costs only what it holds.
    const next = new Uint8Array(Math.max(this.#segmentSize, need));
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }
}
