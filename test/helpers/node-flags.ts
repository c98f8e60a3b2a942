// The Node options the `cairn` executable runs with: those of its first line (`#!/usr/bin/env -S node FLAGS`,
// src/cli/main.ts). Tests and benchmarks that start the executable as `node main.js` pass them too, so they measure
// and test what an installed `cairn` runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

let flags: string[] | undefined;

/** The flags of the shebang line of src/cli/main.ts, e.g. `['--max-semi-space-size=8']` (read once per process). */
export function cairnNodeFlags(): string[] {
  flags ??= readFlags();
  return [...flags];
}

function readFlags(): string[] {
  const first = readFileSync(join(root, 'src/cli/main.ts'), 'utf8').split('\n', 1)[0];
  const match = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=\S+)?)*)$/.exec(first);
  if (!match) throw new Error(`src/cli/main.ts must start with "#!/usr/bin/env -S node [--flag...]", not ${JSON.stringify(first)}`);
  return match[1].split(' ').filter(Boolean);
}
