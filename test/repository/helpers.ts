/** Shared helpers of the repository tests: the backends to run on, ids and values. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Backend } from '../../src/store/backend.js';
import { createMemoryBackend } from '../../backends/memory/index.js';
import { createFsBackend } from '../../backends/fs/index.js';

export interface TestStore {
  /** A new client for the same store (as a second process would have). */
  client(): Backend;
  cleanup(): Promise<void>;
}

/** The backends every repository test runs on. */
export const STORES: { name: string; make(): Promise<TestStore> }[] = [
  {
    name: 'memory',
    async make() {
      const backend = createMemoryBackend();
      return { client: () => backend, cleanup: async () => {} };
    },
  },
  {
    name: 'fs',
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'cairn-repo-test-'));
      return { client: () => createFsBackend(join(dir, 'repo')), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

/** A deterministic 32-byte id. */
export function idOf(label: string | number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`id:${label}`).digest());
}

/** A deterministic value of `size` bytes for `label`. */
export function valueOf(label: string | number, size = 100 + (Number(createHash('sha256').update(`n:${label}`).digest().readUInt16LE(0)) % 3000)): Uint8Array {
  const out = new Uint8Array(size);
  let block = createHash('sha256').update(`v:${label}`).digest();
  for (let i = 0; i < size; i += 32) {
    out.set(block.subarray(0, Math.min(32, size - i)), i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
