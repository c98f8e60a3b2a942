// The package installs as users install CLI tools: `npm pack` builds a tarball, `npm install -g`
// of it into a clean prefix puts a working `cairn` on the PATH, and that command backs up and
// restores byte for byte; `npm exec` runs it from the tarball too (issue 11, "An installable command").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSameTree, describeTree, root } from './helpers.js';
import { cairnNodeFlags } from '../helpers/node-flags.js';

function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  const r = spawnSync(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

test('npm pack + npm install -g give a cairn on the PATH that backs up and restores', { timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-install-'));
  try {
    // --ignore-scripts: `npm pack` would run `prepare` (npm run build), which rewrites dist/ in place while
    // the other test files run it (a cairn started then read a half-written module and died: a CI run's
    // "SIGINT during create" failed with EPIPE). The tarball takes the dist/ that test/run.mjs built.
    const packed = run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: root }).trim().split('\n').at(-1)!;
    const tarball = join(dir, packed);
    const listing = run('tar', ['-tzf', tarball], { cwd: dir });
    for (const file of ['package/LICENSE', 'package/README.md', 'package/dist/src/cli/main.js', 'package/dist/man/cairn.1', 'package/docs/cli.md']) assert.match(listing, new RegExp(`^${file}$`, 'm'));
    assert.doesNotMatch(listing, /^package\/(test|src)\//m, 'only what runs is shipped');

    const prefix = join(dir, 'prefix');
    run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir });
    const bin = await readdir(join(prefix, 'bin'));
    assert.deepEqual(bin, ['cairn']);
    // The man page generated at build time is installed where man finds it (package.json "man").
    assert.match(run('man', ['-l', '-P', 'cat', join(prefix, 'share/man/man1/cairn.1')], { cwd: dir, env: { MANWIDTH: '100' } }), /^ {3}completion$/m);

    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, CAIRN_PASSPHRASE: 'installed', XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config'), CAIRN_REPO: join(dir, 'repo') };
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'random.bin'), randomBytes(3 << 20));
    await writeFile(join(src, 'sub', 'note.txt'), 'installed from a tarball\n');
    run('cairn', ['rcreate', '--encryption', 'repokey'], { cwd: dir, env });
    run('cairn', ['create', 'first', '.'], { cwd: src, env });
    const out = join(dir, 'out');
    await mkdir(out);
    run('cairn', ['extract', 'latest'], { cwd: out, env });
    assertSameTree(await describeTree(out), await describeTree(src));

    // The installed command runs Node with the flags of its first line (`env -S`): seen in the running
    // process's own command line while it waits on standard input.
    const child = spawn('cairn', ['create', 'piped', '-'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
    let cmdline = '';
    for (let i = 0; i < 200 && !cmdline.includes('main.js'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '');
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin!.end('piped\n');
    assert.equal(await exited, 0);
    assert.deepEqual(cmdline.split('\0').filter(Boolean).slice(1, 1 + cairnNodeFlags().length), cairnNodeFlags(), cmdline);

    const help = run('npm', ['exec', '--yes', `--package=${tarball}`, '--', 'cairn', '--help'], { cwd: dir, env: { npm_config_prefer_offline: 'true' } });
    assert.match(help, /^Usage: cairn /m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
