/**
 * Opening a repository for archive work: the repository (with its lock) plus its key and the
 * codec built from it. Repokey, authenticated and none modes keep the sealed key in the repository
 * (`keys/repokey`); keyfile modes keep it in `$XDG_CONFIG_HOME/cairn/keys/<repository id>`.
 */
import { mkdir, open as openFile, readFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createKey, describeKey, openKey, parseMode, storedInRepository, type KdfParams, type KeyMaterial } from '../engine/index.js';
import { Repository } from '../repository/index.js';
import type { Backend } from '../store/backend.js';
import { createEngineCodec, type EngineChunkCodec, type EngineCodecOptions } from './engine-codec.js';
import { ArchiveError } from './errors.js';
import { readSettings, writeSettings } from './settings.js';

/** An open repository with its key: pass it to every archive function; `close()` releases the lock and workers. */
export interface OpenedRepository {
  repository: Repository;
  codec: EngineChunkCodec;
  key: KeyMaterial;
  close(): Promise<void>;
}

/** A passphrase, or a function asked only when the key needs one. */
export type PassphraseSource = string | (() => Promise<string>);

export interface InitOptions extends EngineCodecOptions {
  /** Key mode: repokey-aes-ocb, repokey-chacha20-poly1305, keyfile-…, authenticated or none. */
  encryption: string;
  passphrase: PassphraseSource;
  kdf?: KdfParams;
  segmentSize?: number;
  appendOnly?: boolean;
  /** Where a keyfile-mode key goes (default `keyFilePath(repository id)`). */
  keyFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface OpenRepositoryOptions extends EngineCodecOptions {
  passphrase: PassphraseSource;
  exclusive?: boolean;
  readOnly?: boolean;
  /** Do not read the index objects (for `check({ repair: true })`, which rebuilds them). */
  skipIndex?: boolean;
  keyFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** The key file location of a keyfile-mode repository. */
export function keyFilePath(repositoryId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'cairn', 'keys', repositoryId);
}

const ask = async (p: PassphraseSource): Promise<string> => (typeof p === 'string' ? p : p());

async function writeKeyFile(path: string, blob: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await openFile(temp, 'wx', 0o600);
  try {
    await handle.writeFile(blob);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/** Creates a repository and its key (`RepositoryExistsError` when one is there), and opens it. */
export async function initRepository(backend: Backend, options: InitOptions): Promise<OpenedRepository> {
  const mode = parseMode(options.encryption);
  // The key first: a failure here (empty passphrase, bad KDF settings) leaves no repository behind.
  const { key, blob } = await createKey(mode, mode === 'none' ? '' : await ask(options.passphrase), { kdf: options.kdf });
  const repository = await Repository.create(backend, { segmentSize: options.segmentSize, appendOnly: options.appendOnly });
  try {
    if (storedInRepository(mode) || mode === 'none') await repository.putKeyBlob(blob, { ifAbsent: true });
    else await writeKeyFile(options.keyFile ?? keyFilePath(repository.config.id, options.env), blob);
    const opened = await withCodec(repository, key, options);
    await writeSettings(opened, { chunker: options.chunker });
    return opened;
  } catch (error) {
    await repository.close();
    throw error;
  }
}

/** Opens a repository and its key; a wrong passphrase rejects with the engine's `WrongPassphraseError`. */
export async function openRepository(backend: Backend, options: OpenRepositoryOptions): Promise<OpenedRepository> {
  const repository = await Repository.open(backend, { exclusive: options.exclusive, readOnly: options.readOnly, skipIndex: options.skipIndex });
  try {
    let blob = await repository.getKeyBlob();
    if (!blob) {
      const path = options.keyFile ?? keyFilePath(repository.config.id, options.env);
      blob = await readFile(path).catch(() => undefined);
      if (!blob) throw new ArchiveError('EKEY_MISSING', `no key for repository ${repository.config.id}: import it with "key import" or give --key-file`);
    }
    const mode = describeKey(blob).mode;
    const key = await openKey(blob, mode === 'none' ? '' : await ask(options.passphrase));
    // The chunker sizes chosen at init win over the caller's: all clients must cut alike.
    const probe = await withCodec(repository, key, { ...options, workers: 0 });
    const settings = await readSettings(probe);
    return await withCodec(repository, key, { ...options, chunker: settings.chunker ?? options.chunker });
  } catch (error) {
    await repository.close();
    throw error;
  }
}

async function withCodec(repository: Repository, key: KeyMaterial, options: EngineCodecOptions): Promise<OpenedRepository> {
  const codec = await createEngineCodec(key, options);
  return {
    repository, codec, key,
    async close() {
      try {
        await codec.close();
      } finally {
        await repository.close();
      }
    },
  };
}
