// The index cache's file (ADR 0051): private, replaced atomically, read with a size bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileIndexCacheStorage, indexCachePath } from '../../src/archive/index-cache.js';

test('index cache file: 0600 in a 0700 folder, no temp file left, nothing read past the bound', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-index-cache-'));
  try {
    const path = indexCachePath(join(dir, 'cairn', 'f'.repeat(64)));
    const storage = fileIndexCacheStorage(path);
    assert.equal(await storage.read(1024), undefined, 'no file yet');
    const bytes = new Uint8Array(1000).fill(7);
    await storage.write(bytes);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'cairn', 'f'.repeat(64)))).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(join(dir, 'cairn', 'f'.repeat(64))), ['index']);
    assert.deepEqual(await storage.read(1000), bytes);
    assert.equal(await storage.read(999), undefined, 'larger than the bound: not read');
    await writeFile(path, new Uint8Array(5));
    assert.equal((await storage.read(1000))?.length, 5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
