// With a codec that opens chunks in batches (as the engine's chunk reader does on workers), extract
// and check --verify-data take the batch path: byte-exact restore, every chunk verified, and a
// damaged chunk still reported on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createArchive } from '../../src/archive/create.js';
import { extractArchive } from '../../src/archive/extract.js';
import { checkArchives } from '../../src/archive/check.js';
import { makeFixture } from './helpers/context.js';
import { assertSameTree, buildTree, snapshot } from './helpers/tree.js';

test('extract and check use openMany when the codec has it', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await buildTree(src);
    const before = await snapshot(src);
    await createArchive(f.ctx, { name: 'one', paths: [src], cacheDir: f.cacheDir });
    await f.reopen();
    const plain = f.ctx.codec;
    let batches = 0;
    const openMany = async (ids: readonly Uint8Array[], stored: readonly Uint8Array[]): Promise<Uint8Array[]> => {
      batches += 1;
      return Promise.all(ids.map((id, i) => plain.open(id, stored[i])));
    };
    f.ctx.codec = Object.assign(Object.create(plain) as typeof plain, plain, { openMany });
    const out = join(f.dir, 'out');
    await extractArchive(f.ctx, 'one', { target: out, stripComponents: src.split('/').filter(Boolean).length });
    assertSameTree(before, await snapshot(out));
    assert.ok(batches > 0, 'extract opened chunks through openMany');
    batches = 0;
    const ok = await checkArchives(f.ctx, { verifyData: true });
    assert.equal(ok.ok, true);
    assert.equal(ok.verifiedChunks, ok.referencedChunks);
    assert.ok(batches > 0, 'check opened chunks through openMany');
    // Flip a bit in the largest segment: the batch fails, its chunks are re-read one by one.
    let largest = { key: '', size: 0 };
    for await (const e of f.backend.list('data/')) if (e.size > largest.size) largest = e;
    const bytes = new Uint8Array(await f.backend.get(largest.key));
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    await f.backend.put(largest.key, bytes);
    await f.reopen();
    const bad = await checkArchives(f.ctx, { verifyData: true });
    assert.equal(bad.problems.length, 1);
    assert.equal(bad.problems[0].kind, 'corrupt-chunk');
    assert.equal(bad.verifiedChunks, bad.referencedChunks - 1);
  } finally {
    await f.cleanup();
  }
});
