// End to end (issue 11, defect 1): rcreate refuses a non-empty folder; rdelete deletes only what
// cairn wrote, needs the key and a confirmation, and is refused in append-only mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cairn, cairnOnTerminal, ok, workspace } from './helpers.js';

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out.sort();
}

test('rcreate refuses a non-empty folder that is not a repository, and writes nothing there', async () => {
  const ws = await workspace();
  try {
    const folder = join(ws.dir, 'nonempty');
    await mkdir(join(folder, 'sub'), { recursive: true });
    await writeFile(join(folder, 'sub', 'file'), 'x\n');
    const r = await cairn(['-r', folder, 'rcreate', '-e', 'repokey']);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(await tree(folder), ['sub/file']);
    // Neither can rdelete then touch it: it is not a repository.
    assert.equal((await cairn(['-r', folder, 'rdelete', '--yes'])).code, 2);
    assert.equal(await readFile(join(folder, 'sub', 'file'), 'utf8'), 'x\n');
  } finally { await ws.cleanup(); }
});

test('rdelete needs the passphrase and a confirmation, deletes only cairn objects and names the rest', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'a');
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    // Files a user put into the repository folder later.
    await writeFile(join(ws.repo, 'notes.txt'), 'mine');
    await writeFile(join(ws.repo, 'data', 'mine.txt'), 'also mine');
    const before = await tree(ws.repo);

    assert.equal((await cairn(['-r', ws.repo, 'rdelete'])).code, 2, 'no --yes and no terminal');
    assert.equal((await cairn(['-r', ws.repo, 'rdelete', '--yes'], { env: { CAIRN_PASSPHRASE: undefined } })).code, 2, 'no passphrase');
    assert.equal((await cairn(['-r', ws.repo, 'rdelete', '--yes'], { env: { CAIRN_PASSPHRASE: 'wrong' } })).code, 2, 'wrong passphrase');
    assert.deepEqual(await tree(ws.repo), before);

    const dry = JSON.parse(await cairnJson(['-r', ws.repo, '--json', 'rdelete', '--dry-run'])) as { objects: number; kept: string[] };
    assert.deepEqual(dry.kept, ['data/mine.txt', 'notes.txt']);
    assert.equal(dry.objects, before.length - 2 + 1, 'every cairn object plus rdelete\'s own lock');

    const r = await cairn(['-r', ws.repo, '--json', 'rdelete', '--yes']);
    assert.equal(r.code, 1, `kept objects are a warning: ${r.stderr}`);
    assert.deepEqual((JSON.parse(r.stdout) as { kept: string[] }).kept, ['data/mine.txt', 'notes.txt']);
    assert.deepEqual(await tree(ws.repo), ['data/mine.txt', 'notes.txt']);
    assert.equal(await readFile(join(ws.repo, 'notes.txt'), 'utf8'), 'mine');
  } finally { await ws.cleanup(); }
});

test('rdelete of a repository holding only cairn objects removes its folder', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'none']);
    const r = await cairn(['-r', ws.repo, 'rdelete', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(stat(ws.repo), { code: 'ENOENT' });
  } finally { await ws.cleanup(); }
});

test('on a terminal, rdelete deletes only after the repository location is typed', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const wrong = await cairnOnTerminal(['-r', ws.repo, 'rdelete'], 'yes\n');
    assert.equal(wrong.code, 2, wrong.stdout);
    assert.ok((await stat(join(ws.repo, 'config'))).isFile());
    const right = await cairnOnTerminal(['-r', ws.repo, 'rdelete'], `${ws.repo}\n`);
    assert.equal(right.code, 0, right.stdout);
    await assert.rejects(stat(ws.repo), { code: 'ENOENT' });
  } finally { await ws.cleanup(); }
});

test('rdelete is refused in append-only mode', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey', '--append-only']);
    const before = await tree(ws.repo);
    const r = await cairn(['-r', ws.repo, 'rdelete', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(await tree(ws.repo), before);
  } finally { await ws.cleanup(); }
});

async function cairnJson(args: string[]): Promise<string> {
  const r = await cairn(args);
  assert.ok(r.code <= 1, r.stderr);
  return r.stdout;
}
