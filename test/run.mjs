#!/usr/bin/env node
// Finds the test files for a group and hands them to Node's own test runner (through tsx),
// so the closing summary counts every test. Node 20's runner takes no globs, hence this file.
//
//   node test/run.mjs all                 every test that can run on this machine
//   node test/run.mjs unit                everything but the conformance runs of remote backends
//   node test/run.mjs backends [NAME...]  the conformance suite on the named backends (default: all)
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const REMOTE = ['sftp', 's3', 'gcs', 'azure'];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const [group = 'all', ...rest] = process.argv.slice(2).filter((a) => a !== '--');
const all = walk(join(root, 'test'));
const backendFile = (name) => join(root, 'test', 'backends', `${name}.test.ts`);
let files;
if (group === 'all') files = all;
else if (group === 'unit') files = all.filter((f) => !REMOTE.some((n) => f === backendFile(n)));
else if (group === 'backends') {
  const names = rest.length ? rest : all.filter((f) => f.startsWith(join(root, 'test', 'backends') + '/')).map((f) => basename(f, '.test.ts'));
  files = names.map(backendFile);
  const missing = files.filter((f) => !all.includes(f));
  if (missing.length) {
    console.error(`no conformance test for: ${missing.map((f) => basename(f, '.test.ts')).join(', ')} (see test/backends/)`);
    process.exit(2);
  }
} else {
  console.error(`unknown test group "${group}": use all, unit or backends [NAME...]`);
  process.exit(2);
}

// The end-to-end tests run the built `cairn` executable (dist/src/cli/main.js), as users run it:
// build it first. CAIRN_TEST_BUILT=0 runs them on the TypeScript sources through tsx instead.
const env = { ...process.env };
if (env.CAIRN_TEST_BUILT !== '0') {
  const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // The rest of `npm run build`: the man page generated from the command tree (dist/man/cairn.1).
  const man = build.status === 0 ? spawnSync(process.execPath, [join(root, 'dist/src/cli/write-man.js'), join(root, 'dist/man/cairn.1')], { cwd: root, stdio: 'inherit' }) : build;
  if (build.status !== 0 || man.status !== 0) {
    console.error('the build failed: fix it (npm run build) or run the tests on the sources with CAIRN_TEST_BUILT=0');
    process.exit(2);
  }
  env.CAIRN_TEST_BUILT = '1';
}

// TAP goes to stdout as before; a second, spec reporter writes to a file whose "failing tests"
// section (each failure with its error and stack) is printed last, so the end of a CI log (often
// all that is kept) says why a test failed, not only that it did.
const specFile = join(mkdtempSync(join(tmpdir(), 'cairn-test-run-')), 'spec.txt');
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=900000',
  '--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=spec', `--test-reporter-destination=${specFile}`,
  ...files.map((f) => relative(root, f))];
const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
if (result.status !== 0) {
  const spec = existsSync(specFile) ? readFileSync(specFile, 'utf8') : '';
  const at = spec.lastIndexOf('failing tests:');
  if (at >= 0) {
    const lines = spec.slice(at).split('\n');
    const text = `\n# ${lines.slice(0, 400).join('\n# ')}${lines.length > 400 ? `\n# ... ${lines.length - 400} more lines` : ''}`;
    console.log(text);
    // .ci/run collects these from both Nodes' runs and prints them once more at its very end.
    if (process.env.CAIRN_TEST_FAILURES) appendFileSync(process.env.CAIRN_TEST_FAILURES, `# on Node ${process.version}:${text}\n`);
  }
}
rmSync(dirname(specFile), { recursive: true, force: true });
process.exit(result.status ?? 1);
