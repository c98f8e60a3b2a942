/**
 * `node --import tsx hold-lock.ts REPO`: takes a writer's lock, lets it be refreshed once, prints the
 * lock's key and its first content (base64), and exits without releasing it: a writer killed while
 * holding its lock, as the damage campaign's repository keeps one.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openBackend } from '../../../backends/index.js';
import { Repository } from '../../../src/repository/index.js';

const repo = process.argv[2]!;
await Repository.open(await openBackend(repo), { lockOptions: { refreshMs: 100 } });
const key = `locks/${(await readdir(join(repo, 'locks'))).find((n) => n.startsWith('shared-'))}`;
const first = await readFile(join(repo, key));
let now = first;
for (let i = 0; i < 50 && now.equals(first); i++) {
  await new Promise((r) => setTimeout(r, 100));
  now = await readFile(join(repo, key));
}
process.stdout.write(`${key}\n${first.toString('base64')}\n`);
process.exit(0);
