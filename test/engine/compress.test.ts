/** Compression frames: byte-exact headers, round trips of every algorithm, auto's skip, and damaged frames. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { compressFrame, decompressFrame, loadRawCodecs, parseCompression, formatCompression, MAX_RAW_LENGTH } from '../../src/engine/compress/index.js';
import { compressionFrame, zstdZeros } from '../helpers/bombs.js';
import { IntegrityError, InvalidOptionError, UnsupportedFormatError } from '../../src/engine/index.js';
import { binaryish, randomish, textish } from './data.js';

const frame = (p: { header: Uint8Array; body: Uint8Array }): Uint8Array => new Uint8Array(Buffer.concat([p.header, p.body]));

test('frame header vectors: none and zlib', async () => {
  const codecs = await loadRawCodecs();
  const none = compressFrame(codecs, parseCompression('none'), Buffer.from('abc'));
  assert.equal(Buffer.from(frame(none)).toString('hex'), '000000000003616263');
  const text = textish('zlib', 5000);
  const z = frame(compressFrame(codecs, parseCompression('zlib,9'), text));
  assert.equal(Buffer.from(z.subarray(0, 6)).toString('hex'), '030900001388');
  assert.deepEqual(new Uint8Array(inflateSync(z.subarray(6))), text, 'the zlib body is a plain RFC 1950 stream');
});

test('lz4 and zstd bodies: lz4 is size-prepended, zstd starts with the frame magic', async () => {
  const codecs = await loadRawCodecs();
  const text = textish('magic', 10_000);
  const l = compressFrame(codecs, parseCompression('lz4'), text);
  assert.deepEqual([...l.header.subarray(0, 2)], [1, 0]);
  assert.equal(Buffer.from(l.body).readUInt32LE(0), 10_000);
  const z = compressFrame(codecs, parseCompression('zstd,5'), text);
  assert.deepEqual([...z.header.subarray(0, 2)], [2, 5]);
  assert.equal(Buffer.from(z.body).readUInt32LE(0), 0xfd2fb528);
});

test('every algorithm round-trips text, structured binary, random and empty chunks', async () => {
  const codecs = await loadRawCodecs();
  const inputs = [textish('t', 300_000), binaryish('b', 300_000), randomish('r', 100_000), new Uint8Array(0), new Uint8Array(1)];
  for (const spec of ['none', 'lz4', 'zstd', 'zstd,1', 'zstd,19', 'zlib', 'zlib,0', 'zlib,9', 'auto', 'auto,zstd,3', 'auto,zlib']) {
    for (const data of inputs) {
      const f = frame(compressFrame(codecs, parseCompression(spec), data));
      assert.deepEqual(decompressFrame(codecs, f), data, spec);
    }
  }
});

test('compression shrinks text; random data and auto on random data are stored as none', async () => {
  const codecs = await loadRawCodecs();
  const text = textish('ratio', 1 << 20);
  for (const spec of ['lz4', 'zstd', 'zlib']) assert.ok(compressFrame(codecs, parseCompression(spec), text).body.length < text.length * 0.6, spec);
  const random = randomish('incompressible', 1 << 20);
  for (const spec of ['zstd', 'auto,zstd', 'auto']) {
    const f = compressFrame(codecs, parseCompression(spec), random);
    assert.equal(f.header[0], 0, spec);
    assert.equal(f.body, random, `${spec} keeps the input without copying`);
  }
});

test('a damaged frame is an IntegrityError; an unknown algorithm is UnsupportedFormatError', async () => {
  const codecs = await loadRawCodecs();
  const text = textish('damage', 50_000);
  for (const spec of ['lz4', 'zstd', 'zlib']) {
    const f = frame(compressFrame(codecs, parseCompression(spec), text));
    const truncated = f.subarray(0, f.length - 10);
    assert.throws(() => decompressFrame(codecs, truncated), IntegrityError, spec);
    const lying = new Uint8Array(f);
    lying[5] ^= 1;
    assert.throws(() => decompressFrame(codecs, lying), IntegrityError, `${spec} wrong length`);
  }
  assert.throws(() => decompressFrame(codecs, new Uint8Array([9, 0, 0, 0, 0, 0])), (e: unknown) => e instanceof UnsupportedFormatError && e.code === 'EUNSUPPORTED_FORMAT');
  assert.throws(() => decompressFrame(codecs, new Uint8Array([0, 0])), IntegrityError);
});

test('compression specs parse, normalize and reject nonsense', () => {
  assert.deepEqual(parseCompression('zstd'), { algorithm: 'zstd', level: 3, auto: false });
  assert.deepEqual(parseCompression('AUTO'), { algorithm: 'lz4', level: 0, auto: true });
  assert.equal(formatCompression(parseCompression('auto,zlib')), 'auto,zlib,6');
  for (const bad of ['brotli', 'zstd,0', 'zstd,23', 'zlib,10', 'lz4,3', 'auto,none', 'zstd,x', '']) {
    assert.throws(() => parseCompression(bad), (e: unknown) => e instanceof InvalidOptionError && e.code === 'EINVALID_OPTION', bad);
  }
});

test('decompression bombs are refused before any decoder allocates (F5)', async () => {
  const codecs = await loadRawCodecs();
  // The hand-made frame is real zstd: a small one decodes to what it says.
  assert.deepEqual(decompressFrame(codecs, compressionFrame(2, 256 * 1024, zstdZeros(256 * 1024))), new Uint8Array(256 * 1024));
  const GiB = 1024 * 1024 * 1024;
  const bomb = zstdZeros(GiB);
  assert.ok(bomb.length < 40_000);
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const cases: [string, Uint8Array][] = [
    ['rawLength past the largest chunk', compressionFrame(2, GiB, bomb)],
    ['zstd content size past rawLength', compressionFrame(2, 1000, bomb)],
    ['zstd frame without a content size', compressionFrame(2, 128 * 1024, Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 1, 0, 0]))],
    ['lz4 size prefix past rawLength', compressionFrame(1, 1000, Uint8Array.from([0, 0, 0, 0x40, 0x10, 0]))],
    ['lz4 body shorter than its prefix', compressionFrame(1, 1000, Uint8Array.from([0xe8, 3]))],
    ['zlib past rawLength', compressionFrame(3, 1000, new Uint8Array(deflateSync(Buffer.alloc(10 * 1024 * 1024))))],
    ['none past the largest chunk', compressionFrame(0, MAX_RAW_LENGTH + 1, new Uint8Array(10))],
  ];
  for (const [what, bytes] of cases) assert.throws(() => decompressFrame(codecs, bytes), IntegrityError, what);
  assert.ok(Date.now() - started < 2000, 'refused at once');
  assert.ok(process.memoryUsage().rss - rssBefore < 100 * 1024 * 1024, 'nothing near the announced size was allocated');
  assert.throws(() => compressFrame(codecs, parseCompression('none'), new Uint8Array(MAX_RAW_LENGTH + 1)), RangeError);
});
