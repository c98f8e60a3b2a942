/**
 * A small, honest demo of what exists today: store a few files' bytes in an fs backend in a temp
 * folder, list them, read them back and check them byte for byte. Until the CLI exists this is
 * what README's first command runs. Usage: node --import tsx test/demo/fs-demo.ts [FILE...]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBackend } from '../../backends/index.js';
import { composeBackend } from '../../src/store/index.js';

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['package.json', 'README.md', 'src/store/backend.ts', 'docs/backend-contract.md'].map((f) => join(repoRoot, f));

const dir = await mkdtemp(join(tmpdir(), 'cairn-demo-'));
try {
  const store = composeBackend(await openBackend(join(dir, 'store')), { timeoutMs: 30_000 });
  await store.create();
  for (const [i, file] of files.entries()) {
    const bytes = await readFile(file);
    await store.put(`files/${i}-${basename(file).replace(/[^A-Za-z0-9._=-]/g, '_').replace(/^\./, '_')}`, bytes, { ifAbsent: true });
  }
  let ok = 0;
  for await (const { key, size } of store.list('files/')) {
    const original = await readFile(files[Number(key.slice(6, key.indexOf('-')))] as string);
    const same = Buffer.from(await store.get(key)).equals(original);
    console.log(`${same ? 'ok  ' : 'FAIL'} ${key} (${size} bytes)`);
    if (same) ok += 1;
  }
  console.log(`${ok}/${files.length} files stored in ${store.location} and read back byte-exact`);
  if (ok !== files.length) process.exitCode = 1;
  await store.destroy();
} finally {
  await rm(dir, { recursive: true, force: true });
}
