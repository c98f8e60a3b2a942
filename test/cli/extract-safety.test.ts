// Through the executable: a hand-made hostile archive (written with the library, as any key holder
// can) changes nothing outside the target and exits 1 with warnings naming the refused items; a
// conflicting item is a warning and the rest is restored; a damaged file is not left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openBackend, openRepository } from '../../src/index.js';
import { cairn, ok, PASSPHRASE, workspace } from './helpers.js';
import { dir, file, forgeArchive, strictSnapshot, symlinkTo, type Forged } from '../archive/helpers/forge.js';

async function forge(repo: string, name: string, items: Forged[]): Promise<Uint8Array[][]> {
  const opened = await openRepository(await openBackend(repo), { passphrase: PASSPHRASE, workers: 0 });
  try {
    return (await forgeArchive(opened, name, items)).map((refs) => refs.map((r) => r.id));
  } finally {
    await opened.close();
  }
}

const warnedPaths = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('cairn: warning: ')).map((l) => l.slice('cairn: warning: '.length).split(':')[0]);

test('a hostile archive (the review\'s three reproductions) exits 1 with warnings and changes nothing outside', async () => {
  const ws = await workspace();
  try {
    const outside = join(ws.dir, 'outside');
    await mkdir(outside, { mode: 0o700 });
    await writeFile(join(outside, 'victim'), 'v\n', { mode: 0o600 });
    await chmod(outside, 0o700);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await forge(ws.repo, 'evil', [
      dir('a'), symlinkTo('a', outside), file('a/pwned.txt', Buffer.from('#!/bin/sh\n'), 0o4755),
      dir('d', 0o777), symlinkTo('d', outside),
      file('big', randomBytes(600 * 1024), 0o777), symlinkTo('big', join(outside, 'victim')),
    ]);
    const before = await strictSnapshot(outside);
    const target = join(ws.dir, 'target');
    const run = await cairn(['-r', ws.repo, 'extract', 'evil', '--target', target]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(warnedPaths(run.stderr), ['a', 'd']);
    assert.deepEqual(await strictSnapshot(outside), before);
    assert.deepEqual((await readdir(target)).sort(), ['a', 'big', 'd']);
    assert.deepEqual(await readdir(join(target, 'a')), ['pwned.txt']);
    assert.equal(await readlink(join(target, 'big')), join(outside, 'victim'));
  } finally {
    await ws.cleanup();
  }
});

test('a file where a folder already is in the target: a warning naming it, the rest restored (exit 1)', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(join(src, 'skipme'), { recursive: true });
    await writeFile(join(src, 'hello.txt'), 'hello\n');
    await writeFile(join(src, 'skipme', 'note'), 'note\n');
    await writeFile(join(src, 'z.txt'), 'z\n');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'second', '.'], { cwd: src });
    const target = join(ws.dir, 'r4');
    await mkdir(join(target, 'hello.txt'), { recursive: true });
    await writeFile(join(target, 'hello.txt', 'inner'), 'x\n');
    const run = await cairn(['-r', ws.repo, 'extract', 'second', '--target', target]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(warnedPaths(run.stderr), ['hello.txt']);
    assert.equal(await readFile(join(target, 'hello.txt', 'inner'), 'utf8'), 'x\n');
    assert.equal(await readFile(join(target, 'skipme', 'note'), 'utf8'), 'note\n');
    assert.equal(await readFile(join(target, 'z.txt'), 'utf8'), 'z\n');
  } finally {
    await ws.cleanup();
  }
});

test('a damaged last chunk: exit 2 with the error, no file under the name nor a temporary one, the rest restored', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const ids = await forge(ws.repo, 'damaged', [{ ...file('big.bin', randomBytes(1024 * 1024)), chunkSize: 256 * 1024 }, file('z.txt', Buffer.from('z\n'))]);
    const last = Buffer.from(ids[0].at(-1)!);
    let damaged = 0;
    const visit = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const p = join(folder, entry.name);
        if (entry.isDirectory()) await visit(p);
        else {
          const bytes = await readFile(p);
          const at = bytes.indexOf(last);
          if (at >= 0) {
            bytes[at + 32 + 8 + 100] ^= 0x55;
            await writeFile(p, bytes);
            damaged++;
          }
        }
      }
    };
    await visit(join(ws.repo, 'data'));
    assert.equal(damaged, 1);
    const target = join(ws.dir, 'target');
    const run = await cairn(['-r', ws.repo, 'extract', 'damaged', '--target', target]);
    assert.equal(run.code, 2, run.stderr);
    assert.deepEqual(warnedPaths(run.stderr), ['big.bin']);
    assert.match(run.stderr.trim().split('\n').at(-1)!, /^cairn: (?!warning)/);
    assert.deepEqual(await readdir(target), ['z.txt']);
  } finally {
    await ws.cleanup();
  }
});
