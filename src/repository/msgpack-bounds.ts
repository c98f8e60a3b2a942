/**
 * Bounded msgpack decoding of untrusted bytes. @msgpack/msgpack allocates an array of the declared length as
 * soon as it reads an array header, before the elements arrive: 200 bytes of nested `array32` headers cost
 * 320 MiB, a few KiB exhaust the heap. Here a linear, constant-memory scan first checks that every value the
 * headers declare is present; only then is the value decoded, so what the decoder allocates is bounded by the
 * input's size.
 */
import { DecodeError, Decoder } from '@msgpack/msgpack';

const plain = new Decoder();

/** What `header()` found: header size, payload size and number of child values (scratch, to allocate nothing per value). */
let head = 0;
let payload = 0;
let children = 0;

/** Big-endian unsigned length of `n` bytes after the type byte at `at`, or -1 when cut short. */
function length(b: Uint8Array, at: number, n: number): number {
  if (b.length - at < 1 + n) return -1;
  if (n === 1) return b[at + 1];
  if (n === 2) return (b[at + 1] << 8) | b[at + 2];
  return b[at + 1] * 0x1000000 + ((b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]);
}

/** Reads the header of the value whose first byte is at `at` into head/payload/children; false when cut short. */
function header(b: Uint8Array, at: number): boolean {
  const t = b[at];
  head = 1; payload = 0; children = 0;
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return true;
  if (t <= 0x8f) { children = 2 * (t & 0x0f); return true; }
  if (t <= 0x9f) { children = t & 0x0f; return true; }
  if (t <= 0xbf) { payload = t & 0x1f; return true; }
  // [bytes of the length field, extra header bytes (ext type), what the length counts: 0 bytes, 1 array items, 2 map entries]
  let n: number;
  let extra = 0;
  let kind = 0;
  switch (t) {
    case 0xc4: case 0xd9: n = 1; break;
    case 0xc5: case 0xda: n = 2; break;
    case 0xc6: case 0xdb: n = 4; break;
    case 0xc7: n = 1; extra = 1; break;
    case 0xc8: n = 2; extra = 1; break;
    case 0xc9: n = 4; extra = 1; break;
    case 0xdc: n = 2; kind = 1; break;
    case 0xdd: n = 4; kind = 1; break;
    case 0xde: n = 2; kind = 2; break;
    case 0xdf: n = 4; kind = 2; break;
    case 0xcc: case 0xd0: head = 2; return true;
    case 0xcd: case 0xd1: head = 3; return true;
    case 0xca: case 0xce: case 0xd2: head = 5; return true;
    case 0xcb: case 0xcf: case 0xd3: head = 9; return true;
    case 0xd4: head = 3; return true;
    case 0xd5: head = 4; return true;
    case 0xd6: head = 6; return true;
    case 0xd7: head = 10; return true;
    case 0xd8: head = 18; return true;
    default: throw new DecodeError(`invalid msgpack byte 0x${t.toString(16)}`);
  }
  const v = length(b, at, n);
  if (v < 0) return false;
  head = 1 + n + extra;
  if (kind === 0) payload = v;
  else children = kind === 1 ? v : 2 * v;
  return true;
}

/**
 * Splits a byte stream (fed in pieces) into complete top-level msgpack values, checking that each value's
 * declared contents are all there; linear in the bytes fed, whatever their headers claim.
 */
export class MsgpackSplitter {
  #buf = new Uint8Array(0);
  #end = 0;
  #start = 0;
  #at = 0;
  /** Values still to read to complete the current top-level value (0: at a boundary). */
  #pending = 0;

  /** Appends `bytes` and returns the top-level values completed by them (views of bytes never overwritten). */
  push(bytes: Uint8Array): Uint8Array[] {
    if (this.#end + bytes.length > this.#buf.length) {
      // A new buffer, never a shift in place: decoded `bin` values are views of the bytes they came from.
      const kept = this.#end - this.#start;
      const grown = new Uint8Array(Math.max(kept + bytes.length, kept * 2, 4096));
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
      this.#at -= this.#start;
      this.#end = kept;
      this.#start = 0;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
    const view = this.#buf.subarray(0, this.#end);
    const end = this.#end;
    const out: Uint8Array[] = [];
    let { start, at, pending } = { start: this.#start, at: this.#at, pending: this.#pending };
    for (;;) {
      if (pending === 0) {
        if (at >= end) break;
        start = at;
        pending = 1;
      }
      if (at >= end || !header(view, at) || at + head + payload > end) break;
      at += head + payload;
      pending += children - 1;
      if (pending === 0) out.push(view.subarray(start, at));
    }
    this.#start = pending === 0 ? at : start;
    this.#at = at;
    this.#pending = pending;
    return out;
  }

  /** Throws DecodeError when the stream ended inside a value. */
  finish(): void {
    if (this.#pending > 0 || this.#at < this.#end) throw new DecodeError('msgpack stream ends inside a value');
  }
}

/** Decodes `bytes` holding exactly one msgpack value, after checking it is complete; DecodeError otherwise. */
export function decodeBounded(bytes: Uint8Array, decoder: Decoder = plain): unknown {
  const splitter = new MsgpackSplitter();
  const values = splitter.push(bytes);
  splitter.finish();
  if (values.length !== 1) throw new DecodeError(`expected one msgpack value, found ${values.length}`);
  return decoder.decode(values[0]);
}

/** Decodes every value of a complete stream of back-to-back msgpack values. */
export function decodeAllBounded(bytes: Uint8Array, decoder: Decoder = plain): unknown[] {
  const splitter = new MsgpackSplitter();
  const values = splitter.push(bytes).map((v) => decoder.decode(v));
  splitter.finish();
  return values;
}
