// End to end: a create killed with SIGKILL leaves a usable repository and the next create reuses
// what it stored; two creates at once into one repository both succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSameTree, cairn, describeTree, ok, startCairn, workspace } from './helpers.js';

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await bytesUnder(p) : (await stat(p)).size;
  }
  return total;
}

test('SIGKILL during create: the repository stays usable and the next create reuses stored chunks', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 48; i++) await writeFile(join(src, `part-${i}.bin`), randomBytes(4 * 1024 * 1024));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    // Committed index deltas only: the fs backend's temp files (".tmp-*") are not objects yet.
    const indexObjects = async () => (await readdir(join(ws.repo, 'index')).catch(() => [])).filter((n) => !n.startsWith('.')).length;
    const before = await indexObjects();
    const child = startCairn(['-r', ws.repo, 'create', '--checkpoint-interval', '1', '--compression', 'none', 'big', '.'], { cwd: src });
    const exited = new Promise((done) => child.on('close', done));
    const deadline = Date.now() + 30000;
    // Kill right after the first checkpoint was committed (a new index delta appears), mid-run.
    while (Date.now() < deadline && (await indexObjects()) === before) await sleep(20);
    child.kill('SIGKILL');
    assert.ok((await bytesUnder(join(ws.repo, 'data'))) > 0);
    await exited;
    const checked = await cairn(['-r', ws.repo, '--json', 'check']);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    const committed = JSON.parse(await ok(['-r', ws.repo, '--json', 'rinfo'])) as { chunks: number };
    const second = JSON.parse(await ok(['-r', ws.repo, '--json', 'create', '--compression', 'none', 'big', '.'], { cwd: src })) as { stats: { original: number; deduplicated: number } };
    // Every file chunk the checkpoint committed is reused, not stored again.
    assert.ok(committed.chunks > 0);
    assert.ok(second.stats.deduplicated < second.stats.original, `reused nothing: ${JSON.stringify(second.stats)}`);
    const target = join(ws.dir, 'restore');
    await mkdir(target);
    await ok(['-r', ws.repo, 'extract', 'big'], { cwd: target });
    assertSameTree(await describeTree(target), await describeTree(src));
  } finally {
    await ws.cleanup();
  }
});

test('two creates at once into one repository both succeed and both restore', async () => {
  const ws = await workspace();
  try {
    const a = join(ws.dir, 'a');
    const b = join(ws.dir, 'b');
    await mkdir(a);
    await mkdir(b);
    for (let i = 0; i < 8; i++) {
      await writeFile(join(a, `a${i}.bin`), randomBytes(1024 * 1024));
      await writeFile(join(b, `b${i}.bin`), randomBytes(1024 * 1024));
    }
    await writeFile(join(a, 'same.txt'), 'shared\n'.repeat(10000));
    await writeFile(join(b, 'same.txt'), 'shared\n'.repeat(10000));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const run = (name: string, cwd: string) => new Promise<number>((done) => startCairn(['-r', ws.repo, 'create', name, '.'], { cwd }).on('close', (c) => done(c ?? 1)));
    assert.deepEqual(await Promise.all([run('from-a', a), run('from-b', b)]), [0, 0]);
    const list = JSON.parse(await ok(['-r', ws.repo, '--json', 'rlist'])) as { archives: { name: string }[] };
    assert.deepEqual(list.archives.map((x) => x.name).sort(), ['from-a', 'from-b']);
    await ok(['-r', ws.repo, 'check', '--verify-data']);
    for (const [name, src] of [['from-a', a], ['from-b', b]] as const) {
      const target = join(ws.dir, `restore-${name}`);
      await mkdir(target);
      await ok(['-r', ws.repo, 'extract', name], { cwd: target });
      assertSameTree(await describeTree(target), await describeTree(src));
    }
  } finally {
    await ws.cleanup();
  }
});
