/**
 * Where a repository's sealed key is and how it is replaced: the rules every open and every `key` command share.
 * A keyfile-mode key lives only in a local key file (the given one, else `keyFilePath(id)`) and the repository's
 * `keys/repokey` is then never read; any other key lives in `keys/repokey`, which must not hold a keyfile-mode key.
 * A key is accepted only for the repository whose id it seals, and only if it is the key this machine knows.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { changePassphrase, describeKey, keyFingerprint, openKey, type KdfParams, type KeyMaterial, type KeyMode } from '../engine/index.js';
import type { Repository } from '../repository/index.js';
import { ArchiveError, RepositorySecurityError } from './errors.js';
import { writeKeyFile } from './key-file.js';
import { loadSecurityState, saveSecurityState, securityStatePath, type SecurityState } from './security-state.js';

/** How to find the key: an explicit key file, the environment (for the default paths), the security folder. */
export interface KeyLocation {
  keyFile?: string;
  env?: NodeJS.ProcessEnv;
  securityDir?: string;
}

/** A located key blob: `path` is the key file it came from, undefined when it came from the repository. */
export interface LocatedKey { blob: Uint8Array; mode: KeyMode; path?: string }

/** The key file location of a keyfile-mode repository. */
export function keyFilePath(repositoryId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'cairn', 'keys', repositoryId);
}

export const short = (id: string): string => id.slice(0, 16);
export const isKeyfileMode = (mode: KeyMode): boolean => mode.startsWith('keyfile-');

/**
 * The sealed key: the given key file; else, for a repository known to be keyfile-mode or when the default key file
 * exists, that file (never the repository's blob); else the repository's blob, which must not be a keyfile-mode key.
 */
export async function locateKeyBlob(repository: Repository, known: SecurityState | undefined, where: KeyLocation): Promise<LocatedKey> {
  const id = repository.config.id;
  const path = where.keyFile ?? keyFilePath(id, where.env);
  const local = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (local || where.keyFile !== undefined || (known && isKeyfileMode(known.mode))) {
    if (!local) throw new ArchiveError('EKEY_MISSING', `no key file for repository ${short(id)} at ${path}: give it with --key-file PATH (or CAIRN_KEY_FILE), or restore it with "cairn key import FILE"`);
    const mode = describeKey(local).mode;
    if (!isKeyfileMode(mode)) {
      throw new RepositorySecurityError('ESECURITY_KEY_PLACEMENT', `the key file ${path} holds a ${mode} key, not a keyfile-mode one: give the right key file with --key-file PATH`);
    }
    return { blob: local, mode, path };
  }
  const blob = await repository.getKeyBlob();
  if (!blob) throw new ArchiveError('EKEY_MISSING', `no key for repository ${short(id)}: give its key file with --key-file PATH (or CAIRN_KEY_FILE), or restore an exported key with "cairn key import FILE"`);
  const mode = describeKey(blob).mode;
  if (isKeyfileMode(mode)) {
    throw new RepositorySecurityError('ESECURITY_KEY_PLACEMENT', `the repository holds a ${mode} key in keys/repokey, where a keyfile-mode key never is (someone may have planted it): give the real key file with --key-file PATH`);
  }
  return { blob, mode };
}

/** Refuses key material sealed for another repository (`ESECURITY_WRONG_REPOSITORY`). */
export function checkKeyRepository(key: KeyMaterial, repositoryId: string): void {
  if (key.repositoryId !== repositoryId) {
    throw new RepositorySecurityError('ESECURITY_WRONG_REPOSITORY', `the key belongs to repository ${short(key.repositoryId)}, not to ${short(repositoryId)}: use this repository's own key (an export of it, or its key file with --key-file PATH)`);
  }
}

/** Refuses a key other than the one this machine knows for the repository (`ESECURITY_KEY_CHANGED`). */
export function checkKnownKey(known: SecurityState | undefined, key: KeyMaterial, repositoryId: string, statePath: string): void {
  if (!known) return;
  if (known.mode !== key.mode || known.fingerprint !== keyFingerprint(key)) {
    throw new RepositorySecurityError('ESECURITY_KEY_CHANGED', `repository ${short(repositoryId)}: this is not the key this machine last used (${known.mode}, fingerprint ${known.fingerprint.slice(0, 8)}…): restore the right key ("cairn key import FILE"), or if the change was yours delete ${statePath}`);
  }
}

/**
 * Installs an exported key (sealed blob) for the repository after opening it with `passphrase`: it must seal this
 * repository's id and, when this machine knows the repository, be the known key. A keyfile-mode key goes to the local
 * key file (`where.keyFile` or the default), never into the repository; any other to `keys/repokey`. The replaced
 * blob is kept (`<key file>.prev`, `keys/repokey.prev`). Resolves to where the key went.
 */
export async function importRepositoryKey(repository: Repository, blob: Uint8Array, passphrase: string, where: KeyLocation): Promise<{ mode: KeyMode; path?: string }> {
  const id = repository.config.id;
  const mode = describeKey(blob).mode;
  const key = await openKey(blob, mode === 'none' ? '' : passphrase);
  checkKeyRepository(key, id);
  const statePath = securityStatePath(id, where.env ?? process.env, where.securityDir);
  const known = await loadSecurityState(statePath);
  checkKnownKey(known, key, id, statePath);
  let path: string | undefined;
  if (isKeyfileMode(mode)) {
    path = where.keyFile ?? keyFilePath(id, where.env);
    await writeKeyFile(path, blob, { keepPrevious: true });
  } else {
    await repository.putKeyBlob(blob, { keepPrevious: true });
  }
  await saveSecurityState(statePath, { mode, fingerprint: keyFingerprint(key), journals: known?.journals ?? {} });
  return { mode, path };
}

/** Re-seals the repository's key under a new passphrase where it lives, keeping the previous blob; see `importRepositoryKey`. */
export async function changeRepositoryPassphrase(repository: Repository, oldPassphrase: string, newPassphrase: () => Promise<string>, where: KeyLocation & { kdf?: KdfParams }): Promise<{ mode: KeyMode; path?: string }> {
  const id = repository.config.id;
  const statePath = securityStatePath(id, where.env ?? process.env, where.securityDir);
  const known = await loadSecurityState(statePath);
  const located = await locateKeyBlob(repository, known, where);
  const key = await openKey(located.blob, oldPassphrase);
  checkKeyRepository(key, id);
  checkKnownKey(known, key, id, statePath);
  const sealed = await changePassphrase(located.blob, oldPassphrase, await newPassphrase(), { kdf: where.kdf });
  if (located.path) await writeKeyFile(located.path, sealed, { keepPrevious: true });
  else await repository.putKeyBlob(sealed, { keepPrevious: true });
  return { mode: located.mode, path: located.path };
}
