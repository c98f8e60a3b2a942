// End to end (issue 11, defect 1): rcreate refuses a non-empty folder; rdelete deletes only what
// cairn wrote, needs the key and a confirmation, and is refused in append-only mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cairn, cairnOnTerminal, ok, workspace } from './helpers.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

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

test('rdelete of a keyfile repository removes, after it, the local key file, security state and files cache, and says so', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'a');
    const created = JSON.parse(await ok(['-r', ws.repo, '--json', 'rcreate', '-e', 'keyfile'])) as { id: string; keyFile: string };
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    await ok(['-r', ws.repo, 'key', 'change-passphrase'], { env: { CAIRN_NEW_PASSPHRASE: 'correct horse battery staple' } }); // leaves <key file>.prev
    const config = join(ws.dir, 'config', 'cairn');
    const local = [created.keyFile, `${created.keyFile}.prev`, join(config, 'security', created.id), join(ws.dir, 'cache', 'cairn', created.id)];
    assert.equal(created.keyFile, join(config, 'keys', created.id));
    for (const p of local) assert.ok(await exists(p), p);

    const dry = JSON.parse(await ok(['-r', ws.repo, '--json', 'rdelete', '--dry-run'])) as { localRemoved: string[]; dryRun: boolean };
    assert.deepEqual(dry.localRemoved, local);
    assert.equal(dry.dryRun, true);
    for (const p of local) assert.ok(await exists(p), `dry run keeps ${p}`);

    const out = await ok(['-r', ws.repo, 'rdelete', '--yes']);
    for (const p of local) {
      assert.equal(await exists(p), false, p);
      assert.ok(out.includes(`removed ${p}`), `says it removed ${p}: ${out}`);
    }
    assert.equal(await exists(ws.repo), false);
    // Other repositories' local state stays.
    assert.deepEqual(await readdir(join(config, 'keys')), []);
  } finally { await ws.cleanup(); }
});

test('rdelete keeps a key file given with --key-file (the user\'s own copy) and says so', async () => {
  const ws = await workspace();
  try {
    const keyFile = join(ws.dir, 'my.key');
    await ok(['-r', ws.repo, '--key-file', keyFile, 'rcreate', '-e', 'keyfile']);
    const r = await cairn(['-r', ws.repo, '--key-file', keyFile, 'rdelete', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await exists(keyFile));
    assert.match(r.stdout, /kept the key file/);
    assert.equal(await exists(ws.repo), false);
  } finally { await ws.cleanup(); }
});
