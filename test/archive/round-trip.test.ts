// create → extract is byte-exact for a tree with every item type, names that are not UTF-8, hard links,
// a sparse file (restored sparse), a FIFO and a device node, with modes, owners and times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { access, readFile } from 'node:fs/promises';
import { createArchive } from '../../src/archive/create.js';
import { extractArchive } from '../../src/archive/extract.js';
import { makeFixture } from './helpers/context.js';
import { assertSameTree, buildTree, snapshot } from './helpers/tree.js';

test('round trip of every item type and its metadata', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await buildTree(src);
    const before = await snapshot(src);
    const created = await createArchive(f.ctx, { name: 'one', paths: [src], cacheDir: f.cacheDir });
    assert.deepEqual(created.warnings, []);
    assert.equal(created.stats.files, 8);
    assert.equal(created.stats.filesRead, 7, 'the second hard link is not read again');
    await f.reopen();
    const dry = await extractArchive(f.ctx, 'one', { target: join(f.dir, 'dry'), dryRun: true, patterns: ['re:/sub/'] });
    assert.equal(dry.files, 3, 'sub/big.bin, sub/deep/text, sub/hard2');
    await assert.rejects(access(join(f.dir, 'dry')), 'a dry run writes nothing');
    // hard1 is left out by the pattern: its other link, sub/hard2, carries the data itself.
    const part = join(f.dir, 'part');
    await extractArchive(f.ctx, 'one', { target: part, patterns: ['re:/sub/hard2$'], stripComponents: src.split('/').filter(Boolean).length });
    assert.deepEqual(await readFile(join(part, 'sub/hard2')), await readFile(join(src, 'hard1')));
    const out = join(f.dir, 'out');
    const extracted = await extractArchive(f.ctx, 'one', { target: out, stripComponents: src.split('/').filter(Boolean).length });
    assert.deepEqual(extracted.warnings, []);
    const after = await snapshot(out);
    assertSameTree(before, after);
    const sparse = [...after.entries()].find(([k]) => Buffer.from(k, 'hex').toString() === 'sparse')![1];
    assert.ok(sparse.blocks * 512n < sparse.size / 2n, `sparse file restored with holes (${sparse.blocks} blocks)`);
  } finally {
    await f.cleanup();
  }
});
