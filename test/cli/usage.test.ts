// The command line itself: help, exit codes, one-line errors, placeholders, secret masking —
// in-process through runMain and once through the real executable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../../src/cli/run.js';
import { createMemoryIO } from '../../src/cli/io.js';
import { expandPlaceholders } from '../../src/cli/placeholders.js';
import { describeError, redactSecrets, UsageError } from '../../src/cli/errors.js';
import { NoSpaceError } from '../../src/store/errors.js';
import { runPrune } from '../../src/cli/commands/prune.js';
import { PruneRulesError } from '../../src/archive/prune-policy.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
const COMMANDS = ['rcreate', 'rinfo', 'rlist', 'rdelete', 'create', 'list', 'extract', 'info', 'diff', 'delete', 'prune', 'compact', 'check', 'key', 'rename', 'dump', 'find', 'stats', 'transfer'];

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const io = createMemoryIO({ env });
  const code = await runMain(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function assertOneLine(stderr: string): void {
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `expected one line, got: ${stderr}`);
  assert.match(lines[0]!, /^cairn: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

test('--help exits 0 and names every command; every command has its own help', async () => {
  const top = await run(['--help']);
  assert.equal(top.code, 0);
  for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${name} `));
  for (const name of COMMANDS) assert.equal((await run([name, '--help'])).code, 0, name);
  for (const sub of ['export', 'import', 'change-passphrase']) assert.equal((await run(['key', sub, '--help'])).code, 0, sub);
});

test('usage errors exit 2 with one line and touch nothing', async () => {
  const cases: Array<[string[], NodeJS.ProcessEnv]> = [
    [['rlist'], {}],
    [['bogus'], {}],
    [['-r', '/nonexistent', 'create'], {}],
    [['-r', '/nonexistent', 'rcreate', '--encryption', 'rot13'], {}],
    [['-r', '/nonexistent', 'prune', '--keep-daily', 'seven'], {}],
    [['-r', '/nonexistent', 'prune'], {}],
    [['create', 'x-{nosuch}', '/tmp'], { CAIRN_REPO: '/nonexistent' }],
    [['-r', '/nonexistent', 'check', '--repository-only', '--archives-only'], {}],
    [['-r', '/nonexistent', 'check', '--verify-data-subset', '150%'], {}],
    [['-r', '/nonexistent', 'check', '--dry-run'], {}],
    [['-r', '/nonexistent', 'check', '--repair'], {}],
    [['-r', '/nonexistent', 'create', '-C', 'brotli', 'a', '/tmp'], {}],
    [['-r', '/nonexistent', 'delete'], {}],
    [['-r', '/nonexistent', 'rdelete'], {}],
    [['-r', '/nonexistent', 'transfer'], {}],
  ];
  for (const [argv, env] of cases) {
    const r = await run(argv, env);
    assert.equal(r.code, 2, argv.join(' '));
    assertOneLine(r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('prune refuses missing rules before it opens the repository', async () => {
  await assert.rejects(runPrune({ repo: '/nonexistent', rules: {} }, createMemoryIO()), (e: unknown) => e instanceof PruneRulesError && e.code === 'EPRUNE_RULES');
});

test('placeholders expand like Borg and reject unknown names', () => {
  const ctx = { now: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), hostname: 'box.example.org', user: 'ann', pid: 42 };
  assert.equal(expandPlaceholders('{hostname}-{fqdn}-{user}-{pid}', ctx), 'box-box.example.org-ann-42');
  assert.equal(expandPlaceholders('{utcnow}', ctx), '2026-01-02T03:04:05');
  assert.equal(expandPlaceholders('{utcnow:%Y%m%d-%j}', ctx), '20260102-002');
  assert.equal(expandPlaceholders('{{literal}}', ctx), '{literal}');
  assert.throws(() => expandPlaceholders('{host}', ctx), (e: unknown) => e instanceof UsageError && e.code === 'EUSAGE');
  assert.throws(() => expandPlaceholders('{now:%Q}', ctx), (e: unknown) => e instanceof UsageError);
});

test('error lines mask credentials and name files for errno failures', () => {
  assert.equal(redactSecrets('s3://AK:SECRETKEY@host/b?x-amz-signature=abc&region=eu'), 's3://AK:***@host/b?x-amz-signature=***&region=eu');
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/data/x' });
  assert.equal(describeError(enoent), '/data/x: no such file or folder');
  assert.doesNotMatch(describeError(new TypeError('boom')), /\n/);
});

test('a full disk (store ENO_SPACE, errno ENOSPC/EDQUOT) reads as one line that says what to do, beyond what failed', () => {
  const store = new NoSpaceError('fs put data/x: the disk or quota is full (ENOSPC)', { backend: 'fs' });
  const line = describeError(store);
  assert.ok(line.startsWith(store.message) && line.length > store.message.length + 20, line);
  for (const code of ['ENOSPC', 'EDQUOT']) {
    const errno = Object.assign(new Error(`${code}: write`), { code, path: '/data/x' });
    assert.ok(describeError(errno).startsWith('/data/x: ') && describeError(errno).length > '/data/x: no space left on the device'.length, describeError(errno));
    assert.doesNotMatch(describeError(errno), /\n/);
  }
});

test('the executable exits 2 with one line when no repository is given', () => {
  const env = { ...process.env };
  delete env.CAIRN_REPO;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'rinfo'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assertOneLine(r.stderr);
  const help = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), '--version'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^\d+\.\d+\.\d+\n$/);
});
