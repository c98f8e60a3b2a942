// The read-only archive view (src/archive/browse.ts) over a real repository on a memory backend, counted by the
// store's request accounting: a 4 KiB read of a large file fetches only the chunk(s) covering it, the item stream is
// read once, ranged reads and streams are byte-exact anywhere in a file, hard links and symlinks resolve, and folders
// that have no item of their own still appear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { openArchiveTree } from '../../src/archive/browse.js';
import { createArchive } from '../../src/archive/create.js';
import { PathNotFoundError } from '../../src/archive/errors.js';
import { archiveRootPath } from '../../src/archive/walk.js';
import { Repository } from '../../src/repository/index.js';
import { RequestCounter, withAccounting } from '../../src/store/index.js';
import { testCodec } from './helpers/context.js';

const BIG = 3 * 1024 * 1024 + 123;

/** A repository with one archive of a small tree (a 3 MiB random file in ~16 KiB chunks), reopened read-only and counted. */
async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-browse-'));
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub', 'deep'), { recursive: true });
  const big = randomBytes(BIG);
  await writeFile(join(src, 'big.bin'), big);
  await writeFile(join(src, 'sub', 'notes.txt'), 'hello\n');
  await writeFile(join(src, 'sub', 'deep', 'b.txt'), 'bee');
  await writeFile(join(src, 'hard-a'), 'linked\n');
  await link(join(src, 'hard-a'), join(src, 'sub', 'hard-b'));
  await symlink('sub/notes.txt', join(src, 'link'));
  const backend = createMemoryBackend();
  const codec = testCodec();
  const writer = await Repository.create(backend, { segmentSize: 1 << 20 });
  await createArchive({ repository: writer, codec }, { name: 'a', paths: [src], cacheDir: join(dir, 'cache') });
  await writer.close();
  const counter = new RequestCounter();
  const repository = await Repository.open(withAccounting(backend, counter), { readOnly: true, lock: false });
  const ctx = { repository, codec };
  return {
    ctx, counter, big, prefix: archiveRootPath(src),
    async cleanup() { await repository.close(); await rm(dir, { recursive: true, force: true }); },
  };
}

test('a 4 KiB read of a large file fetches only the chunk covering it, and a second read of it nothing', async () => {
  const f = await fixture();
  try {
    const tree = await openArchiveTree(f.ctx, 'a');
    const path = `${f.prefix}/big.bin`;
    const entry = await tree.stat(path);
    assert.equal(entry?.size, BIG);
    // The covering chunk, from the item's own chunk list (as the test knows it independently of the view).
    const { readItems } = await import('../../src/archive/item-stream.js');
    let chunks: { id: Uint8Array; size: number }[] = [];
    for await (const item of readItems(f.ctx, tree.record.items)) if (Buffer.from(item.path).toString() === path) chunks = item.chunks!;
    assert.ok(chunks.length > 50, `a large file in many chunks (${chunks.length})`);
    let at = 0;
    const offset = 2_000_000;
    let covering = -1;
    for (let i = 0; i < chunks.length; i++) { if (at <= offset && offset < at + chunks[i].size) covering = i; at += chunks[i].size; }
    // A range wholly inside one chunk (start at that chunk's beginning).
    const start = chunks.slice(0, covering).reduce((n, c) => n + c.size, 0);
    const length = Math.min(4096, chunks[covering].size);
    const before = f.counter.usage();
    const got = await tree.read(path, start, length);
    const after = f.counter.usage();
    assert.deepEqual(Buffer.from(got), f.big.subarray(start, start + length));
    const stored = f.ctx.repository.storedSize(chunks[covering].id)!;
    assert.equal(after.requests.get - before.requests.get, 1, 'one get for one chunk');
    assert.ok(after.bytesDown - before.bytesDown <= stored + 64, `read ${after.bytesDown - before.bytesDown} bytes, the chunk is ${stored}`);
    assert.ok(after.bytesDown - before.bytesDown < BIG / 20);
    assert.equal(after.requests.put + after.requests.delete, 0);
    // Again, and the next 100 bytes: the chunk is kept.
    const again = await tree.read(path, start + 10, 100);
    assert.deepEqual(Buffer.from(again), f.big.subarray(start + 10, start + 110));
    assert.equal(f.counter.usage().requests.get, after.requests.get);
  } finally {
    await f.cleanup();
  }
});

test('the item stream is read once; reads and streams are byte-exact at any range, across chunk boundaries', async () => {
  const f = await fixture();
  try {
    const tree = await openArchiveTree(f.ctx, 'a', { cachedChunks: 2 });
    const path = `/${f.prefix}/big.bin/`;
    await tree.stat('');
    const afterIndex = f.counter.usage().requests.get;
    await tree.list(f.prefix);
    await tree.stat(`${f.prefix}/sub/notes.txt`);
    assert.equal(f.counter.usage().requests.get, afterIndex, 'stat and list after the first call read nothing');
    for (let n = 0; n < 25; n++) {
      const offset = Math.floor(Math.random() * (BIG + 100));
      const length = Math.floor(Math.random() * 200_000);
      assert.deepEqual(Buffer.from(await tree.read(path, offset, length)), f.big.subarray(offset, offset + length), `read ${offset}+${length}`);
    }
    assert.equal((await tree.read(path, BIG, 10)).length, 0);
    const parts: Buffer[] = [];
    for await (const piece of tree.stream(path, 1000, 1_500_000)) parts.push(Buffer.from(piece));
    assert.deepEqual(Buffer.concat(parts), f.big.subarray(1000, 1_501_000));
    parts.length = 0;
    for await (const piece of tree.stream(path)) parts.push(Buffer.from(piece));
    assert.deepEqual(Buffer.concat(parts), f.big);
  } finally {
    await f.cleanup();
  }
});

test('folders without items appear, children are sorted, hard links and symlinks resolve, missing paths are typed', async () => {
  const f = await fixture();
  try {
    const tree = await openArchiveTree(f.ctx, 'a');
    const top = f.prefix.split('/')[0];
    const root = await tree.list('');
    assert.deepEqual(root.map((e) => e.name), [top]);
    assert.equal(root[0].type, 'dir');
    const names = (await tree.list(f.prefix)).map((e) => e.name);
    assert.deepEqual(names, ['big.bin', 'hard-a', 'link', 'sub']);
    const a = await tree.stat(`${f.prefix}/hard-a`);
    const b = await tree.stat(`${f.prefix}/sub/hard-b`);
    assert.equal(a?.nlink, 2);
    assert.equal(b?.nlink, 2);
    assert.equal(Buffer.from(await tree.read(`${f.prefix}/sub/hard-b`, 0, 100)).toString(), 'linked\n');
    const l = await tree.stat(`${f.prefix}/link`);
    assert.equal(l?.type, 'symlink');
    assert.equal(l?.linkTarget, 'sub/notes.txt');
    assert.equal((await tree.read(`${f.prefix}/link`, 0, 10)).length, 0);
    const sub = await tree.stat(`${f.prefix}/sub`);
    assert.equal(sub?.children, 3);
    assert.equal(sub?.total, 6 + 3 + 7);
    assert.equal((await tree.stat(f.prefix))?.total, BIG + 6 + 3 + 7 + 7);
    assert.deepEqual(await tree.list(`${f.prefix}/big.bin`), []);
    assert.equal(await tree.stat(`${f.prefix}/nope`), undefined);
    await assert.rejects(tree.list(`${f.prefix}/nope`), (e: unknown) => e instanceof PathNotFoundError && e.code === 'EPATH_NOT_FOUND');
    await assert.rejects(tree.read(`${f.prefix}/nope/x`, 0, 1), (e: unknown) => e instanceof PathNotFoundError);
    assert.equal(await tree.skipped(), 0);
  } finally {
    await f.cleanup();
  }
});
