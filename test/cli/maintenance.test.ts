// End to end: prune, compact frees exactly the unreferenced data, check finds a flipped bit,
// and bad input (wrong passphrase, no repository) fails with exit 2 and one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cairn, assertSameTree, describeTree, ok, oneLine, workspace } from './helpers.js';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out;
}

test('prune --dry-run --list decides, prune deletes, rlist shows the rest', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'a');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    // keep-last is Borg's keep-secondly: archives of the same second are one period, so space them.
    for (const n of ['a1', 'a2', 'a3', 'a4']) {
      await ok(['-r', ws.repo, 'create', n, '.'], { cwd: src });
      await sleep(1100);
    }
    // JSON lines, one per archive, then the request accounting line.
    const lines = (await ok(['-r', ws.repo, '--json', 'prune', '--keep-last', '2', '--dry-run', '--list'])).trim().split('\n').map((l) => JSON.parse(l) as { name: string; action: string; backend?: unknown });
    assert.ok(lines.pop()?.backend);
    const dry = lines;
    assert.deepEqual(dry.map((d) => [d.name, d.action]), [['a4', 'keep'], ['a3', 'keep'], ['a2', 'would prune'], ['a1', 'would prune']]);
    const before = JSON.parse(await ok(['-r', ws.repo, '--json', 'rlist'])) as { archives: { name: string }[] };
    assert.equal(before.archives.length, 4);
    await ok(['-r', ws.repo, 'prune', '--keep-last', '2']);
    const after = JSON.parse(await ok(['-r', ws.repo, '--json', 'rlist'])) as { archives: { name: string }[] };
    assert.deepEqual(after.archives.map((a) => a.name), ['a3', 'a4']);
  } finally {
    await ws.cleanup();
  }
});

test('compact frees exactly the chunks only a deleted archive referenced; the rest restores byte-exact', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    // Both files are below the chunker's 512 KiB minimum, so each is exactly one chunk whatever the
    // repository's random chunker seed (a 1 MiB file was cut in two now and then: a flaky 3 !== 2).
    await writeFile(join(src, 'shared.bin'), randomBytes(300 * 1024));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'keep', '.'], { cwd: src });
    await writeFile(join(src, 'only-in-gone.bin'), randomBytes(300 * 1024));
    await ok(['-r', ws.repo, '--json', 'create', 'gone', '.'], { cwd: src });
    await rm(join(src, 'only-in-gone.bin'));
    await ok(['-r', ws.repo, 'delete', 'gone']);
    const compacted = JSON.parse(await ok(['-r', ws.repo, '--json', 'compact'])) as { deletedChunks: number; liveChunks: number };
    // One data chunk (the file below the minimum chunk size) and the item stream of "gone".
    assert.equal(compacted.deletedChunks, 2);
    const again = JSON.parse(await ok(['-r', ws.repo, '--json', 'compact'])) as { deletedChunks: number };
    assert.equal(again.deletedChunks, 0);
    await ok(['-r', ws.repo, 'check', '--verify-data']);
    const target = join(ws.dir, 'restore');
    await mkdir(target);
    await ok(['-r', ws.repo, 'extract', 'keep'], { cwd: target });
    assertSameTree(await describeTree(target), await describeTree(src));
  } finally {
    await ws.cleanup();
  }
});

test('check --verify-data finds one flipped bit in a segment (exit 2)', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'data.bin'), randomBytes(2 * 1024 * 1024));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a', '.'], { cwd: src });
    await ok(['-r', ws.repo, 'check', '--verify-data']);
    const segments = (await files(join(ws.repo, 'data')));
    const sizes = await Promise.all(segments.map(async (p) => (await stat(p)).size));
    const biggest = segments[sizes.indexOf(Math.max(...sizes))]!;
    const handle = await open(biggest, 'r+');
    const at = Math.floor(Math.max(...sizes) / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0x10;
    await handle.write(byte, 0, 1, at);
    await handle.close();
    const r = await cairn(['-r', ws.repo, 'check', '--verify-data']);
    assert.equal(r.code, 2);
  } finally {
    await ws.cleanup();
  }
});

test('wrong passphrase, missing repository, existing repository: exit 2, one line, nothing changed', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const wrong = await cairn(['-r', ws.repo, 'rlist'], { env: { CAIRN_PASSPHRASE: 'not it' } });
    assert.equal(wrong.code, 2);
    assert.doesNotMatch(oneLine(wrong.stderr), /not it/);
    const missing = await cairn(['-r', join(ws.dir, 'nothing-here'), 'rlist']);
    assert.equal(missing.code, 2);
    oneLine(missing.stderr);
    const twice = await cairn(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    assert.equal(twice.code, 2);
    oneLine(twice.stderr);
    await ok(['-r', ws.repo, 'rlist']);
  } finally {
    await ws.cleanup();
  }
});
