// Builds a tree with every item type and compares two trees byte for byte, metadata included.
import { execFileSync } from 'node:child_process';
import { chmod, chown, link, lstat, lutimes, mkdir, open, readdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

const B = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));
const join = (...parts: Buffer[]) => Buffer.concat(parts.flatMap((p, i) => (i ? [B('/'), p] : [p])));

/** Seconds since the epoch, a fixed past time with a sub-microsecond part. */
export const PAST = 1_600_000_000.123456;

/** Creates `root` holding files, folders, symlinks, hard links, a sparse file, a FIFO, a device and non-UTF-8 names. */
export async function buildTree(root: string): Promise<void> {
  const r = B(root);
  await mkdir(root, { recursive: true });
  await mkdir(join(r, B('sub/deep')), { recursive: true });
  await writeFile(join(r, B('empty')), '');
  await writeFile(join(r, B('small.txt')), 'hello cairn\n');
  await writeFile(join(r, B('sub/big.bin')), randomBytes(300_000));
  await writeFile(join(r, B('sub/deep/text')), 'lorem ipsum '.repeat(20000));
  await writeFile(join(r, B([0x62, 0x61, 0x64, 0xff, 0xfe])), 'not utf-8 name');
  await symlink(B([0x2e, 0x2e, 0x2f, 0xff]), join(r, B('sub/link-bad-target')));
  await symlink('small.txt', join(r, B('link')));
  await writeFile(join(r, B('hard1')), randomBytes(70_000));
  await link(join(r, B('hard1')), join(r, B('sub/hard2')));
  const sparse = await open(join(r, B('sparse')), 'w');
  await sparse.write(B('data in the middle'), 0, 18, 2 * 1024 * 1024);
  await sparse.truncate(4 * 1024 * 1024);
  await sparse.close();
  execFileSync('mkfifo', [`${root}/fifo`]);
  execFileSync('mknod', [`${root}/null-dev`, 'c', '1', '3']);
  await chmod(join(r, B('small.txt')), 0o4750);
  await chmod(join(r, B('sub/deep')), 0o711);
  await chown(join(r, B('small.txt')), 1234, 5678);
  // Times last, folders after their contents.
  for (const p of ['empty', 'small.txt', 'sub/big.bin', 'sub/deep/text', 'hard1', 'sparse', 'fifo', 'null-dev']) await utimes(join(r, B(p)), PAST - 100, PAST);
  await utimes(join(r, B([0x62, 0x61, 0x64, 0xff, 0xfe])), PAST, PAST);
  await lutimes(join(r, B('link')), PAST, PAST - 5);
  for (const p of ['sub/deep', 'sub', '.']) await utimes(join(r, B(p)), PAST, PAST - 1);
}

interface Node {
  mode: number; uid: number; gid: number; size: bigint; mtimeNs: bigint; rdev: bigint; nlink: bigint;
  ino: bigint; blocks: bigint; content?: string; target?: string;
}

/** Every object under `root` by relative path (hex of the raw name bytes for non-UTF-8 safety). */
export async function snapshot(root: string): Promise<Map<string, Node>> {
  const out = new Map<string, Node>();
  async function visit(dir: Buffer, rel: Buffer): Promise<void> {
    for (const name of (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare)) {
      const p = join(dir, name);
      const relP = rel.length ? join(rel, name) : name;
      const st = await lstat(p, { bigint: true });
      const node: Node = { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: st.size, mtimeNs: st.mtimeNs, rdev: st.rdev, nlink: st.nlink, ino: st.ino, blocks: st.blocks };
      if (st.isFile()) node.content = (await readFile(p)).toString('hex');
      if (st.isSymbolicLink()) node.target = (await readlink(p, { encoding: 'buffer' })).toString('hex');
      out.set(relP.toString('hex'), node);
      if (st.isDirectory()) await visit(p, relP);
    }
  }
  await visit(B(root), B(''));
  return out;
}

/** Asserts two snapshots hold the same objects, contents, modes, owners, devices, hard links and mtimes (to 1 µs). */
export function assertSameTree(a: Map<string, Node>, b: Map<string, Node>): void {
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [key, x] of a) {
    const y = b.get(key)!;
    const what = Buffer.from(key, 'hex').toString();
    assert.equal(y.mode, x.mode, `mode of ${what}`);
    assert.equal(y.uid, x.uid, `uid of ${what}`);
    assert.equal(y.gid, x.gid, `gid of ${what}`);
    assert.equal(y.size, x.size, `size of ${what}`);
    assert.equal(y.content, x.content, `content of ${what}`);
    assert.equal(y.target, x.target, `target of ${what}`);
    assert.equal(y.rdev, x.rdev, `rdev of ${what}`);
    assert.equal(y.nlink, x.nlink, `links of ${what}`);
    const diff = y.mtimeNs - x.mtimeNs;
    assert.ok(diff > -1000n && diff < 1000n, `mtime of ${what}: ${x.mtimeNs} vs ${y.mtimeNs}`);
  }
}
