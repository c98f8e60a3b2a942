/** The pipeline from compiled JavaScript: the engine alone is built with tsc into a temp dir and run by plain node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const SCRIPT = `
import { createKey, createPipeline, createCodec } from './dist/index.js';
const { key } = await createKey('repokey-aes-ocb', 'pw', { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } });
const pipeline = await createPipeline(key, { workers: 2, chunker: { min: 4096, avg: 16384, max: 65536 } });
const codec = await createCodec(key);
const data = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
let bytes = 0;
for await (const c of pipeline.run([data])) { codec.open(c.id, c.stored); bytes += c.size; }
await pipeline.close();
console.log('bytes ' + bytes);
`;

test('built engine (.js) starts its workers from dist and yields every byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-engine-dist-'));
  try {
    await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    const tsc = spawnSync(process.execPath, [
      join(root, 'node_modules/typescript/bin/tsc'), '--outDir', join(dir, 'dist'), '--rootDir', join(root, 'src/engine'),
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--lib', 'ES2023', '--types', 'node',
      '--strict', '--skipLibCheck', join(root, 'src/engine/index.ts'), join(root, 'src/engine/pipeline/worker.ts'),
    ], { cwd: root, encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    await writeFile(join(dir, 'try.mjs'), SCRIPT);
    const run = spawnSync(process.execPath, ['try.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), `bytes ${1 << 20}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
