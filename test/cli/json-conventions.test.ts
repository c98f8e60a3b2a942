// Every command's --json output follows the conventions of docs/cli.md "JSON output" (code review
// D15): only JSON on standard output; times ISO 8601 UTC with nanoseconds; sizes and counts whole
// numbers; durations whole milliseconds named …Ms; camelCase keys; `dryRun: true` from a dry run;
// the request counts (`backend`) of every command that opens the repository; errors as one JSON line.
// The commands come from the program itself: a command added later without an entry here fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/program.js';
import { createMemoryIO } from '../../src/cli/io.js';
import { PASSPHRASE, cairn, workspace } from './helpers.js';

/** How each command is run here, in order; `null`: its output is not JSON by design (a script, a file's bytes). */
const RUNS: [command: string, args: string[] | null][] = [
  ['rinfo', ['rinfo']],
  ['rlist', ['rlist']],
  ['create', ['create', 'a3', '.']],
  ['create', ['create', '--dry-run', 'a4', '.']],
  ['list', ['list', 'a1']],
  ['extract', ['extract', 'a1', '--dry-run']],
  ['info', ['info']],
  ['info', ['info', 'a1']],
  ['diff', ['diff', 'a1', 'a2']],
  ['delete', ['delete', 'a1', '--dry-run']],
  ['prune', ['prune', '--keep-last', '2', '--dry-run']],
  ['compact', ['compact', '--dry-run']],
  ['compact', ['compact']],
  ['check', ['check']],
  ['key export', ['key', 'export']],
  ['key export', ['key', 'export', 'exported.key']],
  ['key import', ['key', 'import', 'exported.key']],
  ['key change-passphrase', ['key', 'change-passphrase']],
  ['break-lock', ['break-lock', '--yes']],
  // Commands other engineers add this session, under the agreed names (run when the program has them).
  ['find', ['find', '*']],
  ['stats', ['stats']],
  ['stats', ['stats', 'a1']],
  ['dump', null],
  ['export-tar', ['export-tar', 'a1', '../a1.tar']],
  ['import-tar', ['import-tar', 'a1-imported', '../a1.tar']],
  ['rename', ['rename', 'a2', 'a2-renamed']],
  ['completion', null],
  // Runs until unmounted; its --json line is checked by test/cli/mount.test.ts.
  ['mount', null],
  // Runs until stopped; with --json its one line is {"url", "readOnly"} (test/cli/serve.test.ts).
  ['serve', null],
  // `@other`: a repository related to this one (made by rcreate --other-repo before the runs).
  ['transfer', ['transfer', '--other-repo', '@other', '--dry-run']],
  ['transfer', ['transfer', '--other-repo', '@other']],
  ['rdelete', ['rdelete', '--dry-run']],
  ['rdelete', ['rdelete', '--yes']],
];

/** Every command path of the program that runs something (groups such as `key` only hold others). */
function programCommands(): { name: string; options: string[] }[] {
  const out: { name: string; options: string[] }[] = [];
  const visit = (c: Command, path: string[]) => {
    if (path.length > 0 && c.commands.length === 0) out.push({ name: path.join(' '), options: c.options.map((o) => o.long!) });
    for (const s of c.commands) visit(s, [...path, s.name()]);
  };
  visit(createProgram(createMemoryIO()), []);
  return out;
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const TIME_KEYS = new Set(['time', 'start', 'end', 'since', 'refreshed', 'expires', 'mtime', 'ctime', 'atime']);

/** Every convention a value must meet, recursively; `where` names it in failures. */
function checkValue(value: unknown, where: string, key?: string): void {
  if (typeof value === 'number') {
    assert.ok(Number.isFinite(value), `${where}: a finite number`);
    if (!key?.endsWith('Ratio')) assert.ok(Number.isInteger(value), `${where} = ${value}: a whole number (bytes, counts, milliseconds)`);
  } else if (typeof value === 'string') {
    if (key !== undefined && TIME_KEYS.has(key) || /^\d{4}-\d\d-\d\dT\d\d/.test(value)) assert.match(value, TIME, `${where}: ISO 8601 UTC with nanoseconds`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkValue(v, `${where}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assert.match(k, /^[a-z][a-zA-Z0-9]*$/, `${where}.${k}: camelCase key`);
      assert.ok(!/^(duration|seconds|elapsed)$/.test(k), `${where}.${k}: a duration is whole milliseconds named …Ms`);
      if (TIME_KEYS.has(k) && v !== null) assert.equal(typeof v, 'string', `${where}.${k}: a time is a string`);
      checkValue(v, `${where}.${k}`, k);
    }
  }
}

function checkBackend(doc: Record<string, unknown>, where: string): void {
  const b = doc.backend as { requests?: Record<string, number>; retries?: number; bytesUp?: number; bytesDown?: number } | undefined;
  assert.ok(b && typeof b.requests === 'object' && typeof b.retries === 'number' && typeof b.bytesUp === 'number' && typeof b.bytesDown === 'number', `${where}: ends with the request counts ("backend")`);
}

test('every command\'s --json output follows the JSON conventions of docs/cli.md', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'hello\n');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cairn(['-r', ws.repo, '--json', ...args], { cwd: src, env });
    const docs = async (args: string[], env?: NodeJS.ProcessEnv) => {
      const r = await run(args, env);
      assert.ok(r.code === 0 || r.code === 1, `cairn ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.ok(lines.length > 0, `cairn --json ${args.join(' ')} printed nothing`);
      return lines.map((line, i) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return assert.fail(`cairn --json ${args.join(' ')}: line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
        }
      });
    };
    const setup = [await docs(['rcreate', '-e', 'repokey']), await docs(['create', 'a1', '.'])];
    await writeFile(join(src, 'sub', 'b.txt'), 'more\n');
    setup.push(await docs(['create', 'a2', '.']));

    const commands = programCommands();
    const known = new Set(RUNS.map(([c]) => c));
    const missing = commands.filter((c) => !known.has(c.name) && c.name !== 'rcreate');
    assert.deepEqual(missing.map((c) => c.name), [], 'every command has an entry in RUNS (its --json run, or null)');

    const outputs: [string, Record<string, unknown>[]][] = [['rcreate -e repokey', setup[0]!], ['create a1 .', setup[1]!]];
    const other = join(ws.dir, 'other');
    if (commands.some((c) => c.name === 'transfer')) {
      const made = await cairn(['-r', other, '--json', 'rcreate', '-e', 'repokey', '--other-repo', ws.repo], { env: { CAIRN_OTHER_PASSPHRASE: PASSPHRASE } });
      assert.equal(made.code, 0, made.stderr);
      outputs.push(['rcreate --other-repo', [JSON.parse(made.stdout) as Record<string, unknown>]]);
    }
    for (const [name, templateArgs] of RUNS) {
      const command = commands.find((c) => c.name === name);
      if (!command || templateArgs === null) continue;
      const args = templateArgs.map((a) => (a === '@other' ? other : a));
      if (args.includes('--dry-run') && !command.options.includes('--dry-run')) continue;
      const out = await docs(args, name === 'key change-passphrase' ? { CAIRN_NEW_PASSPHRASE: PASSPHRASE } : name === 'transfer' ? { CAIRN_OTHER_PASSPHRASE: PASSPHRASE } : {});
      outputs.push([args.join(' '), out]);
      const last = out.at(-1)!;
      checkBackend(last, args.join(' '));
      if (args.includes('--dry-run')) {
        if (out.length === 1) assert.equal(last.dryRun, true, `${args.join(' ')}: "dryRun": true`);
        else for (const line of out.slice(0, -1)) assert.match(String(line.action), /^(keep|would )/, `${args.join(' ')}: a dry run only says what it would do`);
      }
    }
    for (const [what, out] of outputs) out.forEach((doc, i) => checkValue(doc, `cairn --json ${what} (line ${i + 1})`));
    assert.ok(outputs.length >= 20);
  } finally {
    await ws.cleanup();
  }
});

test('with --json an error is one JSON line on standard error, {"error": {"code", "message"}}, exit 2', async () => {
  const ws = await workspace();
  try {
    for (const [args, code] of [
      [['-r', join(ws.dir, 'none'), '--json', 'rlist'], 'ENOT_A_REPOSITORY'],
      [['--json', 'rlist'], 'EUSAGE'],
      [['rlist', '--json', '--no-such-option'], 'EUSAGE'],
      [['-r', ws.repo, 'prune', '--json'], 'EPRUNE_RULES'],
    ] as const) {
      const r = await cairn([...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      const parsed = JSON.parse(lines[0]!) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, code, args.join(' '));
      assert.ok(parsed.error.message.length > 0);
    }
  } finally {
    await ws.cleanup();
  }
});
