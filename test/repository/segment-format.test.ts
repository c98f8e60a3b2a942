import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { loadDigests, xxh64 } from '../../src/repository/digests.js';
import {
  DELETE_SIZE, encodeCommit, encodeDelete, encodePutHeader, openPut, readHeader, decodeCommit, PUT_HEADER_SIZE, TAG_COMMIT, TAG_DELETE, TAG_PUT2,
} from '../../src/repository/segment-format.js';
import { scanSegment } from '../../src/repository/segment-scan.js';
import { IntegrityError } from '../../src/repository/errors.js';
import { idOf, valueOf } from './helpers.js';

await loadDigests();

test('xxh64 matches the published test vectors', () => {
  assert.equal(xxh64(new Uint8Array(0)), 0xef46db3751d8e999n);
  assert.equal(xxh64(new TextEncoder().encode('a')), 0xd24ec4f1a98c6e5bn);
  assert.equal(xxh64(new TextEncoder().encode('ab'), new TextEncoder().encode('c')), 0x44bc2cf5ad770999n);
});

test('PUT2 bytes follow the documented layout', () => {
  const id = idOf(1), value = valueOf(1, 10);
  const header = encodePutHeader(id, value);
  const entry = new Uint8Array([...header, ...value]);
  const view = new DataView(entry.buffer);
  assert.equal(header.length, PUT_HEADER_SIZE);
  assert.equal(view.getUint32(4, true), 59);
  assert.equal(entry[8], TAG_PUT2);
  assert.deepEqual(entry.subarray(9, 41), id);
  assert.equal(view.getBigUint64(41, true), xxh64(entry.subarray(4, 41), value));
  assert.equal(view.getUint32(0, true), zlibCrc32(entry.subarray(4, 49)) >>> 0);
  assert.deepEqual(openPut(entry, id, { key: 'k', offset: 0 }), value);
});

test('DELETE and COMMIT bytes follow the documented layout', () => {
  const del = encodeDelete(idOf(2));
  const dv = new DataView(del.buffer);
  assert.equal(del.length, DELETE_SIZE);
  assert.equal(dv.getUint32(4, true), 41);
  assert.equal(del[8], TAG_DELETE);
  assert.equal(dv.getUint32(0, true), zlibCrc32(del.subarray(4)) >>> 0);
  const info = { session: '0123456789abcdef', first: 3, last: 7, entries: 12, time: 1700000000000 };
  const commit = encodeCommit(info);
  assert.equal(commit[8], TAG_COMMIT);
  assert.equal(new DataView(commit.buffer).getUint32(4, true), commit.length);
  const h = readHeader(commit, 0);
  assert.ok(typeof h !== 'string' && h.tag === TAG_COMMIT);
  assert.deepEqual(decodeCommit(commit), info);
});

test('every single-bit flip in a PUT2 entry is detected, and the value is never returned', () => {
  const id = idOf(3), value = valueOf(3, 64);
  const entry = new Uint8Array([...encodePutHeader(id, value), ...value]);
  for (let bit = 0; bit < entry.length * 8; bit++) {
    const bad = entry.slice();
    bad[bit >> 3] ^= 1 << (bit & 7);
    assert.throws(() => openPut(bad, id, { key: 'k', offset: 0 }), (e: unknown) => e instanceof IntegrityError && e.code === 'EINTEGRITY');
    const scan = scanSegment(bad);
    assert.ok(scan.damage.length > 0, `flip of bit ${bit} not reported by the scan`);
  }
});

test('a PUT2 entry of another id is refused', () => {
  const value = valueOf(4, 8);
  const entry = new Uint8Array([...encodePutHeader(idOf(4), value), ...value]);
  assert.throws(() => openPut(entry, idOf(5), { key: 'k', offset: 0 }), IntegrityError);
});

test('the scan reports damage at its offset and resynchronizes on the next entry', () => {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) parts.push(encodePutHeader(idOf(i), valueOf(i, 50)), valueOf(i, 50));
  const seg = new Uint8Array(Buffer.concat(parts));
  seg[99 + 20] ^= 0xff; // inside the second entry's header
  const { entries, damage } = scanSegment(seg);
  assert.deepEqual(damage.map((d) => d.offset), [99]);
  assert.deepEqual(entries.map((e) => e.offset), [0, 198]);
  const truncated = scanSegment(seg.subarray(0, 150));
  assert.equal(truncated.damage[0].offset, 99);
});

test('ids read from a Buffer (what the SFTP backend returned) are copies: none keeps its segment or index object alive', async () => {
  const { decodeIndex, encodeIndex, KIND_DELTA } = await import('../../src/repository/index-format.js');
  const put = new Uint8Array([...encodePutHeader(idOf(1), valueOf(1, 10)), ...valueOf(1, 10)]);
  const segment = Buffer.concat([put, encodeDelete(idOf(2)), encodeCommit({ session: 'a'.repeat(16), first: 0, last: 0, entries: 2, time: 1 })]);
  const { entries, damage } = scanSegment(segment);
  assert.deepEqual(damage, []);
  const ids = entries.filter((e) => e.id).map((e) => e.id!);
  assert.equal(ids.length, 2);
  for (const id of ids) {
    assert.notEqual(id.buffer, segment.buffer, 'an id is a view into the segment');
    assert.equal(id.byteLength, id.buffer.byteLength);
  }
  assert.deepEqual(ids, [idOf(1), idOf(2)]);

  const header = { segments: ['s'], txns: [['a'.repeat(16), 0, 0] as [string, number, number]], time: 1, puts: 0, deletes: 1 };
  const object = Buffer.from(encodeIndex({ kind: KIND_DELTA, header, putIds: new Uint8Array(0), putLocs: new Uint32Array(0), deleteIds: idOf(3) }));
  const decoded = decodeIndex(object, 'index/delta-test');
  assert.deepEqual(decoded.deleteIds, idOf(3));
  assert.notEqual(decoded.deleteIds.buffer, object.buffer, 'the delete ids are a view into the index object');
});
