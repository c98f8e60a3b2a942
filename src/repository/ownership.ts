/**
 * Which objects of a store are the repository's: `create` writes only into an empty store (or
 * prefix), and `destroy` deletes only keys of cairn's own grammar (`isRepositoryKey`), so files
 * that were never part of the repository survive a mistaken `rcreate` + `rdelete`.
 */
import type { Backend } from '../store/backend.js';
import { CONFIG_KEY, isRepositoryKey, KEY_BLOB_KEY } from './layout.js';
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
 * is left to `writeConfig`, which reports an existing repository). Reads one listing entry at most
 * beyond the config.
 */
export async function assertEmptyStore(backend: Backend): Promise<void> {
  for await (const { key } of backend.list('')) {
    if (key === CONFIG_KEY) continue;
    throw new StoreNotEmptyError(`${backend.location} is not empty (it holds ${JSON.stringify(key)}) and is not a cairn repository`);
  }
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
