/**
 * Command line for the dataset: `node --import tsx test/bench/dataset/cli.ts generate DIR [SIZE]`
 * or `... mutate DIR`; prints the summary as JSON. The seed is CAIRN_BENCH_SEED (default fixed).
 */
import { generateDataset, parseSize } from './generate.js';
import { mutateDataset } from './mutate.js';

const [command, dir, size] = process.argv.slice(2);
const seed = process.env.CAIRN_BENCH_SEED ?? 'cairn-bench-1';
if (command === 'generate' && dir) {
  console.log(JSON.stringify(await generateDataset(dir, { bytes: parseSize(size ?? process.env.CAIRN_BENCH_SIZE ?? '1G'), seed })));
} else if (command === 'mutate' && dir) {
  console.log(JSON.stringify(await mutateDataset(dir, { seed })));
} else {
  console.error('usage: cli.ts generate DIR [SIZE] | mutate DIR');
  process.exitCode = 2;
}
