// Shell completion and the man page are generated from the command tree (issue 11): every command
// and option createProgram defines is offered by the bash and fish scripts that `cairn completion`
// prints (run in the real shells), the zsh script loads in zsh, and the man page renders and names
// every command and option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/program.js';
import { createMemoryIO } from '../../src/cli/io.js';
import { cairn, ok, root } from './helpers.js';

/** Every command of the real program with its path and the flags of its options, straight from commander. */
function commands(): { path: string[]; flags: string[]; subcommands: string[] }[] {
  const out: { path: string[]; flags: string[]; subcommands: string[] }[] = [];
  const visit = (c: Command, path: string[]) => {
    out.push({ path, flags: c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined)), subcommands: c.commands.map((s) => s.name()) });
    for (const s of c.commands) visit(s, [...path, s.name()]);
  };
  visit(createProgram(createMemoryIO()), []);
  return out;
}

/** Whether `shell` is installed; in CI a missing shell fails the test instead of skipping it (.ci/run installs them). */
function have(shell: string): boolean {
  const found = spawnSync(shell, ['-c', 'exit 0']).status === 0;
  if (!found && process.env.CI) assert.fail(`${shell} is not installed (.ci/run installs it)`);
  return found;
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test('bash: the script offers every command, every option (global ones after any command) and choice values', async () => {
  const script = await ok(['completion', 'bash']);
  const all = commands();
  const cases: { words: string[]; expect: string[] }[] = [];
  const globals = all[0]!.flags;
  for (const c of all) {
    if (c.subcommands.length > 0) cases.push({ words: [...c.path, ''], expect: [...c.subcommands, ...(c.path.length === 0 ? ['help'] : [])] });
    cases.push({ words: [...c.path, '-'], expect: [...c.flags, '--help', ...(c.path.length > 0 ? globals : [])] });
    // Each option completes from its first letters, too.
    for (const flag of c.flags.filter((f) => f.startsWith('--'))) cases.push({ words: [...c.path, flag.slice(0, -1)], expect: [flag] });
  }
  // A global option's value is skipped when finding the command: `cairn -r REPO key <TAB>`.
  cases.push({ words: ['-r', '/x', 'key', ''], expect: ['export', 'import', 'change-passphrase'] });
  cases.push({ words: ['--repo', '/x', 'prune', '--keep-d'], expect: ['--keep-daily'] });
  cases.push({ words: ['completion', ''], expect: ['bash', 'zsh', 'fish'] });
  cases.push({ words: ['help', 'ke'], expect: ['key'] });
  const body = cases.map((c, i) => `COMP_WORDS=(cairn ${c.words.map(sq).join(' ')}); COMP_CWORD=${c.words.length}; _cairn; printf '${i}\\t%s\\n' "\${COMPREPLY[*]}"`).join('\n');
  const r = spawnSync('bash', ['--norc', '-c', `${script}\n${body}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const replies = new Map(r.stdout.trim().split('\n').map((line) => {
    const [i, words = ''] = line.split('\t');
    return [Number(i), words.split(' ').filter(Boolean)] as const;
  }));
  for (const [i, c] of cases.entries()) {
    const offered = replies.get(i) ?? [];
    for (const word of c.expect) assert.ok(offered.includes(word), `cairn ${c.words.join(' ')}<TAB> offers ${word} (got: ${offered.join(' ')})`);
  }
  assert.ok(all.length >= 17 && cases.length > all.length * 2, "the cases cover the whole tree");
});

test('fish: the script offers every command and option (complete -C in a real fish)', { skip: !have('fish') && 'fish is not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-completion-'));
  try {
    await writeFile(join(dir, 'cairn.fish'), await ok(['completion', 'fish']));
    assert.equal(spawnSync('fish', ['--no-execute', join(dir, 'cairn.fish')]).status, 0);
    const all = commands();
    const cases: { line: string; expect: string[] }[] = [];
    for (const c of all) {
      const prefix = ['cairn', ...c.path].join(' ');
      if (c.subcommands.length > 0) cases.push({ line: `${prefix} `, expect: c.subcommands });
      cases.push({ line: `${prefix} --`, expect: [...c.flags.filter((f) => f.startsWith('--')), '--help', ...(c.path.length > 0 ? ['--repo'] : [])] });
      cases.push({ line: `${prefix} -`, expect: c.flags.filter((f) => !f.startsWith('--')) });
    }
    cases.push({ line: 'cairn -r /x key ', expect: ['export', 'import', 'change-passphrase'] });
    cases.push({ line: 'cairn completion ', expect: ['bash', 'zsh', 'fish'] });
    const body = cases.map((c, i) => `for w in (complete -C ${sq(c.line)}); echo ${i}\\t(string split -f1 \\t -- $w); end`).join('\n');
    const r = spawnSync('fish', ['--no-config', '-c', `source ${sq(join(dir, 'cairn.fish'))}\n${body}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const replies = new Map<number, string[]>();
    for (const line of r.stdout.trim().split('\n')) {
      const [i, word = ''] = line.split('\t');
      replies.set(Number(i), [...(replies.get(Number(i)) ?? []), word]);
    }
    for (const [i, c] of cases.entries()) {
      const offered = replies.get(i) ?? [];
      for (const word of c.expect) assert.ok(offered.includes(word), `"${c.line}"<TAB> offers ${word} (got: ${offered.join(' ')})`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('zsh: the script parses and registers _cairn for cairn, with a function for every command', { skip: !have('zsh') && 'zsh is not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-completion-'));
  try {
    const file = join(dir, '_cairn');
    await writeFile(file, await ok(['completion', 'zsh']));
    const syntax = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    const fns = commands().map((c) => `_${['cairn', ...c.path].join('_').replace(/-/g, '_')}`);
    const r = spawnSync('zsh', ['-f', '-c', `autoload -U compinit; compinit -u -D; source ${sq(file)}; print -r -- "$_comps[cairn]"; whence -w ${fns.join(' ')}`], { encoding: 'utf8', env: { ...process.env, HOME: dir } });
    assert.equal(r.status, 0, r.stderr);
    const [registered, ...kinds] = r.stdout.trim().split('\n');
    assert.equal(registered, '_cairn');
    assert.deepEqual(kinds, fns.map((f) => `${f}: function`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('completion of an unknown shell is a usage error (exit 2, one line)', async () => {
  const r = await cairn(['completion', 'ksh']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('the man page generated by the build renders and names every command and option', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-man-'));
  try {
    const page = join(dir, 'cairn.1');
    const writer = process.env.CAIRN_TEST_BUILT === '1' ? [join(root, 'dist/src/cli/write-man.js')] : ['--import', 'tsx', join(root, 'src/cli/write-man.ts')];
    const built = spawnSync(process.execPath, [...writer, page], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    assert.match(await readFile(page, 'utf8'), /^\.TH CAIRN 1 /);
    const render = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-P-cbou', page], { encoding: 'utf8' });
    assert.equal(render.status, 0, render.stderr);
    assert.equal(render.stderr, '', 'no roff warnings');
    // Plain rendered text (-P-cbou: no bold or underline), hyphenated words joined again.
    const text = render.stdout.replace(/‐\n\s*/g, '').replace(/[‐−]/g, '-');
    for (const c of commands().slice(1)) {
      assert.match(text, new RegExp(`^ {3}${c.path.join(' ')}$`, 'm'), `section for ${c.path.join(' ')}`);
      for (const flag of c.flags) assert.ok(text.includes(flag), `${c.path.join(' ')} ${flag}`);
    }
    for (const flag of commands()[0]!.flags) assert.ok(text.includes(flag), flag);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
