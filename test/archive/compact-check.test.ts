// delete + compact frees exactly the chunks no remaining archive references; check finds a flipped bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createArchive } from '../../src/archive/create.js';
import { deleteArchives } from '../../src/archive/delete.js';
import { compactArchives } from '../../src/archive/compact.js';
import { checkArchives } from '../../src/archive/check.js';
import { extractArchive } from '../../src/archive/extract.js';
import { readRecord } from '../../src/archive/archive-record.js';
import { readItems } from '../../src/archive/item-stream.js';
import { ArchiveNotFoundError } from '../../src/archive/errors.js';
import { makeFixture, type Fixture } from './helpers/context.js';

/** Every chunk id (hex) an archive references: item-stream chunks and file chunks. */
async function idsOf(f: Fixture, name: string): Promise<Set<string>> {
  const record = await readRecord(f.ctx, name);
  const ids = new Set(record.items.map((id) => Buffer.from(id).toString('hex')));
  for await (const item of readItems(f.ctx, record.items)) for (const c of item.chunks ?? []) ids.add(Buffer.from(c.id).toString('hex'));
  return ids;
}

test('delete then compact frees exactly the unreferenced chunks', async () => {
  const f = await makeFixture();
  try {
    const shared = join(f.dir, 'shared');
    const onlyA = join(f.dir, 'only-a');
    await mkdir(shared);
    await mkdir(onlyA);
    await writeFile(join(shared, 'common'), randomBytes(200_000));
    await writeFile(join(onlyA, 'a-data'), randomBytes(150_000));
    await createArchive(f.ctx, { name: 'a', paths: [shared, onlyA], cacheDir: f.cacheDir });
    await createArchive(f.ctx, { name: 'b', paths: [shared], cacheDir: f.cacheDir });
    const a = await idsOf(f, 'a');
    const b = await idsOf(f, 'b');
    const expectedFreed = [...a].filter((id) => !b.has(id)).length;
    assert.ok(expectedFreed > 5);
    const before = f.ctx.repository.count;
    assert.equal(before, new Set([...a, ...b]).size, 'nothing unreferenced before the delete');
    assert.deepEqual(await deleteArchives(f.ctx, { glob: 'a*' }), ['a']);
    await assert.rejects(deleteArchives(f.ctx, { names: ['a'] }), ArchiveNotFoundError);
    await f.reopen({ exclusive: true });
    const bytesBefore = await storedBytes(f);
    const result = await compactArchives(f.ctx, { threshold: 0.99 });
    assert.equal(result.deletedChunks, expectedFreed);
    assert.equal(f.ctx.repository.count, b.size);
    const remaining = new Set([...f.ctx.repository.ids()].map((id) => Buffer.from(id).toString('hex')));
    assert.deepEqual(remaining, b);
    assert.ok(await storedBytes(f) < bytesBefore - 150_000, 'the space of a-data is given back');
    await f.reopen();
    const report = await checkArchives(f.ctx, { verifyData: true });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    await extractArchive(f.ctx, 'b', { target: join(f.dir, 'out') });
  } finally {
    await f.cleanup();
  }
});

async function storedBytes(f: Fixture): Promise<number> {
  let n = 0;
  for await (const { size } of f.backend.list('data/')) n += size;
  return n;
}

test('check --verify-data finds a flipped bit; --archives-only does not read data', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'file'), randomBytes(500_000));
    await createArchive(f.ctx, { name: 'x', paths: [src], cacheDir: f.cacheDir });
    await f.ctx.repository.close();
    // Flip one bit in the middle of the largest segment (file data, not headers).
    let largest = { key: '', size: 0 };
    for await (const e of f.backend.list('data/')) if (e.size > largest.size) largest = e;
    const bytes = new Uint8Array(await f.backend.get(largest.key));
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    await f.backend.put(largest.key, bytes);
    await f.reopen();
    const quick = await checkArchives(f.ctx);
    assert.equal(quick.ok, true, 'archives-only: every chunk is present');
    assert.equal(quick.verifiedChunks, 0);
    const full = await checkArchives(f.ctx, { verifyData: true });
    assert.equal(full.ok, false);
    assert.equal(full.problems.length, 1);
    assert.equal(full.problems[0].kind, 'corrupt-chunk');
    assert.equal(full.verifiedChunks, full.referencedChunks - 1);
    const sample = await checkArchives(f.ctx, { verifyData: true, subsetPercent: 10 });
    assert.equal(sample.verifiedChunks + sample.problems.length, Math.ceil(full.referencedChunks / 10));
  } finally {
    await f.cleanup();
  }
});
