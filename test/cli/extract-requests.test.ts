// A restore of many small files reads their chunks in batches (issue 13): through the executable,
// the GETs of `extract` stay a small fraction of the files, and the restore is byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSameTree, describeTree, ok, workspace } from './helpers.js';

test('extract of 2 000 small files: under one GET per 25 files, byte-exact', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    for (let d = 0; d < 20; d++) {
      await mkdir(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) await writeFile(join(src, `d${d}`, `f${f}`), randomBytes(20 + ((d * 100 + f) * 7919) % 3000));
    }
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a', 'src'], { cwd: ws.dir });
    const out = join(ws.dir, 'out');
    await mkdir(out);
    const result = JSON.parse((await ok(['-r', ws.repo, '--json', 'extract', 'a'], { cwd: out })).trim().split('\n').at(-1)!) as { files: number; backend: { requests: { get: number } } };
    assert.equal(result.files, 2000);
    // Before batching across files: about one GET per file (2 000); the item stream and the key add a few.
    assert.ok(result.backend.requests.get < 2000 / 25, `${result.backend.requests.get} GETs for 2 000 files`);
    assertSameTree(await describeTree(join(out, 'src')), await describeTree(src));
  } finally {
    await ws.cleanup();
  }
});
