// dump / extract --stdout (issue 11) through the executable: a file's bytes equal the original, a folder as a tar stream
// that the system tar unpacks into the same tree (contents, modes, owners, mtimes to the nanosecond, links, devices), a
// reader that stops early ends it quietly, and names that could escape the unpacking folder are skipped with a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openBackend, openRepository } from '../../src/index.js';
import { cairn, command, describeTree, ok, PASSPHRASE, repoWithArchive, startCairn, workspace } from './helpers.js';
import { file, forgeArchive } from '../archive/helpers/forge.js';

/** Runs cairn and keeps standard output as bytes. */
async function cairnBytes(args: string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const child = startCairn(args, options);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 128)));
  return { code, stdout: Buffer.concat(out), stderr };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('dump and extract --stdout: one file as its bytes, by every path form; a folder as a tar the system tar unpacks exactly', async () => {
  const ws = await workspace();
  try {
    const src = await repoWithArchive(ws);
    const original = await readFile(join(src, 'random.bin'));
    for (const args of [['dump', 'one', 'random.bin'], ['dump', 'latest', './random.bin'], ['extract', '--stdout', 'latest', '/random.bin']]) {
      const run = await cairnBytes(['-r', ws.repo, ...args]);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(sha(run.stdout), sha(original), args.join(' '));
    }
    // A folder, and the whole archive: the system tar unpacks the same tree (metadata too, mtimes to the nanosecond).
    for (const [args, sub] of [[['dump', 'one', '/'], ''], [['extract', '--stdout', 'one', 'sub'], 'sub']] as const) {
      const run = await cairnBytes(['-r', ws.repo, ...args]);
      assert.equal(run.code, 0, run.stderr);
      const target = join(ws.dir, `untar-${args.join('-').replace(/\W/g, '')}`);
      await mkdir(target);
      await writeFile(join(ws.dir, 'out.tar'), run.stdout);
      const tar = spawnSync('tar', ['--numeric-owner', '-xpf', join(ws.dir, 'out.tar'), '-C', target], { encoding: 'utf8' });
      assert.equal(tar.status, 0, tar.stderr);
      assert.equal(tar.stderr, '');
      const expected = await describeTree(src);
      const want = sub ? new Map([...expected].filter(([k]) => k === sub || k.startsWith(`${sub}/`))) : expected;
      const got = await describeTree(target);
      // A hard link whose first name was not selected is a whole file in the tar: compare without link groups then.
      const plain = (m: Map<string, unknown>) => new Map([...m].map(([k, e]) => [k, sub ? { ...(e as object), inodeGroup: undefined } : e]));
      assert.deepEqual(plain(got), plain(want));
    }
    // A path that is not there: exit 2, nothing written.
    const missing = await cairnBytes(['-r', ws.repo, 'dump', 'one', 'no/such/file']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout.length, 0);
    assert.match(missing.stderr, /^cairn: "no\/such\/file" matched nothing in archive one/);
  } finally {
    await ws.cleanup();
  }
});

test('a reader that stops early (| head -c 10): dump ends quietly, no stack trace', async () => {
  const ws = await workspace();
  try {
    await repoWithArchive(ws, { name: 'a', fill: (src) => writeFile(join(src, 'big.bin'), randomBytes(12 * 1024 * 1024)) });
    for (const path of ['big.bin', '/']) {
      const cmd = [process.execPath, ...command(), '-r', ws.repo, 'dump', 'a', path]
        .map((s) => `'${s}'`).join(' ');
      const run = spawnSync('bash', ['-c', `set -o pipefail; ${cmd} | head -c 10 | wc -c`], { env: { ...process.env, CAIRN_PASSPHRASE: PASSPHRASE, XDG_CONFIG_HOME: join(ws.dir, 'config'), XDG_CACHE_HOME: join(ws.dir, 'cache') }, encoding: 'utf8' });
      assert.equal(run.stdout.trim(), '10');
      assert.equal(run.stderr, '', path);
      assert.equal(run.status, 0, run.stderr);
    }
  } finally {
    await ws.cleanup();
  }
});

test('an archive with names that could escape the unpacking folder: they are skipped with a warning (exit 1)', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const opened = await openRepository(await openBackend(ws.repo), { passphrase: PASSPHRASE, workers: 0, env: { ...process.env, XDG_CONFIG_HOME: join(ws.dir, 'config') } });
    try {
      await forgeArchive(opened, 'evil', [file('ok.txt', Buffer.from('fine\n')), file('/etc/evil', Buffer.from('x')), file('a/../../evil', Buffer.from('x')), file('./dot', Buffer.from('x'))]);
    } finally {
      await opened.close();
    }
    const run = await cairnBytes(['-r', ws.repo, 'dump', 'evil', '/']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr.split('\n').filter((l) => l.startsWith('cairn: warning: ')).length, 3, run.stderr);
    const listed = spawnSync('tar', ['-t'], { input: run.stdout, encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.split('\n').filter(Boolean), ['ok.txt']);
  } finally {
    await ws.cleanup();
  }
});

test('dump: --json is ignored on the bytes, usage mistakes exit 2', async () => {
  const ws = await workspace();
  try {
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const run = await cairn(['-r', ws.repo, 'extract', '--stdout', '--target', 'x', 'latest']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^cairn: --stdout takes no --target/);
  } finally {
    await ws.cleanup();
  }
});
