// Bounded msgpack decoding: the same values as the library's own decoder for any stream cut anywhere, and
// for hostile headers a DecodeError with nothing allocated for what they only promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError, encode } from '@msgpack/msgpack';
import { decodeAllBounded, decodeBounded, MsgpackSplitter } from '../../src/repository/msgpack-bounds.js';
import { anyValue, decodeValue, decodeValues, encodeValues } from '../fuzz/mutate.js';

test('a stream cut into any pieces splits into exactly the values the decoder reads', () => {
  fc.assert(fc.property(fc.array(anyValue, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (values, cuts) => {
    const bytes = encodeValues(values);
    const expected = decodeValues(bytes);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const splitter = new MsgpackSplitter();
    const got: unknown[] = [];
    let from = 0;
    for (const to of [...points, bytes.length]) {
      for (const v of splitter.push(bytes.subarray(from, to))) got.push(decodeValue(v));
      from = to;
    }
    splitter.finish();
    assert.deepEqual(got, expected);
  }), { numRuns: 300 });
});

test('headers that promise more than the input holds are a DecodeError, in time and memory linear in the input', () => {
  const nested = new Uint8Array(5 * 10_000);
  for (let i = 0; i < 10_000; i++) nested.set([0xdd, 0x00, 0xff, 0xff, 0xff], 5 * i);
  for (const bytes of [nested, Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 0), Uint8Array.of(0x92, 0xc0), Uint8Array.of(0xc1)]) {
    const before = process.memoryUsage.rss();
    assert.throws(() => decodeBounded(bytes), DecodeError);
    assert.ok(process.memoryUsage.rss() - before < 64 * 1048576);
  }
  assert.throws(() => decodeBounded(Uint8Array.of(0xc0, 0xc0)), DecodeError, 'two values where one is expected');
  assert.deepEqual(decodeAllBounded(new Uint8Array(Buffer.concat([encode({ a: 1 }), encode([1, 'x'])]))), [{ a: 1 }, [1, 'x']]);
});
