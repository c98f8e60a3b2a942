/**
 * Which objects of a store are the repository's: `create` writes only into an empty store (or
 * prefix), and `destroy` deletes only keys of cairn's own grammar (`isRepositoryKey`), so files
 * that were never part of the repository survive a mistaken `rcreate` + `rdelete`.
 */
import { randomBytes } from 'node:crypto';
import type { Backend } from '../store/backend.js';
import { AlreadyExistsError, UnsupportedStoreError } from '../store/errors.js';
import { CONFIG_KEY, isProbeKey, isRepositoryKey, KEY_BLOB_KEY, probeKey } from './layout.js';
import { StoreNotEmptyError } from './errors.js';
import { deleteAll } from './index-load.js';

/** What `destroy` deleted (or would delete) and what it left because cairn did not write it. */
export interface DestroyReport {
  /** Number of repository objects deleted (or to delete, in a dry run), own lock included. */
  deleted: number;
  /** Keys in the store that are not cairn's, left in place, in key order. */
  kept: string[];
}

/**
 * Throws `StoreNotEmptyError` when the store holds any object other than a `config` (a `config`
 * is left to `writeConfig`, which reports an existing repository) or a probe left by an interrupted
 * `rcreate`. Reads one listing entry at most beyond those.
 */
export async function assertEmptyStore(backend: Backend): Promise<void> {
  for await (const { key } of backend.list('')) {
    if (key === CONFIG_KEY || isProbeKey(key)) continue;
    throw new StoreNotEmptyError(`${backend.location} is not empty (it holds ${JSON.stringify(key)}) and is not a cairn repository`);
  }
}

/**
 * Proves that the store honours conditional create (`put` with `ifAbsent`) before anything of the
 * repository is written: puts a fresh probe key twice with different bytes, and the second put
 * must fail with `AlreadyExistsError`. A store that answers 501 fails the first put with
 * `UnsupportedStoreError`; one that silently ignores `If-None-Match` (older S3-compatible stores
 * and gateways) lets the second succeed, and would let two hosts both take the exclusive lock or
 * both commit the same archive name, so it is refused with `UnsupportedStoreError` too
 * (docs/backends.md, "What a store must support"). The probe is deleted either way.
 */
export async function assertConditionalWrites(backend: Backend): Promise<void> {
  const key = probeKey(randomBytes(8).toString('hex'));
  await backend.put(key, randomBytes(16), { ifAbsent: true });
  try {
    await backend.put(key, randomBytes(16), { ifAbsent: true });
  } catch (err) {
    if (err instanceof AlreadyExistsError) return;
    throw err;
  } finally {
    await backend.delete(key).catch(() => undefined);
  }
  throw new UnsupportedStoreError(`${backend.location} ignores conditional writes (a second create of the same key succeeded); `
    + 'cairn needs them to keep two writers apart and will not create a repository there', { backend: backend.name });
}

/**
 * Deletes every repository object, the lock `ownLock` excepted (its holder releases it), with the
 * config and the key blob last, so an interrupted run leaves a repository that opens and can be
 * destroyed again. Objects outside the key grammar are counted in `kept`, never deleted.
 */
export async function destroyStore(backend: Backend, ownLock: string | undefined, dryRun: boolean): Promise<DestroyReport> {
  const ours: string[] = [];
  const kept: string[] = [];
  for await (const { key } of backend.list('')) (isRepositoryKey(key) ? ours : kept).push(key);
  if (!dryRun) {
    const last = new Set([CONFIG_KEY, KEY_BLOB_KEY]);
    await deleteAll(backend, ours.filter((k) => !last.has(k) && k !== ownLock));
    if (ours.includes(KEY_BLOB_KEY)) await backend.delete(KEY_BLOB_KEY);
    await backend.delete(CONFIG_KEY);
  }
  return { deleted: ours.length, kept };
}
