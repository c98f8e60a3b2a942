// Memory bounds of a backup on a small machine (issue 13, docs/performance.md): each pipeline worker
// runs with a small V8 young generation (Node 24's default is 4× Node 20's, per worker), and a
// backup reads at most one large file per core at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKey } from '../../src/engine/index.js';
import { WorkerPool, WORKER_YOUNG_GENERATION_MB } from '../../src/engine/pipeline/pool.js';
import { parseCompression } from '../../src/engine/compress/index.js';
import { largeFileLimit } from '../../src/archive/create.js';

test('every pipeline worker runs with the small young generation', async () => {
  const { key } = await createKey('repokey-aes-ocb', 'pw', { kdf: { memoryKiB: 64, iterations: 1, parallelism: 1 } });
  const pool = await WorkerPool.start(2, { key, compression: parseCompression('lz4') });
  try {
    const limits = pool.resourceLimits();
    assert.equal(limits.length, 2);
    for (const l of limits) assert.equal(l.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB);
    assert.ok(WORKER_YOUNG_GENERATION_MB <= 16);
  } finally {
    await pool.close();
  }
});

test('a backup reads one large file per core at once (at most 4), or what --concurrency says', () => {
  assert.equal(largeFileLimit(undefined, 2), 2);
  assert.equal(largeFileLimit(undefined, 1), 1);
  assert.equal(largeFileLimit(undefined, 16), 4);
  assert.equal(largeFileLimit(8, 2), 8);
});
