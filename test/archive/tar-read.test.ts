// The tar reader of import-tar (tar-read.ts): what the writer (tar-format.ts) writes reads back exactly, and damaged
// input (random byte changes, truncation) either reads or fails with TarFormatError, never another error or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarFormatError } from '../../src/archive/errors.js';
import { tarEnd, tarHeader, type TarHeader } from '../../src/archive/tar-format.js';
import { readTar, type TarMember } from '../../src/archive/tar-read.js';

function build(members: { header: TarHeader; data?: Buffer }[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const { header, data } of members) {
    parts.push(tarHeader(header));
    if (data) parts.push(data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

/** Feeds `bytes` in pieces of `piece` bytes (a pipe's reads do not line up with blocks). */
async function* pieces(bytes: Buffer, piece: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) yield Buffer.from(bytes.subarray(at, at + piece));
}

async function readAll(bytes: Buffer, piece = 333): Promise<{ member: TarMember; data: Buffer }[]> {
  const out: { member: TarMember; data: Buffer }[] = [];
  for await (const { member, data } of readTar(pieces(bytes, piece))) {
    const parts: Uint8Array[] = [];
    for await (const p of data) parts.push(p);
    out.push({ member, data: Buffer.concat(parts) });
  }
  return out;
}

const base = { mode: 0o640, uid: 1000, gid: 100, size: 0, mtime: 1_700_000_000_123_456_789n };

test('what the pax writer writes reads back exactly: long and non-UTF-8 names, ids, ns and pre-1970 times, xattrs, links, devices', async () => {
  const contents = Buffer.alloc(70_000, 9);
  const longName = Buffer.from(`${'d'.repeat(150)}/${'f'.repeat(120)}`);
  const raw = Buffer.from([0x6e, 0xff, 0xfe, 0x2e, 0x62]);
  const headers: { header: TarHeader; data?: Buffer }[] = [
    { header: { ...base, path: Buffer.from('dir'), type: 'dir', mode: 0o755 } },
    { header: { ...base, path: longName, type: 'file', size: contents.length, uid: 3_000_000, gid: 2 ** 32 - 1, uname: 'ünï', gname: 'g'.repeat(40), xattrs: new Map([['user.a', Buffer.from([0, 255, 10])]]) }, data: contents },
    { header: { ...base, path: raw, type: 'file', size: 0, mtime: -1_500_000_000n } },
    { header: { ...base, path: Buffer.from('hard'), type: 'hardlink', linkname: longName } },
    { header: { ...base, path: Buffer.from('sym'), type: 'symlink', linkname: Buffer.from('t'.repeat(300)) } },
    { header: { ...base, path: Buffer.from('null'), type: 'chardev', devmajor: 1, devminor: 3 } },
    { header: { ...base, path: Buffer.from('pipe'), type: 'fifo' } },
  ];
  for (const piece of [1, 511, 4096, 1 << 20]) {
    const got = await readAll(build(headers), piece);
    assert.equal(got.length, headers.length);
    got.forEach(({ member, data }, i) => {
      const h = headers[i]!.header;
      assert.deepEqual(Buffer.from(member.path), Buffer.from(h.path), `path ${i}`);
      assert.equal(member.type, h.type);
      assert.equal(member.mode, h.mode);
      assert.equal(member.uid, h.uid);
      assert.equal(member.gid, h.gid);
      assert.equal(member.mtime, h.mtime);
      assert.equal(member.uname, h.uname);
      assert.equal(member.gname, h.gname);
      assert.deepEqual(member.linkname && Buffer.from(member.linkname), h.linkname && Buffer.from(h.linkname));
      assert.deepEqual(member.xattrs, new Map(h.xattrs ?? []));
      assert.deepEqual(data, headers[i]!.data ?? Buffer.alloc(0));
      if (h.type === 'chardev') assert.deepEqual([member.devmajor, member.devminor], [1, 3]);
    });
  }
});

test('damaged tars (random byte changes, truncation) read or fail with TarFormatError only, and end', async () => {
  const valid = build([
    { header: { ...base, path: Buffer.from('a'.repeat(200)), type: 'file', size: 1000, xattrs: new Map([['user.x', Buffer.from('y')]]) }, data: Buffer.alloc(1000, 1) },
    { header: { ...base, path: Buffer.from('l'), type: 'hardlink', linkname: Buffer.from('a'.repeat(200)) } },
    { header: { ...base, path: Buffer.from('s'), type: 'symlink', linkname: Buffer.from('target') } },
  ]);
  let seed = 42;
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const outcomes = { read: 0, refused: 0 };
  for (let round = 0; round < 3000; round++) {
    const bytes = Buffer.from(valid);
    for (let k = 0; k <= random(4); k++) bytes[random(bytes.length)] = random(256);
    const cut = round % 5 === 0 ? bytes.subarray(0, random(bytes.length)) : bytes;
    try {
      await readAll(cut, 1 + random(2000));
      outcomes.read += 1;
    } catch (error) {
      assert.ok(error instanceof TarFormatError, `round ${round}: ${String(error)}`);
      assert.equal(error.code, 'ETAR_INVALID');
      outcomes.refused += 1;
    }
  }
  // Both outcomes happen: changes in contents or padding still read, changes in headers are refused.
  assert.ok(outcomes.read > 100 && outcomes.refused > 100, JSON.stringify(outcomes));
});
