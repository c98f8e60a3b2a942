// The item format: byte-exact round trips of every field, non-UTF-8 paths, nanosecond times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '@msgpack/msgpack';
import { decodeItems, encodeItem, itemKind, S_IFDIR, S_IFLNK, S_IFREG, S_IFCHR, type Item } from '../../src/archive/item.js';

const id = (n: number) => new Uint8Array(32).fill(n);
/** Every byte array as hex, so Buffer and Uint8Array compare by content. */
function canon(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, canon(v)]));
  if (Array.isArray(value)) return value.map(canon);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canon(v)]));
  return value;
}

test('every field round-trips exactly, times to the nanosecond', () => {
  const items: Item[] = [
    { path: Buffer.from('dir'), mode: S_IFDIR | 0o755, uid: 0, gid: 0, user: 'root', group: 'root', mtime: 1_700_000_000_123_456_789n, atime: 1n, ctime: -1_500_000_001n },
    { path: Buffer.from('dir/f\u00e9'), mode: S_IFREG | 0o644, uid: 1000, gid: 1000, mtime: 5n, size: 7, chunks: [{ id: id(1), size: 3 }, { id: id(2), size: 4 }], hlid: new Uint8Array(16).fill(9), sparse: true, xattrs: new Map([['user.x', new Uint8Array([0, 255])]]) },
    { path: Buffer.from('dir/l'), mode: S_IFLNK | 0o777, uid: 0, gid: 0, mtime: 0n, target: Buffer.from([0x2e, 0xff, 0xfe]) },
    { path: Buffer.from([0x61, 0xff, 0x80]), mode: S_IFCHR | 0o600, uid: 0, gid: 0, mtime: 2n ** 40n, rdev: 0x0103 },
  ];
  const stream = Buffer.concat(items.map(encodeItem));
  const back = decodeItems(stream);
  assert.deepEqual(back.map(canon), items.map(canon));
  assert.equal(itemKind(back[3].mode), 'chardev');
});

test('valid UTF-8 paths are msgpack str, invalid ones bin', () => {
  const good = decode(encodeItem({ path: Buffer.from('a/\u00fc'), mode: S_IFREG, uid: 0, gid: 0, mtime: 0n })) as Record<string, unknown>;
  assert.equal(good.path, 'a/\u00fc');
  const bad = decode(encodeItem({ path: Buffer.from([0x61, 0xc3]), mode: S_IFREG, uid: 0, gid: 0, mtime: 0n })) as Record<string, unknown>;
  assert.ok(bad.path instanceof Uint8Array);
  assert.deepEqual([...(bad.path as Uint8Array)], [0x61, 0xc3]);
});

test('a malformed item is refused with TypeError', () => {
  assert.throws(() => decodeItems(encodeItem({ path: Buffer.from('x'), mode: 0o644, uid: 0, gid: 0, mtime: 0n })), TypeError);
});

test('a damaged file keeps its own chunk list in "healthy"; items without the key read as before; a mismatched one is refused', () => {
  const file: Item = { path: Buffer.from('f'), mode: S_IFREG | 0o644, uid: 0, gid: 0, mtime: 1n, size: 7, chunks: [{ id: id(7), size: 3 }, { id: id(2), size: 4 }] };
  const damaged: Item = { ...file, healthy: [{ id: id(1), size: 3 }, { id: id(2), size: 4 }] };
  assert.deepEqual(decodeItems(encodeItem(damaged)).map(canon), [canon(damaged)]);
  // The encoding of an item without the mark is the one older versions wrote: no key, and none read back.
  assert.equal('healthy' in (decode(encodeItem(file)) as Record<string, unknown>), false);
  assert.equal(decodeItems(encodeItem(file))[0]!.healthy, undefined);
  // Repair replaces chunk for chunk: another length or size was written by no cairn.
  assert.throws(() => decodeItems(encodeItem({ ...file, healthy: [{ id: id(1), size: 3 }] })), TypeError);
  assert.throws(() => decodeItems(encodeItem({ ...file, healthy: [{ id: id(1), size: 4 }, { id: id(2), size: 3 }] })), TypeError);
  assert.throws(() => decodeItems(encodeItem({ ...file, chunks: undefined, size: undefined, healthy: [{ id: id(1), size: 3 }] })), TypeError);
});
