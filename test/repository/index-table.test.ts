import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkIndex, IndexBuilder } from '../../src/repository/index-table.js';
import { idOf } from './helpers.js';

const hex = (id: Uint8Array) => Buffer.from(id).toString('hex');

test('matches a reference map through sets, moves, deletes and merges', () => {
  const index = new ChunkIndex();
  const ref = new Map<string, [number, number, number]>();
  let seed = 7;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  for (let step = 0; step < 200_000; step++) {
    const id = idOf(rnd(90_000));
    const op = rnd(10);
    if (op < 7) {
      const loc: [number, number, number] = [rnd(1000), rnd(1 << 30), rnd(1 << 24)];
      index.set(id, ...loc);
      ref.set(hex(id), loc);
    } else {
      assert.equal(index.delete(id), ref.delete(hex(id)));
    }
  }
  assert.equal(index.count, ref.size);
  for (const [h, loc] of ref) {
    const got = index.get(Buffer.from(h, 'hex'));
    assert.deepEqual(got && [got.segment, got.offset, got.size], loc);
  }
  for (let i = 90_000; i < 91_000; i++) assert.equal(index.has(idOf(i)), false);
  const listed = [...index.entries()].map((e) => hex(e.id));
  assert.deepEqual(listed, [...ref.keys()].sort());
});

test('ids sharing long prefixes are told apart', () => {
  const index = new ChunkIndex();
  for (let i = 0; i < 5000; i++) { const id = new Uint8Array(32); id[31] = i & 0xff; id[30] = i >> 8; index.set(id, i, i, i); }
  for (let i = 0; i < 5000; i++) { const id = new Uint8Array(32); id[31] = i & 0xff; id[30] = i >> 8; assert.equal(index.get(id)?.offset, i); }
  assert.equal([...index.entries()].length, 5000);
});

test('the builder keeps the last word per id and drops deleted ids', () => {
  const b = new IndexBuilder();
  b.put(idOf(1), 1, 1, 1);
  b.put(idOf(2), 2, 2, 2);
  b.put(idOf(1), 3, 3, 3);
  b.delete(idOf(2));
  b.put(idOf(3), 4, 4, 4);
  b.delete(idOf(3));
  b.put(idOf(3), 5, 5, 5);
  const index = ChunkIndex.from(b);
  assert.equal(index.count, 2);
  assert.deepEqual(index.get(idOf(1)), { segment: 3, offset: 3, size: 3 });
  assert.equal(index.get(idOf(2)), undefined);
  assert.deepEqual(index.get(idOf(3)), { segment: 5, offset: 5, size: 5 });
});

test('costs at most 48 bytes per entry at 200 000 entries', () => {
  const b = new IndexBuilder();
  for (let i = 0; i < 200_000; i++) b.put(idOf(i), i & 7, i, 100);
  const index = ChunkIndex.from(b);
  assert.equal(index.count, 200_000);
  assert.ok(index.memoryBytes / index.count <= 48, `${index.memoryBytes / index.count} bytes per entry`);
});
