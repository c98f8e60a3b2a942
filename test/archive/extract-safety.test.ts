// Extraction never writes outside the target: "..", absolute paths and writes through an extracted
// symlink are refused with UnsafePathError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkWriter } from '../../src/archive/chunk-writer.js';
import { ItemStreamWriter } from '../../src/archive/item-stream.js';
import { writeRecord } from '../../src/archive/archive-record.js';
import { extractArchive } from '../../src/archive/extract.js';
import { UnsafePathError } from '../../src/archive/errors.js';
import { S_IFDIR, S_IFLNK, S_IFREG, type Item } from '../../src/archive/item.js';
import { makeFixture, type Fixture } from './helpers/context.js';

async function forge(f: Fixture, name: string, items: Item[]): Promise<void> {
  const stats = { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0 };
  const writer = new ChunkWriter(f.ctx, stats);
  const stream = new ItemStreamWriter(f.ctx, writer);
  for (const item of items) {
    if ((item.mode & S_IFREG) === S_IFREG && !item.chunks) {
      const data = Buffer.from('owned');
      item.chunks = [await writer.store(data)];
      item.size = data.length;
    }
    await stream.add(item);
  }
  const ids = await stream.finish();
  await f.ctx.repository.commit();
  await writeRecord(f.ctx, { name, start: 0n, end: 0n, host: 'h', user: 'u', command: [], comment: '', checkpoint: false, items: ids, stats }, { ifAbsent: true });
}

const file = (path: string): Item => ({ path: Buffer.from(path), mode: S_IFREG | 0o644, uid: 0, gid: 0, mtime: 0n });

test('item paths with "..", absolute paths and writes through symlinks are refused', async () => {
  const f = await makeFixture();
  try {
    const outside = join(f.dir, 'outside');
    await mkdir(outside);
    await forge(f, 'dotdot', [file('ok'), file('a/../../evil')]);
    await forge(f, 'absolute', [file(`${outside}/evil`)]);
    await forge(f, 'symlink', [
      { path: Buffer.from('d'), mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: 0n },
      { path: Buffer.from('d/link'), mode: S_IFLNK | 0o777, uid: 0, gid: 0, mtime: 0n, target: Buffer.from(outside) },
      file('d/link/evil'),
    ]);
    await forge(f, 'repeated', [
      { path: Buffer.from('d'), mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: 0n },
      { path: Buffer.from('d/link'), mode: S_IFLNK | 0o777, uid: 0, gid: 0, mtime: 0n, target: Buffer.from(outside) },
      { path: Buffer.from('d/link'), mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: 0n },
      file('d/link/evil'),
    ]);
    // A path repeated with another type replaces the symlink by a real folder: the file lands inside.
    await extractArchive(f.ctx, 'repeated', { target: join(f.dir, 'target-repeated') });
    await access(join(f.dir, 'target-repeated/d/link/evil'));
    for (const name of ['dotdot', 'absolute', 'symlink']) {
      const target = join(f.dir, `target-${name}`);
      await assert.rejects(extractArchive(f.ctx, name, { target }), (e: unknown) => e instanceof UnsafePathError && e.code === 'EUNSAFE_PATH', name);
    }
    assert.deepEqual(await readdir(outside), []);
    await assert.rejects(access(join(f.dir, 'evil')));
  } finally {
    await f.cleanup();
  }
});
