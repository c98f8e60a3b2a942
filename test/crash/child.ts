/**
 * The process the crash test kills: it writes the model's transactions from `first` on into the
 * repository at LOCATION (a path or a backend URL) through the real code, printing `BEGIN t` before each commit and `DONE t`
 * after it resolves; in `compact` mode it also compacts after every commit. It never stops on its
 * own: the parent SIGKILLs it.
 *
 *   node --import tsx test/crash/child.ts LOCATION write|compact SEED FIRST
 */
import { openBackend } from '../../backends/index.js';
import { Repository } from '../../src/repository/index.js';
import { count, deletes, itemId, itemValue } from './model.js';

const [root, mode, seedText, firstText] = process.argv.slice(2);
const seed = Number(seedText);
const backend = await openBackend(root as string); // a path or a remote URL; credentials from the environment
const say = (line: string) => process.stdout.write(line + '\n');

const repo = await Repository.open(backend, { exclusive: mode === 'compact' });
say('READY');
for (let t = Number(firstText); ; t++) {
  for (let i = 0; i < count(seed, t); i++) await repo.put(itemId(seed, t, i), itemValue(seed, t, i));
  for (const [dt, di] of deletes(t)) await repo.delete(itemId(seed, dt, di));
  say(`BEGIN ${t}`);
  await repo.commit();
  say(`DONE ${t}`);
  if (mode === 'compact') await repo.compact({ threshold: 0.9 });
}
