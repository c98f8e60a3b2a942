// Structured mutations of seed bytes as fast-check arbitraries: bit flips, byte sets, truncations, insertions,
// length fields overwritten with edge values (zero, huge, negative read as unsigned), splices of two seeds,
// duplicated and repeated ranges; and for msgpack inputs, type confusions, dropped and added keys, duplicated
// array entries, hostile headers (huge counts and lengths) and deep nesting. Each mutation is plain data, so
// fast-check prints and shrinks a failing case.
import fc from 'fast-check';
import { Decoder, Encoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';

/** Largest input a mutation may produce (the repeat mutation can grow a seed up to this). */
export const DEFAULT_MAX_SIZE = 256 * 1024;

const EDGE_U32 = [0, 1, 2, 7, 8, 9, 41, 48, 49, 50, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const EDGE_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xc0, 0xc1, 0xc4, 0xc6, 0xc7, 0xc9, 0xd4, 0xd8, 0xdc, 0xdd, 0xde, 0xdf, 0xff];
/** msgpack headers that promise far more than follows: 4 GiB strings, bins, arrays, maps, ext bodies, and a nesting start. */
const HOSTILE_MSGPACK = [
  [0xdb, 0xff, 0xff, 0xff, 0xff], [0xc6, 0xff, 0xff, 0xff, 0xff], [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0xff, 0xff, 0xff, 0xff],
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0xff], [0xd7, 0xff], [0xc7, 0x0c, 0xff], [0xc7, 0x03, 0xff], [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xc1], [0x81, 0xa9, ...Buffer.from('__proto__')], [0xdc, 0xff, 0xff],
];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'remove'; at: number; length: number }
  | { kind: 'u32'; at: number; value: number; littleEndian: boolean }
  | { kind: 'u64'; at: number; high: number; low: number }
  | { kind: 'splice'; other: number; at: number; from: number }
  | { kind: 'duplicate'; at: number; length: number; times: number }
  | { kind: 'repeat'; at: number; length: number; size: number }
  | { kind: 'nest'; at: number; depth: number; opener: number };

const position = fc.nat({ max: 0x7fffffff });

/** One byte-level mutation; positions are taken modulo the current length when applied. */
export function byteMutation(): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: position, value: fc.oneof(fc.constantFrom(...EDGE_BYTES), fc.nat({ max: 255 })) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.constantFrom(...HOSTILE_MSGPACK).map((b) => Uint8Array.from(b))) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('u32' as const), at: position, value: fc.oneof(fc.constantFrom(...EDGE_U32), fc.nat({ max: 0xffffffff })), littleEndian: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('u64' as const), at: position, high: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), low: fc.constantFrom(...EDGE_U32) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), other: position, at: position, from: position }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 512 }), times: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: position, length: fc.integer({ min: 1, max: 64 }), size: fc.integer({ min: 1024, max: 1 << 30 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('nest' as const), at: position, depth: fc.integer({ min: 1, max: 100_000 }), opener: fc.constantFrom(0x91, 0x81, 0xdc) }) },
  );
}

/** Applies one mutation to `input` (never in place); `seeds` are the splice partners; the result is at most `maxSize` bytes. */
export function applyMutation(input: Uint8Array, m: Mutation, seeds: readonly Uint8Array[], maxSize = DEFAULT_MAX_SIZE): Uint8Array {
  const n = input.length;
  const at = (p: number, end = n) => (end <= 0 ? 0 : p % (end + 1));
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(Buffer.concat(parts));
    return out.length > maxSize ? out.slice(0, maxSize) : out;
  };
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return input;
      const out = input.slice();
      out[m.at % n] ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(m.value);
      const out = input.slice();
      out[m.at % n] = m.value;
      return out;
    }
    case 'truncate': return input.slice(0, at(m.at, n - 1));
    case 'insert': { const p = at(m.at); return cat(input.subarray(0, p), m.bytes, input.subarray(p)); }
    case 'remove': { const p = at(m.at); return cat(input.subarray(0, p), input.subarray(p + m.length)); }
    case 'u32':
    case 'u64': {
      const width = m.kind === 'u32' ? 4 : 8;
      if (n < width) return input;
      const out = input.slice();
      const view = new DataView(out.buffer);
      const p = m.at % (n - width + 1);
      if (m.kind === 'u32') view.setUint32(p, m.value, m.littleEndian);
      else { view.setUint32(p, m.low, true); view.setUint32(p + 4, m.high, true); }
      return out;
    }
    case 'splice': {
      const other = seeds[m.other % seeds.length] ?? input;
      return cat(input.subarray(0, at(m.at)), other.subarray(at(m.from, other.length)));
    }
    case 'duplicate': {
      const p = at(m.at);
      const piece = input.subarray(p, p + m.length);
      return cat(input.subarray(0, p + piece.length), ...Array.from({ length: m.times }, () => piece), input.subarray(p + piece.length));
    }
    case 'repeat': {
      // A short piece repeated up to `size` (capped): inputs large enough to expose work that grows faster than the input.
      const p = at(m.at);
      const piece = input.subarray(p, p + m.length);
      if (piece.length === 0) return input;
      const total = Math.min(m.size, maxSize);
      const out = new Uint8Array(total);
      out.set(input.subarray(0, Math.min(p, total)));
      for (let i = Math.min(p, total); i < total; i += piece.length) out.set(piece.subarray(0, total - i), i);
      return out;
    }
    case 'nest': {
      // msgpack nesting `depth` deep: fixarray of one (0x91), fixmap of one with a nil key (0x81 0xc0), array16 of one.
      const unit = m.opener === 0x91 ? [0x91] : m.opener === 0x81 ? [0x81, 0xc0] : [0xdc, 0x00, 0x01];
      const depth = Math.max(1, Math.min(m.depth, Math.floor(maxSize / unit.length / 2)));
      const prefix = new Uint8Array(depth * unit.length);
      for (let i = 0; i < depth; i++) prefix.set(unit, i * unit.length);
      const p = at(m.at);
      return cat(input.subarray(0, p), prefix, input.subarray(p));
    }
  }
}

/** A seed (picked by index) with 1–`max` byte mutations applied. */
export function mutatedBytes(seeds: readonly Uint8Array[], options: { max?: number; maxSize?: number } = {}): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('no seeds');
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(byteMutation(), { minLength: 1, maxLength: options.max ?? 4 }))
    .map(([i, ms]) => ms.reduce((bytes, m) => applyMutation(bytes, m, seeds, options.maxSize), seeds[i]));
}

// ---- msgpack-aware mutations -------------------------------------------------------------------------

/** Keeps timestamps (ext -1) as raw ExtData, so a decoded seed re-encodes byte for byte. */
const raw = new ExtensionCodec();
raw.register({ type: -1, encode: (v) => (v instanceof ExtData && v.type === -1 ? v.data as Uint8Array : null), decode: (data) => new ExtData(-1, data) });
const rawDecoder = new Decoder({ extensionCodec: raw, useBigInt64: true });
const rawEncoder = new Encoder({ extensionCodec: raw, useBigInt64: true, maxDepth: 1000 });

type Value = unknown;

/** A msgpack value of any type, including the edge cases of each (huge and negative integers, odd timestamps, other ext types). */
export const anyValue: fc.Arbitrary<Value> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null), fc.boolean(),
    fc.integer(), fc.constantFrom(-1, 0, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53 - 1, -(2 ** 53), 1.5, Number.NaN, Infinity, -0),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.double(),
    fc.string({ maxLength: 40 }), fc.constantFrom('', '..', '/', '/etc/passwd', 'a/../../b', '\u0000', 'ü'),
    fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 16 })).map(([t, d]) => new ExtData(t, d)),
    fc.constantFrom(4, 8, 12).chain((size) => fc.uint8Array({ minLength: size, maxLength: size }).map((d) => new ExtData(-1, d))),
  ),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('path', 'mode', 'chunks', 'size', 'mtime', 'items', 'v', 'name', 'chunker', 'fixed', 'min', 'avg', 'max')), tie('node'), { maxKeys: 4 }),
  ),
})).node;

type Path = (string | number)[];

function paths(value: Value, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (out.length > 4096) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof ExtData)) {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

function update(value: Value, path: Path, f: (v: Value) => Value | typeof DROP): Value {
  if (path.length === 0) { const r = f(value); return r === DROP ? null : r; }
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = value.slice();
    const r = update(copy[head as number], rest, f);
    if (rest.length === 0 && f === dropFn) copy.splice(head as number, 1); else copy[head as number] = r;
    return copy;
  }
  const copy = { ...(value as Record<string, Value>) };
  if (rest.length === 0 && f === dropFn) delete copy[head as string];
  else copy[head as string] = update(copy[head as string], rest, f);
  return copy;
}
const DROP = Symbol('drop');
const dropFn = () => DROP;

export type ValueMutation =
  | { kind: 'replace'; node: number; value: Value }
  | { kind: 'drop'; node: number }
  | { kind: 'add'; node: number; key: string; value: Value }
  | { kind: 'duplicate'; node: number; times: number };

export function valueMutation(): fc.Arbitrary<ValueMutation> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), node: position, value: anyValue }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), node: position }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), node: position, key: fc.string({ maxLength: 8 }), value: anyValue }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), node: position, times: fc.integer({ min: 1, max: 64 }) }) },
  );
}

/** Applies a structural mutation to one decoded msgpack value. */
export function applyValueMutation(value: Value, m: ValueMutation): Value {
  const all = paths(value);
  const path = all[m.node % all.length];
  switch (m.kind) {
    case 'replace': return update(value, path, () => m.value);
    case 'drop': return path.length === 0 ? value : update(value, path, dropFn);
    case 'add': return update(value, path, (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof ExtData) ? { ...v, [m.key]: m.value } : Array.isArray(v) ? [...v, m.value] : v));
    case 'duplicate': return update(value, path, (v) => (Array.isArray(v) && v.length > 0 ? [...v, ...Array.from({ length: m.times }, () => v[m.times % v.length])] : v));
  }
}

/** Decodes every msgpack value of `bytes` (a map, or a stream of maps). */
export function decodeValues(bytes: Uint8Array): Value[] {
  return [...rawDecoder.decodeMulti(bytes)];
}

/** Decodes exactly one msgpack value, timestamps kept as raw ExtData. */
export function decodeValue(bytes: Uint8Array): Value {
  return rawDecoder.decode(bytes);
}

/** Encodes values back to back. */
export function encodeValues(values: Value[]): Uint8Array {
  return new Uint8Array(Buffer.concat(values.map((v) => rawEncoder.encode(v))));
}

/**
 * Mutated msgpack: a seed's values with structural mutations applied to one of them (re-encoded), then
 * sometimes byte mutations on top (for headers the encoder would never write).
 */
export function mutatedMsgpack(seeds: readonly Uint8Array[], options: { maxSize?: number } = {}): fc.Arbitrary<Uint8Array> {
  const decoded = seeds.map(decodeValues);
  const structural = fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.nat(), fc.array(valueMutation(), { minLength: 1, maxLength: 3 }))
    .map(([i, which, ms]) => {
      const values = decoded[i].slice();
      const k = which % Math.max(1, values.length);
      values[k] = ms.reduce(applyValueMutation, values[k]);
      return encodeValues(values);
    });
  return fc.oneof(
    { weight: 3, arbitrary: structural },
    { weight: 1, arbitrary: fc.tuple(structural, fc.array(byteMutation(), { minLength: 1, maxLength: 2 })).map(([b, ms]) => ms.reduce((x, m) => applyMutation(x, m, seeds, options.maxSize), b)) },
    { weight: 2, arbitrary: mutatedBytes(seeds, options) },
  );
}
