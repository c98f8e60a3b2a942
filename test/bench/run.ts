/**
 * `npm run bench -- NAME [NAME...] [-- ARGS]`: runs `test/bench/<name>.ts`, whose default export is
 * `async function run(args: string[]): Promise<void>`, one after another. Arguments after a
 * second `--` (or any starting with "-") are passed to each benchmark.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runtimeLine } from '../helpers/runtime.js';

const here = dirname(fileURLToPath(import.meta.url));
const available = () => readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3)).sort();

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const head = split < 0 ? argv : argv.slice(0, split);
const names = head.filter((a) => !a.startsWith('-'));
const args = [...head.filter((a) => a.startsWith('-')), ...(split < 0 ? [] : argv.slice(split + 1))];

if (names.length === 0) {
  console.error(`usage: npm run bench -- NAME [NAME...]   (available: ${available().join(', ')})`);
  process.exit(2);
}
for (const name of names) {
  const file = join(here, `${name}.ts`);
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    console.error(`no benchmark "${name}" (available: ${available().join(', ')})`);
    process.exit(2);
  }
}
for (const name of names) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default?: (args: string[]) => Promise<void> };
  if (typeof mod.default !== 'function') {
    console.error(`test/bench/${name}.ts has no default-exported run function`);
    process.exit(2);
  }
  console.log(`== bench ${name} on ${await runtimeLine()}`);
  await mod.default(args);
}
