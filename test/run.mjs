#!/usr/bin/env node
// Finds the test files for a group and hands them to Node's own test runner (through tsx),
// so the closing summary counts every test. Node 20's runner takes no globs, hence this file.
//
//   node test/run.mjs all                 every test that can run on this machine
//   node test/run.mjs unit                everything but the conformance runs of remote backends
//   node test/run.mjs backends [NAME...]  the conformance suite on the named backends (default: all)
import { readdirSync, statSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
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

const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=900000', ...files.map((f) => relative(root, f))];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
