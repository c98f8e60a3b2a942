// End to end (issue 11, defect 2): `create NAME -` backs up standard input as one file, restorable
// byte for byte; a backup whose sources all fail to read writes no archive and exits 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, cairnOnTerminal, cairnWithInput, ok, workspace } from './helpers.js';

const archives = async (repo: string): Promise<string[]> =>
  (JSON.parse(await ok(['-r', repo, '--json', 'rlist'])) as { archives: { name: string }[] }).archives.map((a) => a.name);

test('create NAME - stores standard input as one file that extract restores byte for byte', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    // A "dump" of 12 MiB in 64 KiB writes: several chunks, through the pipeline, never whole in memory.
    const hash = createHash('sha256');
    async function* dump(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 192; i++) {
        const part = i % 2 ? randomBytes(65536) : Buffer.alloc(65536, `row ${i};\n`);
        hash.update(part);
        yield part;
      }
    }
    const r = await cairnWithInput(['-r', ws.repo, 'create', 'db', '-', '--stdin-name', 'backup/dump.sql', '--stdin-mode', '0600'], dump());
    assert.equal(r.code, 0, r.stderr);
    const target = join(ws.dir, 'restore');
    await mkdir(target);
    await ok(['-r', ws.repo, 'extract', 'db', '--target', target]);
    const restored = join(target, 'backup', 'dump.sql');
    assert.equal(createHash('sha256').update(await readFile(restored)).digest('hex'), hash.digest('hex'));
    assert.equal((await stat(restored)).mode & 0o7777, 0o600);
    assert.equal((await stat(restored)).uid, process.getuid!());

    // The default name is "stdin"; an empty input is an empty file, not an error.
    assert.equal((await cairnWithInput(['-r', ws.repo, 'create', 'empty', '-'], new Uint8Array())).code, 0);
    const names = (await ok(['-r', ws.repo, 'list', 'empty', '--format', '{path} {size}{NL}'])).trim();
    assert.equal(names, 'stdin 0');
  } finally { await ws.cleanup(); }
});

test('a backup whose sources all fail to read writes no archive and exits 2', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '-e', 'repokey']);
    const r = await cairn(['-r', ws.repo, 'create', 'missing', join(ws.dir, 'does-not-exist'), join(ws.dir, 'nor-this')]);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(await archives(ws.repo), []);
    // One readable source of two: a warning (exit 1) and an archive, as before.
    await writeFile(join(ws.dir, 'here'), 'x');
    const partial = await cairn(['-r', ws.repo, 'create', 'partial', join(ws.dir, 'here'), join(ws.dir, 'does-not-exist')]);
    assert.equal(partial.code, 1, partial.stderr);
    assert.deepEqual(await archives(ws.repo), ['partial']);
    // "-" mixed with paths is a usage error, before anything is written.
    assert.equal((await cairnWithInput(['-r', ws.repo, 'create', 'mixed', '-', join(ws.dir, 'here')], new Uint8Array([1]))).code, 2);
    assert.deepEqual(await archives(ws.repo), ['partial']);
    // "-" on a terminal (nothing piped in) is refused instead of waiting for typed data.
    assert.equal((await cairnOnTerminal(['-r', ws.repo, 'create', 'typed', '-'], '')).code, 2);
    assert.deepEqual(await archives(ws.repo), ['partial']);
  } finally { await ws.cleanup(); }
});
