// End to end: what a command says when the damage campaign (test/campaigns/damage.ts) damaged the
// repository under it: one line, exit 2, naming the damage and saying what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, oneLine, workspace } from './helpers.js';

test('a chunk the index does not have (index object deleted): extract fails in one line that points at check and check --repair', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), randomBytes(50_000));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    for (const name of await readdir(join(ws.repo, 'index'))) await rm(join(ws.repo, 'index', name));
    const r = await cairn(['-r', ws.repo, '--no-cache', 'extract', 'a1', '--target', join(ws.dir, 'out')]);
    assert.equal(r.code, 2, r.stderr);
    const line = oneLine(r.stderr);
    assert.match(line, /"cairn check"/);
    assert.match(line, /"cairn check --repair"/);
  } finally {
    await ws.cleanup();
  }
});

test('a damaged lock object (garbage, or JSON null): readers go on; compact fails in one line naming the lock, and break-lock removes it', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'alpha\n');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    await mkdir(join(ws.repo, 'locks'), { recursive: true });
    const key = 'locks/shared-0123456789abcdef';
    for (const content of ['{"session":"0123456789abcdef","exclusive":false,"ti', 'null']) {
      await writeFile(join(ws.repo, key), content);
      const listed = await cairn(['-r', ws.repo, 'rlist']);
      assert.equal(listed.code, 0, `${content}: ${listed.stderr}`);
      const compacted = await cairn(['-r', ws.repo, 'compact']);
      assert.equal(compacted.code, 2, compacted.stderr);
      const line = oneLine(compacted.stderr.split('\n').filter((l) => !/^\w+: \d+ requests/.test(l)).join('\n'));
      assert.match(line, new RegExp(key), content);
      assert.match(line, /break-lock/);
    }
    await ok(['-r', ws.repo, 'break-lock', '--yes']);
    await ok(['-r', ws.repo, 'compact']);
  } finally {
    await ws.cleanup();
  }
});
