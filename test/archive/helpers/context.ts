// Test fixtures: a repository on the memory or fs backend with a small-chunk codec, and tree helpers.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBackend } from '../../../backends/memory/index.js';
import { createChunker } from '../../../src/engine/chunker/index.js';
import { Repository } from '../../../src/repository/index.js';
import type { Backend } from '../../../src/store/backend.js';
import type { ArchiveContext, ChunkCodec } from '../../../src/archive/ports.js';

/** A codec with small chunks (so tests exercise many chunks) and ChaCha20-Poly1305 bound to the id. */
export function testCodec(): ChunkCodec {
  const macKey = randomBytes(32);
  const encKey = randomBytes(32);
  const seed = randomBytes(32);
  const data = createChunker(seed, { min: 4096, avg: 16384, max: 65536 });
  const items = createChunker(seed, { min: 1024, avg: 4096, max: 16384 });
  return {
    chunkId: (p) => createHmac('sha256', macKey).update(p).digest(),
    async seal(id, p) {
      const nonce = randomBytes(12);
      const c = createCipheriv('chacha20-poly1305', encKey, nonce, { authTagLength: 16 });
      c.setAAD(id, { plaintextLength: p.length });
      return Buffer.concat([nonce, c.update(p), c.final(), c.getAuthTag()]);
    },
    async open(id, stored) {
      const d = createDecipheriv('chacha20-poly1305', encKey, stored.subarray(0, 12), { authTagLength: 16 });
      d.setAAD(id, { plaintextLength: stored.length - 28 });
      d.setAuthTag(stored.subarray(stored.length - 16));
      return Buffer.concat([d.update(stored.subarray(12, stored.length - 16)), d.final()]);
    },
    chunks: (source, purpose) => (purpose === 'items' ? items : data).chunks(source),
  };
}

export interface Fixture {
  ctx: ArchiveContext & { repository: Repository };
  backend: Backend;
  dir: string;
  cacheDir: string;
  reopen(options?: { exclusive?: boolean }): Promise<Repository>;
  cleanup(): Promise<void>;
}

/** A fresh repository on a memory backend, a temp folder and a files cache folder. */
export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-archive-'));
  const backend = createMemoryBackend();
  const repository = await Repository.create(backend, { segmentSize: 1 << 20 });
  const ctx = { repository, codec: testCodec() };
  const fixture: Fixture = {
    ctx, backend, dir, cacheDir: join(dir, 'cache'),
    async reopen(options = {}) {
      await ctx.repository.close();
      ctx.repository = await Repository.open(backend, options);
      return ctx.repository;
    },
    async cleanup() {
      await ctx.repository.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
