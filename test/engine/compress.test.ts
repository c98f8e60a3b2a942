/** Compression frames: byte-exact headers, round trips of every algorithm, auto's skip, and damaged frames. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { compressFrame, decompressFrame, loadRawCodecs, parseCompression, formatCompression, MAX_RAW_LENGTH, type RawCodecs } from '../../src/engine/compress/index.js';
import { nativeZstd, wasmZstd, type ZstdCodec } from '../../src/engine/compress/libs.js';
import { zstdFrameLength } from '../../src/engine/compress/zstd-header.js';
import { compressionFrame, zstdZeros } from '../helpers/bombs.js';
import { ChunkIntegrityError, InvalidOptionError, UnsupportedFormatError } from '../../src/engine/index.js';
import { binaryish, randomish, textish } from './data.js';

const frame = (p: { header: Uint8Array; body: Uint8Array }): Uint8Array => new Uint8Array(Buffer.concat([p.header, p.body]));

/** node:zlib has zstd from Node 22.15 on (and in every 23.x and later). */
const [major, minor] = process.versions.node.split('.').map(Number);
const NODE_HAS_ZSTD = major > 22 || (major === 22 && minor >= 15);

/** The default codecs with zstd from `zstd`. */
function codecsWith(base: RawCodecs, zstd: ZstdCodec): RawCodecs {
  return { ...base, zstdCompress: zstd.compress, zstdDecompress: zstd.decompress, zstdImplementation: zstd.implementation };
}

/** Every zstd implementation this Node has: the WebAssembly build, and node:zlib's where present. */
async function zstdImplementations(): Promise<ZstdCodec[]> {
  const native = nativeZstd();
  return native ? [native, await wasmZstd()] : [await wasmZstd()];
}

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

test('a damaged frame is an ChunkIntegrityError; an unknown algorithm is UnsupportedFormatError', async () => {
  const codecs = await loadRawCodecs();
  const text = textish('damage', 50_000);
  for (const spec of ['lz4', 'zstd', 'zlib']) {
    const f = frame(compressFrame(codecs, parseCompression(spec), text));
    const truncated = f.subarray(0, f.length - 10);
    assert.throws(() => decompressFrame(codecs, truncated), ChunkIntegrityError, spec);
    const lying = new Uint8Array(f);
    lying[5] ^= 1;
    assert.throws(() => decompressFrame(codecs, lying), ChunkIntegrityError, `${spec} wrong length`);
  }
  assert.throws(() => decompressFrame(codecs, new Uint8Array([9, 0, 0, 0, 0, 0])), (e: unknown) => e instanceof UnsupportedFormatError && e.code === 'EUNSUPPORTED_FORMAT');
  assert.throws(() => decompressFrame(codecs, new Uint8Array([0, 0])), ChunkIntegrityError);
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
  for (const zstd of await zstdImplementations()) await refusesBombs(codecsWith(await loadRawCodecs(), zstd));
});

async function refusesBombs(codecs: RawCodecs): Promise<void> {
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
  for (const [what, bytes] of cases) assert.throws(() => decompressFrame(codecs, bytes), ChunkIntegrityError, what);
  assert.ok(Date.now() - started < 2000, 'refused at once');
  assert.ok(process.memoryUsage().rss - rssBefore < 100 * 1024 * 1024, 'nothing near the announced size was allocated');
  assert.throws(() => compressFrame(codecs, parseCompression('none'), new Uint8Array(MAX_RAW_LENGTH + 1)), RangeError);
}

test('zstd comes from node:zlib exactly when this Node has it (22.15 and later), else from WebAssembly', async () => {
  assert.equal(nativeZstd() !== undefined, NODE_HAS_ZSTD, `Node ${process.version}`);
  assert.equal((await loadRawCodecs()).zstdImplementation, NODE_HAS_ZSTD ? 'node:zlib' : '@bokuweb/zstd-wasm');
  assert.equal((await wasmZstd()).implementation, '@bokuweb/zstd-wasm');
});

test('node:zlib and WebAssembly zstd read each other\'s frames byte for byte', { skip: !NODE_HAS_ZSTD && `Node ${process.version} has no zstd in node:zlib (22.15+)` }, async () => {
  const native = nativeZstd()!;
  const wasm = await wasmZstd();
  const base = await loadRawCodecs();
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['1 byte', new Uint8Array([7])],
    ['text 1000', textish('i1', 1000)],
    ['text 128 KiB + 1', textish('i2', 128 * 1024 + 1)],
    ['binary 2 MiB', binaryish('i3', 2 << 20)],
    ['random 300 KB', randomish('i4', 300_000)],
    ['zeros 1 MiB', new Uint8Array(1 << 20)],
  ];
  for (const level of [1, 3, 9, 19]) {
    for (const [what, data] of inputs) {
      if (level === 19 && data.length > 200_000) continue; // slow and adds nothing
      for (const [from, to] of [[native, wasm], [wasm, native]]) {
        const label = `${what}, level ${level}, ${from.implementation} -> ${to.implementation}`;
        const packed = from.compress(data, level);
        assert.equal(zstdFrameLength(packed), packed.length, `${label}: one frame`);
        assert.deepEqual(to.decompress(packed, data.length), data, label);
        // and through the chunk frame, where the reader checks the body's announced size
        if (data.length > 0) {
          const f = frame(compressFrame(codecsWith(base, from), parseCompression(`zstd,${level}`), data));
          assert.deepEqual(decompressFrame(codecsWith(base, to), f), data, `${label} (frame)`);
        }
      }
    }
  }
  // Incompressible data is stored as none by both, so the chunk frames are identical.
  const random = randomish('i5', 100_000);
  assert.deepEqual(frame(compressFrame(codecsWith(base, native), parseCompression('zstd'), random)), frame(compressFrame(codecsWith(base, wasm), parseCompression('zstd'), random)));
});

test('a zstd body with a second frame or bytes after its frame is refused by every implementation', async () => {
  const base = await loadRawCodecs();
  const text = textish('trailing', 100_000);
  for (const zstd of await zstdImplementations()) {
    const codecs = codecsWith(base, zstd);
    const f = frame(compressFrame(codecs, parseCompression('zstd'), text));
    assert.deepEqual(decompressFrame(codecs, f), text);
    const body = f.subarray(6);
    const cases: [string, Uint8Array][] = [
      ['junk after the frame', new Uint8Array(Buffer.concat([f, Buffer.from('junk!')]))],
      ['one byte after the frame', new Uint8Array(Buffer.concat([f, Buffer.from([0])]))],
      ['a second frame', new Uint8Array(Buffer.concat([f, body]))],
      ['a truncated last block', f.subarray(0, f.length - 1)],
    ];
    for (const [what, bytes] of cases) {
      assert.throws(() => decompressFrame(codecs, bytes), (e: unknown) => e instanceof ChunkIntegrityError && e.code === 'ECHUNK_INTEGRITY', `${zstd.implementation}: ${what}`);
    }
  }
});

/** node:zlib's empty frame, which it appended when a frame ended exactly at the end of a 16 KiB output chunk. */
const EMPTY_FRAME = Buffer.from('28b52ffd2000010000', 'hex');

test('node:zlib zstd: a frame ending exactly at a 16 KiB output chunk is stored as one frame and reads back', async () => {
  const native = nativeZstd();
  const zlib = await import('node:zlib') as unknown as { zstdCompressSync?(d: Uint8Array, o: object): Buffer; constants: Record<string, number> };
  if (!native || !zlib.zstdCompressSync) return;
  const base = await loadRawCodecs();
  const codecs = codecsWith(base, native);
  const text = textish('frame-at-16k', 120_000);
  // The prefix lengths whose level-3 frame is about 16 KiB, then every length around them.
  let lo = 1, hi = text.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (native.compress(text.subarray(0, mid), 3).length < 16_384) lo = mid + 1; else hi = mid; }
  let doubled = 0;
  for (let n = lo - 400; n < lo + 400; n++) {
    const data = text.subarray(0, n);
    // What the codec did before: node:zlib's default 16 KiB output chunks.
    const old = zlib.zstdCompressSync(data, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 } });
    if (old.length !== zstdFrameLength(old)) doubled += 1;
    const f = frame(compressFrame(codecs, parseCompression('zstd,3'), data));
    assert.equal(zstdFrameLength(f.subarray(6)), f.length - 6, `length ${n}: one frame`);
    assert.deepEqual(decompressFrame(codecs, f), data);
  }
  assert.ok(doubled > 0, 'the scan meets the lengths where node:zlib appended an empty frame');
});

test('a zstd body followed by exactly node:zlib\'s empty frame (written before the fix) reads back with every implementation', async () => {
  const base = await loadRawCodecs();
  const text = textish('empty-frame', 50_000);
  for (const zstd of await zstdImplementations()) {
    const codecs = codecsWith(base, zstd);
    const f = frame(compressFrame(codecs, parseCompression('zstd'), text));
    assert.deepEqual(decompressFrame(codecs, new Uint8Array(Buffer.concat([f, EMPTY_FRAME]))), text, zstd.implementation);
    // Anything else after the frame is still refused: two empty frames, the empty frame cut short.
    for (const bytes of [Buffer.concat([f, EMPTY_FRAME, EMPTY_FRAME]), Buffer.concat([f, EMPTY_FRAME.subarray(0, 8)])]) {
      assert.throws(() => decompressFrame(codecs, new Uint8Array(bytes)), (e: unknown) => e instanceof ChunkIntegrityError && e.code === 'ECHUNK_INTEGRITY', zstd.implementation);
    }
  }
});

test('every zstd implementation stops at the chunk\'s length: a frame that holds more is refused without decoding it all', async () => {
  const base = await loadRawCodecs();
  const MiB = 1024 * 1024;
  for (const zstd of await zstdImplementations()) {
    const codecs = codecsWith(base, zstd);
    // The header says 1 MiB (as does the chunk frame) but the blocks hold 512 MiB of zeros.
    const liar = compressionFrame(2, MiB, zstdZeros(512 * MiB, MiB));
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    assert.throws(() => decompressFrame(codecs, liar), (e: unknown) => e instanceof ChunkIntegrityError && e.code === 'ECHUNK_INTEGRITY', zstd.implementation);
    assert.ok(Date.now() - started < 2000, `${zstd.implementation}: refused at once`);
    assert.ok(process.memoryUsage().rss - rssBefore < 64 * MiB, `${zstd.implementation}: nothing near 512 MiB was allocated`);
    // The raw decoder alone is bounded too (node:zlib by maxOutputLength, the WebAssembly build by the announced size).
    assert.throws(() => zstd.decompress(zstdZeros(512 * MiB, MiB), MiB), zstd.implementation);
  }
});
