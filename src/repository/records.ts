/**
 * Small named objects beside the log: the key blob (`keys/repokey`) and the records of the layer
 * above (`records/<name>`, one per archive). Each is one atomic backend object, outside the log, so
 * concurrent writers never race on a shared object; append-only mode forbids removing them.
 */
import type { Backend } from '../store/backend.js';
import { NotFoundError } from '../store/errors.js';
import { AppendOnlyError } from './errors.js';
import { QUARANTINE_PREFIX, RECORDS_PREFIX } from './layout.js';

/** The object's bytes, or undefined when it does not exist. */
export async function getOptional(backend: Backend, key: string): Promise<Uint8Array | undefined> {
  try {
    return await backend.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** Stores `records/<name>`; in append-only mode an existing record is never overwritten. */
export async function putRecord(backend: Backend, appendOnly: boolean, name: string, bytes: Uint8Array, ifAbsent: boolean): Promise<void> {
  if (appendOnly && !ifAbsent && await backend.stat(RECORDS_PREFIX + name)) {
    throw new AppendOnlyError(`the repository is append-only: record ${name} cannot be overwritten`);
  }
  await backend.put(RECORDS_PREFIX + name, bytes, { ifAbsent });
}

/** Names (without `records/`) of the records starting with `prefix`, in ascending order. */
export async function* listRecords(backend: Backend, prefix: string): AsyncIterable<string> {
  for await (const { key } of backend.list(RECORDS_PREFIX + prefix)) yield key.slice(RECORDS_PREFIX.length);
}

/** Deletes `records/<name>` (idempotent); refused in append-only mode. */
export async function deleteRecord(backend: Backend, appendOnly: boolean, name: string): Promise<void> {
  if (appendOnly) throw new AppendOnlyError(`the repository is append-only: record ${name} cannot be deleted`);
  await backend.delete(RECORDS_PREFIX + name);
}

/**
 * Moves `records/<name>` to `quarantine/records-<name>` (copied whole first, then deleted) and
 * returns the quarantine key. Allowed in append-only mode, like the rest of repair: the record is
 * kept, only set aside.
 */
export async function quarantineRecord(backend: Backend, name: string): Promise<string> {
  const key = `${QUARANTINE_PREFIX}records-${name}`;
  await backend.put(key, await backend.get(RECORDS_PREFIX + name));
  await backend.delete(RECORDS_PREFIX + name);
  return key;
}
