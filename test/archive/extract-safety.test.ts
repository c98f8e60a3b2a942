// Extraction never writes outside the target (ADR 0043): "..", absolute paths and writes through
// a symlink are refused, whatever order and types of items a hand-made archive holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, chmod, lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { extractArchive, type ExtractResult } from '../../src/archive/extract.js';
import { UnsafePathError } from '../../src/archive/errors.js';
import { RepositoryError } from '../../src/repository/errors.js';
import { makeFixture, type Fixture } from './helpers/context.js';
import { dir, fifo, file, forgeArchive, strictSnapshot, symlinkTo } from './helpers/forge.js';

async function withFixture(run: (f: Fixture, outside: string) => Promise<void>): Promise<void> {
  const f = await makeFixture();
  try {
    const outside = join(f.dir, 'outside');
    await mkdir(join(outside, 'sub'), { recursive: true, mode: 0o700 });
    await writeFile(join(outside, 'victim'), 'v\n', { mode: 0o600 });
    await chmod(outside, 0o700);
    await run(f, outside);
  } finally {
    await f.cleanup();
  }
}

/** Extracts `name` into a new target and asserts nothing in `outside` changed; returns the result. */
async function extractGuarded(f: Fixture, name: string, outside: string, target = join(f.dir, `target-${name}`)): Promise<ExtractResult> {
  const before = await strictSnapshot(outside);
  const result = await extractArchive(f.ctx, name, { target });
  assert.deepEqual(await strictSnapshot(outside), before, `${name} changed something outside the target`);
  return result;
}

const codes = (r: ExtractResult): string[] => r.warnings.map((w) => `${w.path}:${w.code}`);

test('item paths with "..", absolute paths and writes through symlinks are refused', () => withFixture(async (f, outside) => {
  await forgeArchive(f.ctx, 'dotdot', [file('ok'), file('a/../../evil')]);
  await forgeArchive(f.ctx, 'absolute', [file(`${outside}/evil`)]);
  await forgeArchive(f.ctx, 'symlink', [dir('d'), symlinkTo('d/link', outside), file('d/link/evil'), file('d/after')]);
  await forgeArchive(f.ctx, 'repeated', [dir('d'), symlinkTo('d/link', outside), dir('d/link'), file('d/link/evil')]);
  // A path repeated with another type replaces the symlink by a real folder: the file lands inside.
  await extractGuarded(f, 'repeated', outside);
  await access(join(f.dir, 'target-repeated/d/link/evil'));
  for (const name of ['dotdot', 'absolute']) {
    const target = join(f.dir, `target-${name}`);
    await assert.rejects(extractArchive(f.ctx, name, { target }), (e: unknown) => e instanceof UnsafePathError && e.code === 'EUNSAFE_PATH', name);
  }
  // Through a symlink: that item is skipped with a warning, the rest is restored.
  const result = await extractGuarded(f, 'symlink', outside);
  assert.deepEqual(codes(result), ['d/link/evil:EUNSAFE_PATH']);
  assert.equal(await readFile(join(f.dir, 'target-symlink/d/after'), 'utf8'), 'owned');
  await assert.rejects(access(join(f.dir, 'evil')));
}));

test('review F1 (a): folder a, then symlink a to outside, then a/x: nothing is created outside', () => withFixture(async (f, outside) => {
  await forgeArchive(f.ctx, 'dirswap', [dir('a'), symlinkTo('a', outside), file('a/pwned.txt', Buffer.from('#!/bin/sh\n'), 0o4755)]);
  const result = await extractGuarded(f, 'dirswap', outside);
  assert.deepEqual(codes(result), ['a:ECONFLICT']);
  const inside = await lstat(join(f.dir, 'target-dirswap/a/pwned.txt'));
  assert.ok(inside.isFile());
  assert.ok((await lstat(join(f.dir, 'target-dirswap/a'))).isDirectory());
}));

test('review F1 (b): folder d 0777, then symlink d to outside: the outside folder keeps its mode and times', () => withFixture(async (f, outside) => {
  await forgeArchive(f.ctx, 'dirchmod', [dir('d', 0o777), symlinkTo('d', outside)]);
  const result = await extractGuarded(f, 'dirchmod', outside);
  assert.deepEqual(codes(result), ['d:ECONFLICT']);
  const d = await lstat(join(f.dir, 'target-dirchmod/d'));
  assert.ok(d.isDirectory());
  assert.equal(d.mode & 0o7777, 0o777);
}));

test('review F1 (c): a large file, then a symlink of the same name to an outside file: the outside file is untouched', () => withFixture(async (f, outside) => {
  const victim = join(outside, 'victim');
  await forgeArchive(f.ctx, 'chmodrace', [file('big', randomBytes(600 * 1024), 0o777), symlinkTo('big', victim)]);
  // Three runs: the old failure depended on the asynchronous write finishing after the symlink.
  for (let run = 0; run < 3; run++) {
    const target = join(f.dir, `target-chmodrace-${run}`);
    const result = await extractGuarded(f, 'chmodrace', outside, target);
    assert.deepEqual(result.warnings, []);
    assert.equal(await readlink(join(target, 'big')), victim);
    assert.deepEqual((await readdir(target)).sort(), ['big']);
  }
}));

test('a hard link never points at what replaced its first file, nor through a symlink', () => withFixture(async (f, outside) => {
  const hlid = randomBytes(32);
  const victim = join(outside, 'victim');
  await forgeArchive(f.ctx, 'hardlinks', [
    { ...file('h1', Buffer.from('first')), hlid },
    symlinkTo('h1', victim),
    { ...file('h2', Buffer.from('first')), hlid },
    dir('s'), { ...file('s/big', randomBytes(300 * 1024)), hlid: Buffer.alloc(32, 7) },
    symlinkTo('s', outside),
    { ...file('big2', randomBytes(300 * 1024)), hlid: Buffer.alloc(32, 7) },
  ]);
  const result = await extractGuarded(f, 'hardlinks', outside);
  assert.deepEqual(codes(result), ['s:ECONFLICT']);
  const target = join(f.dir, 'target-hardlinks');
  const h2 = await lstat(join(target, 'h2'));
  assert.ok(h2.isFile());
  assert.equal(h2.nlink, 1);
  assert.equal(await readFile(join(target, 'h2'), 'utf8'), 'first');
  assert.equal((await lstat(join(target, 'big2'))).ino, (await lstat(join(target, 's/big'))).ino);
}));

test('hard links of a group whose first file is being replaced by a later write are never linked to the new file', () => withFixture(async (f, outside) => {
  // `x` (first of group A), then a large file written over `x` in the background, then many more
  // links of group A: each must wait for that write, then see that `x` is no longer A's file. A link
  // made between the check and the rename named the new file, or failed with ENOENT (CI, session 5).
  const group = randomBytes(32);
  const first = randomBytes(300 * 1024);
  const later = randomBytes(2 * 1024 * 1024);
  const links = Array.from({ length: 150 }, (_, i) => ({ ...file(`l${i}`, first), hlid: group }));
  for (let run = 0; run < 5; run++) {
    const name = `replaced-first-${run}`;
    await forgeArchive(f.ctx, name, [{ ...file('x', first), hlid: group }, file('x', later), ...links]);
    const result = await extractGuarded(f, name, outside);
    assert.deepEqual(codes(result), []);
    const target = join(f.dir, `target-${name}`);
    assert.ok((await readFile(join(target, 'x'))).equals(later));
    for (let i = 0; i < links.length; i++) assert.ok((await readFile(join(target, `l${i}`))).equals(first), `l${i} holds the bytes of its group`);
  }
}));

test('review F7: FIFOs under non-ASCII and non-UTF-8 folders are restored there', () => withFixture(async (f, outside) => {
  const odd = Buffer.from([0x6f, 0xff, 0x64]);
  await forgeArchive(f.ctx, 'fifos', [
    dir('ä'), fifo('ä/pipe', 0o640),
    { ...dir('x'), path: odd }, fifo(Buffer.concat([odd, Buffer.from('/pipe')])),
    fifo('top'),
  ]);
  const result = await extractGuarded(f, 'fifos', outside);
  assert.deepEqual(result.warnings, []);
  const target = join(f.dir, 'target-fifos');
  const pipe = await lstat(join(target, 'ä/pipe'));
  assert.ok(pipe.isFIFO());
  assert.equal(pipe.mode & 0o7777, 0o640);
  assert.ok((await lstat(Buffer.from(`${target}/${Buffer.concat([odd, Buffer.from('/pipe')]).toString('latin1')}`, 'latin1'))).isFIFO());
  assert.ok((await lstat(join(target, 'top'))).isFIFO());
  assert.deepEqual((await readdir(join(target, 'ä'))), ['pipe']);
}));

/** Flips a byte inside the stored value of chunk `id` (in its segment), so reading it fails its digest. */
async function damage(f: Fixture, id: Uint8Array): Promise<void> {
  for await (const { key } of f.backend.list('data/')) {
    const bytes = Buffer.from(await f.backend.get(key));
    const at = bytes.indexOf(Buffer.from(id));
    if (at < 0) continue;
    bytes[at + 32 + 8 + 20] ^= 0x55;
    await f.backend.put(key, bytes);
    await f.reopen();
    return;
  }
  throw new Error('chunk not found');
}

test('a file with a damaged chunk is not left under its name (nor a temporary file); the rest is restored', () => withFixture(async (f, outside) => {
  const big = randomBytes(400 * 1024);
  const refs = await forgeArchive(f.ctx, 'damaged', [
    { ...file('big', big), chunkSize: 100 * 1024 },
    { ...file('small', randomBytes(3000)), chunkSize: 1000 },
    file('z', Buffer.from('after')),
  ]);
  await damage(f, refs[0].at(-1)!.id);
  await damage(f, refs[1].at(-1)!.id);
  const fresh = join(f.dir, 'target-fresh');
  const existing = join(f.dir, 'target-existing');
  await mkdir(existing);
  await writeFile(join(existing, 'big'), 'previous version');
  for (const target of [fresh, existing]) {
    const warnings: string[] = [];
    const before = await strictSnapshot(outside);
    await assert.rejects(extractArchive(f.ctx, 'damaged', { target, onWarning: (w) => warnings.push(`${w.path}:${w.code}`) }),
      (e: unknown) => e instanceof RepositoryError && e.code === 'EINTEGRITY');
    assert.deepEqual(await strictSnapshot(outside), before);
    assert.deepEqual(warnings.sort(), ['big:EINTEGRITY', 'small:EINTEGRITY']);
    assert.equal(await readFile(join(target, 'z'), 'utf8'), 'after');
    assert.deepEqual((await readdir(target)).sort(), target === fresh ? ['z'] : ['big', 'z']);
  }
  // The version that was there stays whole: it is replaced only by a complete file.
  assert.equal(await readFile(join(existing, 'big'), 'utf8'), 'previous version');
}));

test('a non-folder where a folder already is: a warning for that item, the rest is restored', () => withFixture(async (f, outside) => {
  await forgeArchive(f.ctx, 'conflict', [file('hello.txt', Buffer.from('hi')), symlinkTo('link', 'hello.txt'), dir('was-file'), file('was-file/in'), file('after')]);
  const target = join(f.dir, 'target-conflict');
  await mkdir(join(target, 'hello.txt'), { recursive: true });
  await writeFile(join(target, 'hello.txt/inner'), 'kept');
  await mkdir(join(target, 'link'));
  await writeFile(join(target, 'was-file'), 'replaced by the folder');
  const result = await extractGuarded(f, 'conflict', outside, target);
  assert.deepEqual(codes(result), ['hello.txt:ECONFLICT', 'link:ECONFLICT']);
  assert.equal(await readFile(join(target, 'hello.txt/inner'), 'utf8'), 'kept');
  assert.equal(await readFile(join(target, 'was-file/in'), 'utf8'), 'owned');
  assert.equal(await readFile(join(target, 'after'), 'utf8'), 'owned');
}));
