/**
 * Bounded msgpack decoding of untrusted bytes. @msgpack/msgpack allocates an array of the declared length as
 * soon as it reads an array header, before the elements arrive: 200 bytes of nested `array32` headers cost
 * 320 MiB, a few KiB exhaust the heap. Here a linear, constant-memory scan first checks that every value the
 * headers declare is present; only then is the value decoded, so what the decoder allocates is bounded by the
 * input's size.
 */
import { DecodeError, Decoder } from '@msgpack/msgpack';

const plain = new Decoder();

/** Header size, payload size and number of child values of the value whose first byte is at `at`; undefined when cut short. */
function header(b: Uint8Array, at: number): [head: number, payload: number, children: number] | undefined {
  const t = b[at];
  const left = b.length - at;
  const u = (n: number) => (left < 1 + n ? -1 : n === 1 ? b[at + 1] : n === 2 ? (b[at + 1] << 8) | b[at + 2] : ((b[at + 1] << 24) >>> 0) + ((b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]));
  const sized = (n: number, extra: number, kind: 'bytes' | 'array' | 'map'): [number, number, number] | undefined => {
    const v = u(n);
    if (v < 0) return undefined;
    if (kind === 'array') return [1 + n, 0, v];
    if (kind === 'map') return [1 + n, 0, 2 * v];
    return [1 + n + extra, v, 0];
  };
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return [1, 0, 0];
  if (t >= 0x80 && t <= 0x8f) return [1, 0, 2 * (t & 0x0f)];
  if (t >= 0x90 && t <= 0x9f) return [1, 0, t & 0x0f];
  if (t >= 0xa0 && t <= 0xbf) return [1, t & 0x1f, 0];
  switch (t) {
    case 0xc4: return sized(1, 0, 'bytes');
    case 0xc5: return sized(2, 0, 'bytes');
    case 0xc6: return sized(4, 0, 'bytes');
    case 0xc7: return sized(1, 1, 'bytes');
    case 0xc8: return sized(2, 1, 'bytes');
    case 0xc9: return sized(4, 1, 'bytes');
    case 0xca: case 0xce: case 0xd2: return [5, 0, 0];
    case 0xcb: case 0xcf: case 0xd3: return [9, 0, 0];
    case 0xcc: case 0xd0: return [2, 0, 0];
    case 0xcd: case 0xd1: return [3, 0, 0];
    case 0xd4: return [3, 0, 0];
    case 0xd5: return [4, 0, 0];
    case 0xd6: return [6, 0, 0];
    case 0xd7: return [10, 0, 0];
    case 0xd8: return [18, 0, 0];
    case 0xd9: return sized(1, 0, 'bytes');
    case 0xda: return sized(2, 0, 'bytes');
    case 0xdb: return sized(4, 0, 'bytes');
    case 0xdc: return sized(2, 0, 'array');
    case 0xdd: return sized(4, 0, 'array');
    case 0xde: return sized(2, 0, 'map');
    case 0xdf: return sized(4, 0, 'map');
    default: throw new DecodeError(`invalid msgpack byte 0x${t.toString(16)}`);
  }
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

  /** Appends `bytes` and returns the top-level values completed by them (views valid until the next call). */
  push(bytes: Uint8Array): Uint8Array[] {
    if (this.#start > 0 && this.#start >= this.#end / 2) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#at -= this.#start;
      this.#start = 0;
    }
    if (this.#end + bytes.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#end + bytes.length, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
    const view = this.#buf.subarray(0, this.#end);
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.#pending === 0) {
        if (this.#at >= this.#end) break;
        this.#start = this.#at;
        this.#pending = 1;
      }
      const h = header(view, this.#at);
      if (!h || this.#at + h[0] + h[1] > this.#end) break;
      this.#at += h[0] + h[1];
      this.#pending += h[2] - 1;
      if (this.#pending === 0) out.push(view.subarray(this.#start, this.#at));
    }
    if (this.#pending === 0) this.#start = this.#at;
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
