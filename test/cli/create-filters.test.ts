// Through the executable, on real folders: create's source filters (--exclude-if-present,
// --exclude-larger-than, --iexclude and re:(?i), anchored patterns and their any-depth forms) and
// source lists (--files-from, --paths-from-stdin with a NUL delimiter), each checked by what the
// archive holds (`list`), not only by the exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, cairnWithInput, ok, workspace } from './helpers.js';

async function tree(root: string, files: Record<string, string | number>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), typeof content === 'number' ? Buffer.alloc(content, 1) : content);
  }
}

const stored = async (repo: string, name: string): Promise<string[]> => (await ok(['-r', repo, 'list', name, '--format', '{path}{NL}'])).split('\n').filter(Boolean);

test('--exclude-if-present, --exclude-larger-than, --iexclude, re:(?i) and sh:**/ leave out exactly what they name', async () => {
  const ws = await workspace();
  try {
    await tree(join(ws.dir, 'src'), {
      'keep/small.txt': 'x', 'keep/big.bin': 3000, 'keep/edge.bin': 2048, 'tagged/.nobackup': '', 'tagged/inner/file': 'y',
      'Photos/A.JPG': 'p', 'Photos/b.jpg': 'p', 'Photos/c.Png': 'p', 'node_modules/top.js': 'n', 'app/node_modules/deep.js': 'n', 'app/main.js': 'm',
    });
    const h = ['-r', ws.repo];
    await ok([...h, 'rcreate', '--encryption', 'none']);
    await ok([...h, 'create', 'f1', 'src', '--exclude-if-present', '.nobackup', '--exclude-larger-than', '2k', '--iexclude', '*.jpg',
      '--exclude', 're:(?i)\\.png$', '--exclude', 'src/node_modules'], { cwd: ws.dir });
    assert.deepEqual(await stored(ws.repo, 'f1'), [
      'src', 'src/Photos', 'src/app', 'src/app/main.js', 'src/app/node_modules', 'src/app/node_modules/deep.js', 'src/keep', 'src/keep/edge.bin', 'src/keep/small.txt',
    ]); // 2k = 2048 bytes is kept, 3000 is not; the anchored pattern leaves the deeper node_modules
    // The any-depth forms; --exclude is case-sensitive, so *.JPG leaves b.jpg.
    await ok([...h, 'create', 'f2', 'src', '--exclude', 'sh:**/node_modules', '--exclude', '*.JPG', '--exclude', 'fm:*/keep'], { cwd: ws.dir });
    assert.deepEqual(await stored(ws.repo, 'f2'), [
      'src', 'src/Photos', 'src/Photos/b.jpg', 'src/Photos/c.Png', 'src/app', 'src/app/main.js', 'src/tagged', 'src/tagged/.nobackup', 'src/tagged/inner', 'src/tagged/inner/file',
    ]);
    const badSize = await cairn([...h, 'create', 'f3', 'src', '--exclude-larger-than', '2 parsecs'], { cwd: ws.dir });
    assert.equal(badSize.code, 2);
  } finally {
    await ws.cleanup();
  }
});

test('--files-from walks the listed paths (comments skipped, each stored once); --paths-from-stdin stores exactly the NUL-separated list', async () => {
  const ws = await workspace();
  try {
    await tree(join(ws.dir, 'src'), { 'a/one': '1', 'a/sub/two': '2', 'b/three': '3', 'b/four': '4', 'c/five': '5' });
    const h = ['-r', ws.repo];
    await ok([...h, 'rcreate', '--encryption', 'none']);
    await writeFile(join(ws.dir, 'list.txt'), '# what to back up\nsrc/a\n\n  # indented comment\nsrc/a/sub\nsrc/b/three\n');
    await ok([...h, 'create', 'ff', 'src/c', '--files-from', 'list.txt'], { cwd: ws.dir });
    assert.deepEqual(await stored(ws.repo, 'ff'), ['src/c', 'src/c/five', 'src/a', 'src/a/one', 'src/a/sub', 'src/a/sub/two', 'src/b/three']);
    const record = JSON.parse(await ok([...h, '--json', 'rlist'])) as { archives: { paths: string[] }[] };
    assert.deepEqual(record.archives[0]!.paths, ['src/a', 'src/a/sub', 'src/b/three', 'src/c'].map((p) => join(ws.dir, p)));

    const input = Buffer.from(['src/b', 'src/b/four', 'src/a/sub/two', 'src/missing'].join('\0') + '\0');
    const piped = await cairnWithInput([...h, 'create', 'fs', '--paths-from-stdin', '--paths-delimiter', '\\0'], input, { cwd: ws.dir });
    assert.equal(piped.code, 1, piped.stderr); // the missing path is a warning
    assert.match(piped.stderr, /src\/missing/);
    assert.deepEqual(await stored(ws.repo, 'fs'), ['src/b', 'src/b/four', 'src/a/sub/two']); // src/b without src/b/three

    const none = await cairn([...h, 'create', 'empty'], { cwd: ws.dir });
    assert.equal(none.code, 2);
    const mixed = await cairnWithInput([...h, 'create', 'mixed', 'src/a', '--paths-from-stdin'], Buffer.from('src/b\n'), { cwd: ws.dir });
    assert.equal(mixed.code, 2);
    assert.equal((await ok([...h, 'rlist', '--short'])), 'ff\nfs\n'); // the refused runs wrote nothing
  } finally {
    await ws.cleanup();
  }
});
