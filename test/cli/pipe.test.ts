// A reader that stops early (`cairn list NAME | head`) must not make cairn crash with EPIPE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, startCairn, workspace } from './helpers.js';

test('standard output closed by the reader: no stack trace, the exit code of the command', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 3000; i++) await writeFile(join(src, `file-${String(i).padStart(5, '0')}.txt`), `line ${i}\n`);
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey-aes-ocb']);
    await ok(['-r', ws.repo, 'create', 'a', src]);
    const child = startCairn(['-r', ws.repo, 'list', 'a']);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout!.once('data', () => child.stdout!.destroy()); // like `head -1` exiting
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
  } finally {
    await ws.cleanup();
  }
});
