/** A FIFO of stream pieces from which exact-size chunks are cut, each into its own (transferable) ArrayBuffer. */

/** Holds pieces by reference (callers must not mutate a piece after pushing it) and copies out on take(). */
export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #headOffset = 0;
  #length = 0;

  /** Bytes currently held. */
  get length(): number {
    return this.#length;
  }

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.#pieces.push(piece);
    this.#length += piece.length;
  }

  /** Removes the first n bytes (n <= length) and returns them in a new buffer of exactly n bytes. */
  take(n: number): Uint8Array {
    if (n > this.#length) throw new RangeError(`take(${n}) beyond the ${this.#length} queued bytes`);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#pieces[0];
      const avail = head.length - this.#headOffset;
      const want = Math.min(avail, n - filled);
      out.set(head.subarray(this.#headOffset, this.#headOffset + want), filled);
      filled += want;
      if (want === avail) {
        this.#pieces.shift();
        this.#headOffset = 0;
      } else {
        this.#headOffset += want;
      }
    }
    this.#length -= n;
    return out;
  }
}
