// End to end through the cairn executable: a bucket writer without the key cannot downgrade, swap or roll back the
// repository unnoticed (issue 9: F2 planted key, F3 key import and keyfile keys, 3b deleted archive records).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, oneLine, workspace, PASSPHRASE } from './helpers.js';

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

test('a planted none key with records/settings deleted: create refuses and uploads nothing, here and on a new machine', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'secret.txt'), 'TOPSECRET-line-0001\n');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    const noneRepo = join(ws.dir, 'none-repo');
    await ok(['-r', noneRepo, 'rcreate', '--encryption', 'none']);
    await copyFile(join(noneRepo, 'keys', 'repokey'), join(ws.repo, 'keys', 'repokey'));
    await rm(join(ws.repo, 'records', 'settings'));
    const before = await allFiles(ws.repo);
    await writeFile(join(src, 'new.txt'), 'NEWFILE-SECRET content\n');
    const here = await cairn(['-r', ws.repo, 'create', 'a2', '.'], { cwd: src });
    assert.equal(here.code, 2, here.stderr);
    oneLine(here.stderr);
    const elsewhere = await cairn(['-r', ws.repo, 'create', 'a3', '.'], { cwd: src, env: { XDG_CONFIG_HOME: join(ws.dir, 'new-machine') } });
    assert.equal(elsewhere.code, 2, elsewhere.stderr);
    oneLine(elsewhere.stderr);
    const after = (await allFiles(ws.repo)).filter((f) => !f.includes('/locks/'));
    assert.deepEqual(after, before.filter((f) => !f.includes('/locks/')), 'no object was written');
    for (const f of after) assert.ok(!(await readFile(f)).includes('NEWFILE-SECRET'), f);
  } finally {
    await ws.cleanup();
  }
});

test('an archive record deleted without the key: rlist warns (exit 1), check fails, check --repair acknowledges it', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'a');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    for (const n of ['a1', 'a2', 'a3']) await ok(['-r', ws.repo, 'create', n, '.'], { cwd: src });
    await ok(['-r', ws.repo, 'delete', 'a3']);
    const clean = await cairn(['-r', ws.repo, '--json', 'rlist']);
    assert.equal(clean.code, 0, clean.stderr);
    await rm(join(ws.repo, 'records', 'archive-a1'));
    const listed = await cairn(['-r', ws.repo, '--json', 'rlist']);
    assert.equal(listed.code, 1, listed.stderr);
    const json = JSON.parse(listed.stdout) as { archives: { name: string }[]; warnings: { kind: string; archive: string }[] };
    assert.deepEqual(json.archives.map((a) => a.name), ['a2']);
    assert.deepEqual(json.warnings.map((w) => [w.kind, w.archive]), [['vanished', 'a1']]);
    const checked = await cairn(['-r', ws.repo, '--json', 'check']);
    assert.equal(checked.code, 2, checked.stderr);
    const report = JSON.parse(checked.stdout) as { journal: { findings: { kind: string; archive: string }[] } };
    assert.deepEqual(report.journal.findings.map((f) => [f.kind, f.archive]), [['vanished', 'a1']]);
    assert.equal((await cairn(['-r', ws.repo, 'check', '--repair', '--yes'])).code, 0);
    assert.equal((await cairn(['-r', ws.repo, 'rlist'])).code, 0);
    assert.equal((await cairn(['-r', ws.repo, 'check'])).code, 0);
  } finally {
    await ws.cleanup();
  }
});

test('a rollback of the bucket (an archive and its journal gone) is refused; check reports it; check --repair accepts it', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'a');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'a1', '.'], { cwd: src });
    const first = await readdir(join(ws.repo, 'records'));
    await ok(['-r', ws.repo, 'create', 'a2', '.'], { cwd: src });
    for (const name of await readdir(join(ws.repo, 'records'))) if (!first.includes(name)) await rm(join(ws.repo, 'records', name));
    const refused = await cairn(['-r', ws.repo, 'rlist']);
    assert.equal(refused.code, 2);
    oneLine(refused.stderr);
    const checked = await cairn(['-r', ws.repo, '--json', 'check']);
    assert.equal(checked.code, 2);
    assert.equal((JSON.parse(checked.stdout) as { journal: { rolledBack: string[] } }).journal.rolledBack.length, 1);
    assert.equal((await cairn(['-r', ws.repo, 'check', '--repair', '--yes'])).code, 0);
    assert.equal((await cairn(['-r', ws.repo, 'rlist'])).code, 0);
  } finally {
    await ws.cleanup();
  }
});

test('an older record of an archive put back over the live one: extract, dump, list and info refuse it (exit 2) here and on a new machine; rlist skips it; check reports it; delete removes it', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'doc.txt'), 'the first version\n');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', ws.repo, 'create', 'daily', '.'], { cwd: src });
    const old = await readFile(join(ws.repo, 'records', 'archive-daily'));
    await ok(['-r', ws.repo, 'delete', 'daily']);
    await writeFile(join(src, 'doc.txt'), 'the second version\n');
    await ok(['-r', ws.repo, 'create', 'daily', '.'], { cwd: src });
    await ok(['-r', ws.repo, 'create', 'other', '.'], { cwd: src });
    // This machine read the journal once (its cache holds what each journal record said).
    await ok(['-r', ws.repo, 'extract', 'daily'], { cwd: await mkdirIn(ws.dir, 'before') });
    // A bucket writer without the key puts the first record back under the name.
    await writeFile(join(ws.repo, 'records', 'archive-daily'), old);
    for (const [where, env] of [['here', {}], ['a new machine', { XDG_CONFIG_HOME: join(ws.dir, 'new-machine') }]] as const) {
      const target = await mkdirIn(ws.dir, `target-${where.replace(/ /g, '-')}`);
      const extracted = await cairn(['-r', ws.repo, '--json', 'extract', 'daily'], { cwd: target, env });
      assert.equal(extracted.code, 2, `${where}: ${extracted.stderr}`);
      assert.equal(JSON.parse(oneLine(extracted.stderr)).error.code, 'ESECURITY_REPLACED', where);
      assert.deepEqual(await readdir(target), [], `${where}: nothing restored`);
      for (const args of [['dump', 'daily', 'doc.txt'], ['list', 'daily'], ['info', 'daily'], ['export-tar', 'daily', '-']]) {
        const run = await cairn(['-r', ws.repo, '--json', ...args], { env });
        assert.equal(run.code, 2, `${where} ${args[0]}: ${run.stderr}`);
        assert.equal(JSON.parse(oneLine(run.stderr)).error.code, 'ESECURITY_REPLACED', `${where} ${args[0]}`);
        assert.ok(!run.stdout.includes('first version'), `${where} ${args[0]}`);
      }
    }
    const listed = await cairn(['-r', ws.repo, '--json', 'rlist']);
    assert.equal(listed.code, 1, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { archives: { name: string }[] }).archives.map((a) => a.name), ['other']);
    const checked = await cairn(['-r', ws.repo, '--json', 'check']);
    assert.notEqual(checked.code, 0);
    assert.ok((JSON.parse(checked.stdout) as { journal: { findings: { kind: string; archive?: string }[] } }).journal.findings.some((f) => f.kind === 'replaced' && f.archive === 'daily'), checked.stdout);
    // Every journal record damaged too: this machine's journal cache still knows what they said.
    for (const name of (await readdir(join(ws.repo, 'records'))).filter((n) => n.startsWith('journal-'))) {
      const bytes = await readFile(join(ws.repo, 'records', name));
      bytes[bytes.length - 1] ^= 1;
      await writeFile(join(ws.repo, 'records', name), bytes);
    }
    const cached = await cairn(['-r', ws.repo, '--json', 'dump', 'daily', 'doc.txt']);
    assert.equal(cached.code, 2, cached.stderr);
    assert.equal(JSON.parse(oneLine(cached.stderr)).error.code, 'ESECURITY_REPLACED');
    await ok(['-r', ws.repo, 'delete', 'daily']);
    assert.equal((await cairn(['-r', ws.repo, 'dump', 'other', 'doc.txt'])).stdout, 'the second version\n');
  } finally {
    await ws.cleanup();
  }
});

async function mkdirIn(dir: string, name: string): Promise<string> {
  await mkdir(join(dir, name));
  return join(dir, name);
}

test('key import refuses another repository\'s key (one line, exit 2) and leaves the live key alone', async () => {
  const ws = await workspace();
  try {
    const other = join(ws.dir, 'other');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', other, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', other, 'key', 'export', join(ws.dir, 'other.key')]);
    const live = await readFile(join(ws.repo, 'keys', 'repokey'));
    const r = await cairn(['-r', ws.repo, 'key', 'import', join(ws.dir, 'other.key')]);
    assert.equal(r.code, 2);
    oneLine(r.stderr);
    assert.deepEqual(await readFile(join(ws.repo, 'keys', 'repokey')), live);
    await ok(['-r', ws.repo, 'rlist']);
    // Its own export is accepted, and the blob it replaces is kept.
    await ok(['-r', ws.repo, 'key', 'export', join(ws.dir, 'mine.key')]);
    await ok(['-r', ws.repo, 'key', 'import', join(ws.dir, 'mine.key')]);
    assert.deepEqual(await readFile(join(ws.repo, 'keys', 'repokey.prev')), live);
  } finally {
    await ws.cleanup();
  }
});

test('keyfile mode: rcreate names the key file; export, change-passphrase, --key-file and import keep it local', async () => {
  const ws = await workspace();
  try {
    const created = JSON.parse(await ok(['-r', ws.repo, '--json', 'rcreate', '--encryption', 'keyfile'])) as { id: string; keyFile: string };
    assert.equal(created.keyFile, join(ws.dir, 'config', 'cairn', 'keys', created.id));
    assert.equal((await stat(created.keyFile)).mode & 0o777, 0o600);
    assert.ok((await ok(['-r', ws.repo, 'key', 'export'])).startsWith('-----BEGIN CAIRN KEY-----'));
    await ok(['-r', ws.repo, 'key', 'export', join(ws.dir, 'backup.key')]);
    await ok(['-r', ws.repo, 'key', 'change-passphrase'], { env: { CAIRN_NEW_PASSPHRASE: 'new words' } });
    assert.ok((await stat(`${created.keyFile}.prev`)).isFile());
    assert.equal((await cairn(['-r', ws.repo, 'rlist'])).code, 2, 'the old passphrase no longer opens it');
    await ok(['-r', ws.repo, 'rlist'], { env: { CAIRN_PASSPHRASE: 'new words' } });
    // The key file moved: --key-file finds it; without it the error names the option.
    const moved = join(ws.dir, 'moved.key');
    await copyFile(created.keyFile, moved);
    await rm(created.keyFile);
    const missing = await cairn(['-r', ws.repo, 'rlist'], { env: { CAIRN_PASSPHRASE: 'new words' } });
    assert.equal(missing.code, 2);
    oneLine(missing.stderr);
    await ok(['-r', ws.repo, '--key-file', moved, 'rlist'], { env: { CAIRN_PASSPHRASE: 'new words' } });
    // Importing the export (old passphrase) restores the key file; nothing goes into the repository.
    await ok(['-r', ws.repo, 'key', 'import', join(ws.dir, 'backup.key')], { env: { CAIRN_PASSPHRASE: PASSPHRASE } });
    await assert.rejects(stat(join(ws.repo, 'keys', 'repokey')));
    await ok(['-r', ws.repo, 'rlist']);
  } finally {
    await ws.cleanup();
  }
});
