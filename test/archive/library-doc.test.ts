// The example at the top of docs/library.md runs as written: its code block is taken from the page,
// pointed at temp folders instead of /srv/backups/repo, /home/me/docs and /tmp/restore, and run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the docs/library.md example runs as written and restores the files', async () => {
  const page = await readFile(join(root, 'docs/library.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(code, 'docs/library.md opens with a ts example');
  const dir = await mkdtemp(join(tmpdir(), 'cairn-library-doc-'));
  const script = join(root, 'test', `.library-doc-${process.pid}.ts`); // inside the project, so imports resolve
  try {
    await mkdir(join(dir, 'home', 'me', 'docs', 'sub'), { recursive: true });
    await writeFile(join(dir, 'home', 'me', 'docs', 'readme.md'), '# notes\n');
    await writeFile(join(dir, 'home', 'me', 'docs', 'sub', 'data.txt'), 'some data\n');
    const runnable = code
      .replace("from 'cairn-backup'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`)
      .replaceAll('/srv/backups/repo', join(dir, 'repo'))
      .replaceAll('/home/me/docs', join(dir, 'home', 'me', 'docs'))
      .replaceAll('/tmp/restore', join(dir, 'restore'));
    await writeFile(script, `${runnable}\nexport {};\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8', timeout: 300_000,
      env: { ...process.env, CAIRN_PASSPHRASE: 'the documented example', XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /readme\.md/, 'listItems printed the .md item');
    // stripComponents 2 drops the first two elements of the archived path (the temp folder's own).
    const restored = join(dir, 'restore', ...join(dir, 'home', 'me', 'docs').split('/').filter(Boolean).slice(2));
    assert.equal(await readFile(join(restored, 'sub', 'data.txt'), 'utf8'), 'some data\n');
    assert.deepEqual((await readdir(restored)).sort(), ['readme.md', 'sub']);
  } finally {
    await rm(script, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
