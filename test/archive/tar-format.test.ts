// The tar writer of dump (tar-format.ts), read back by the system's tar and by Python's tarfile: names longer than
// ustar holds (split and pax), long link targets, big ids, non-ASCII owner names, nanosecond and pre-1970 mtimes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarEnd, tarHeader, type TarHeader } from '../../src/archive/tar-format.js';

const base: Omit<TarHeader, 'path' | 'type'> = { mode: 0o644, uid: 1000, gid: 1000, size: 0, mtime: 1_700_000_000_123_456_789n };
const long = 'd'.repeat(120);

function build(members: { header: TarHeader; data?: Buffer }[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const { header, data } of members) {
    parts.push(tarHeader(header));
    if (data) { parts.push(data); parts.push(new Uint8Array((512 - (data.length % 512)) % 512)); }
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

test('tar headers: long names, long link targets, big ids, owner names and nanosecond mtimes read back exactly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-tar-'));
  try {
    const data = Buffer.from('contents\n');
    const members = [
      { header: { ...base, path: Buffer.from(long), type: 'dir' as const, mode: 0o750 } },
      { header: { ...base, path: Buffer.from(`${long}/${'f'.repeat(99)}`), type: 'file' as const, size: data.length }, data },
      { header: { ...base, path: Buffer.from(`${long}/${'g'.repeat(130)}`), type: 'file' as const, size: data.length, uid: 3_000_000, gid: 2_500_000, uname: 'ünïcode', gname: 'g'.repeat(40) }, data },
      { header: { ...base, path: Buffer.from('link'), type: 'symlink' as const, mode: 0o777, linkname: Buffer.from(`/${'t'.repeat(150)}`) } },
      { header: { ...base, path: Buffer.from('old.txt'), type: 'file' as const, size: data.length, mtime: -1_500_000_000n }, data },
      { header: { ...base, path: Buffer.from('hard'), type: 'hardlink' as const, linkname: Buffer.from('old.txt') } },
    ];
    const tar = build(members);
    await writeFile(join(dir, 'x.tar'), tar);
    const py = spawnSync('python3', ['-c', `
import tarfile, json, sys
out = []
for m in tarfile.open(sys.argv[1], format=tarfile.PAX_FORMAT):
    out.append([m.name, m.type.decode(), m.linkname, m.uid, m.gid, m.uname, m.gname, m.size, oct(m.mode), m.pax_headers.get('mtime', str(m.mtime))])
print(json.dumps(out))`, join(dir, 'x.tar')], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    assert.deepEqual(JSON.parse(py.stdout), [
      [long, '5', '', 1000, 1000, '', '', 0, '0o750', '1700000000.123456789'],
      [`${long}/${'f'.repeat(99)}`, '0', '', 1000, 1000, '', '', 9, '0o644', '1700000000.123456789'],
      [`${long}/${'g'.repeat(130)}`, '0', '', 3_000_000, 2_500_000, 'ünïcode', 'g'.repeat(40), 9, '0o644', '1700000000.123456789'],
      ['link', '2', `/${'t'.repeat(150)}`, 1000, 1000, '', '', 0, '0o777', '1700000000.123456789'],
      ['old.txt', '0', '', 1000, 1000, '', '', 9, '0o644', '-1.500000000'],
      ['hard', '1', 'old.txt', 1000, 1000, '', '', 0, '0o644', '1700000000.123456789'],
    ]);
    const x = spawnSync('tar', ['--numeric-owner', '-xpf', join(dir, 'x.tar'), '-C', dir], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr); // (GNU tar notes the pre-1970 time on stderr)
    const st = await lstat(join(dir, long, 'f'.repeat(99)), { bigint: true });
    assert.equal(st.mtimeNs, 1_700_000_000_123_456_789n);
    assert.equal(await readFile(join(dir, long, 'g'.repeat(130)), 'utf8'), 'contents\n');
    assert.equal(await readlink(join(dir, 'link')), `/${'t'.repeat(150)}`);
    assert.equal((await lstat(join(dir, 'old.txt'), { bigint: true })).mtimeNs, -1_500_000_000n);
    assert.equal((await lstat(join(dir, 'hard'))).ino, (await lstat(join(dir, 'old.txt'))).ino);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
