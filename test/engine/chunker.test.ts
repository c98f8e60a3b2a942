/** Chunker: deterministic vectors, independence from how input is split, size bounds, fixed size, options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createChunker, InvalidOptionError } from '../../src/engine/index.js';
import { deriveGear } from '../../src/engine/chunker/gear.js';
import { randomish, textish } from './data.js';

const SEED = new Uint8Array(32).map((_, i) => i + 1);
const SMALL = { min: 2048, avg: 8192, max: 32768 };

async function lengths(chunks: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of chunks) out.push(c.length);
  return out;
}

function split(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

test('gear table vector: HKDF-SHA256 of the seed', () => {
  const gear = deriveGear(SEED);
  assert.deepEqual(Array.from(gear.slice(0, 4), (w) => (w >>> 0).toString(16).padStart(8, '0')), GEAR_HEAD);
});

test('chunk boundary vector on 256 KiB of pseudo-random data (min 2 KiB, avg 8 KiB, max 32 KiB)', async () => {
  const data = randomish('cairn chunker vector', 256 * 1024);
  const chunks: Uint8Array[] = [];
  for await (const c of createChunker(SEED, SMALL).chunks([data])) chunks.push(c);
  assert.deepEqual(chunks.map((c) => c.length), VECTOR_LENGTHS);
  assert.equal(createHash('sha256').update(chunks[0]).digest('hex').slice(0, 16), VECTOR_FIRST_SHA);
});

test('cuts do not depend on how the input is split into pieces', async () => {
  const data = textish('split', 300_000);
  const whole = await lengths(createChunker(SEED, SMALL).chunks([data]));
  for (const sizes of [[1], [7, 31, 4096], [65536], [3, 100_000]]) {
    const pieces = sizes[0] === 1 ? split(data.subarray(0, 40_000), [1]).concat([data.subarray(40_000)]) : split(data, sizes);
    assert.deepEqual(await lengths(createChunker(SEED, SMALL).chunks(pieces)), whole, `pieces ${sizes.join(',')}`);
  }
});

test('chunks respect min and max and concatenate back to the input', async () => {
  const data = new Uint8Array(Buffer.concat([randomish('a', 200_000), new Uint8Array(150_000), textish('b', 100_000)]));
  const chunks: Uint8Array[] = [];
  for await (const c of createChunker(SEED, SMALL).chunks([data])) chunks.push(c);
  chunks.slice(0, -1).forEach((c) => assert.ok(c.length >= SMALL.min && c.length <= SMALL.max, `length ${c.length}`));
  assert.ok(chunks.at(-1)!.length <= SMALL.max);
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
  chunks.forEach((c) => assert.equal(c.byteLength, c.buffer.byteLength, 'each chunk owns its buffer'));
});

test('a different seed gives different cuts; an insertion shifts only nearby cuts', async () => {
  const data = randomish('shift', 400_000);
  const a = await lengths(createChunker(SEED, SMALL).chunks([data]));
  const b = await lengths(createChunker(new Uint8Array(32), SMALL).chunks([data]));
  assert.notDeepEqual(a, b);
  const shifted = Buffer.concat([Buffer.from('inserted!'), data]);
  const hashes = async (d: Uint8Array) => {
    const out = new Set<string>();
    for await (const ch of createChunker(SEED, SMALL).chunks([d])) out.add(createHash('sha256').update(ch).digest('hex'));
    return out;
  };
  const before = await hashes(data);
  const after = await hashes(shifted);
  const kept = [...before].filter((h) => after.has(h)).length;
  assert.ok(kept >= before.size - 2, `${kept} of ${before.size} chunks survive the insertion`);
});

test('average size is near avg with the default 2 MiB setting', async () => {
  const data = randomish('avg', 48 * 1024 * 1024);
  const l = await lengths(createChunker(SEED).chunks(split(data, [1 << 20])));
  const mean = data.length / l.length;
  assert.ok(mean > 1.5 * 2 ** 20 && mean < 3.5 * 2 ** 20, `mean ${mean}`);
});

test('fixed-size chunking and empty input', async () => {
  const data = randomish('fixed', 10_000);
  assert.deepEqual(await lengths(createChunker(SEED, { fixed: 4096 }).chunks(split(data, [333]))), [4096, 4096, 1808]);
  assert.deepEqual(await lengths(createChunker(SEED, SMALL).chunks([])), []);
  assert.deepEqual(await lengths(createChunker(SEED, SMALL).chunks([new Uint8Array(100)])), [100]);
});

test('invalid sizes are refused with InvalidOptionError', () => {
  for (const bad of [{ min: 4096, avg: 3000, max: 9000 }, { min: 9000, avg: 8192, max: 32768 }, { min: 1, avg: 8192, max: 32768 }, { fixed: 0 }]) {
    assert.throws(() => createChunker(SEED, bad), (e: unknown) => e instanceof InvalidOptionError && e.code === 'EINVALID_OPTION');
  }
});

const GEAR_HEAD = ['931daf46', '8752c161', 'ecf39654', '45ffe1ba'];
const VECTOR_LENGTHS = [10643, 9352, 9793, 12300, 10819, 9477, 11033, 12366, 8349, 11948, 8076, 8439, 11177, 10119, 10017, 9302, 9840,
  9106, 11917, 8404, 7216, 11699, 10925, 8361, 8365, 5115, 7986];
const VECTOR_FIRST_SHA = '6be2f3a939790136';

/** The rule of docs/format/chunks.md written the plain way, byte by byte, as an independent reference. */
function referenceCuts(data: Uint8Array, seed: Uint8Array, s: { min: number; avg: number; max: number }): number[] {
  const gear = deriveGear(seed);
  const bits = Math.log2(s.avg);
  const top = (n: number) => (0xffffffff << (32 - n)) >>> 0;
  const maskS = top(bits + 2);
  const maskL = top(bits - 2);
  const out: number[] = [];
  let h = 0;
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    h = (h * 2 + (gear[data[i]] >>> 0)) % 2 ** 32;
    const len = i + 1 - start;
    const cut = len >= s.max || (len >= s.avg && (h & maskL) >>> 0 === 0) || (len >= s.min && (h & maskS) >>> 0 === 0);
    if (cut) {
      out.push(len);
      start = i + 1;
    }
  }
  if (start < data.length) out.push(data.length - start);
  return out;
}

test('the chunker agrees with a plain byte-by-byte reference of the documented rule', async () => {
  for (const data of [randomish('cairn chunker vector', 256 * 1024), textish('ref', 200_000), new Uint8Array(100_000)]) {
    assert.deepEqual(await lengths(createChunker(SEED, SMALL).chunks(split(data, [5000]))), referenceCuts(data, SEED, SMALL));
  }
});
