/** Creating, opening and re-sealing keys: the operations behind `rcreate`, every open, and `key change-passphrase`. */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';
import type { IdAlgorithm } from '../ids.js';
import { DEFAULT_KDF, type KdfParams } from './kdf.js';
import { inspectKeyBlob, openKeyBlob, sealKeyBlob } from './key-blob.js';
import { parseMode, suiteOfMode, type KeyMaterial, type KeyMode } from './modes.js';

/** Options of createKey: Argon2id cost (tests use tiny values) and the chunk-id MAC. */
export interface CreateKeyOptions {
  kdf?: KdfParams;
  /** 'hmac-sha256' (default) or 'blake3'; ignored in mode `none` (ids are SHA-256 there). */
  idAlgorithm?: Exclude<IdAlgorithm, 'sha256'>;
  /** The repository the key is for (64 hex digits), sealed into the blob; default all zeros (a key for no repository). */
  repositoryId?: string;
  /**
   * Make a key **related** to this one (`rcreate --other-repo`): it takes the other key's id algorithm, MAC key and
   * chunker seed (equal data, equal chunk ids) and draws only a fresh encryption key. Refused (InvalidOptionError)
   * when exactly one of the two is mode `none`: a `none` key has no id secret to share, and a keyed repository with
   * unkeyed ids would reveal its contents to anyone who can guess them.
   */
  idKeyFrom?: KeyMaterial;
}

/** Makes fresh random key material for `mode` and seals it; `blob` goes to the repository or a key file. */
export async function createKey(mode: KeyMode, passphrase: string, options: CreateKeyOptions = {}): Promise<{ key: KeyMaterial; blob: Uint8Array }> {
  parseMode(mode);
  const idAlgorithm = options.idAlgorithm ?? 'hmac-sha256';
  if (idAlgorithm !== 'hmac-sha256' && idAlgorithm !== 'blake3') throw new InvalidOptionError(`id algorithm must be hmac-sha256 or blake3`);
  const none = mode === 'none';
  if (!none && passphrase.length === 0) throw new InvalidOptionError('an empty passphrase is not allowed for this mode');
  const other = options.idKeyFrom;
  if (other && (other.mode === 'none') !== none) {
    throw new InvalidOptionError(none
      ? `a repository of mode none cannot be related to a ${other.mode} one (its chunk ids have no key): use --encryption authenticated for an unencrypted related repository`
      : `a ${mode} repository cannot be related to a repository of mode none (its chunk ids have no key, and would reveal the contents): relate it to an authenticated or encrypted repository, or create it without --other-repo`);
  }
  const key: KeyMaterial = {
    mode,
    suite: suiteOfMode(mode),
    idAlgorithm: other ? other.idAlgorithm : none ? 'sha256' : idAlgorithm,
    // `authenticated` keeps a random encryption key too so that a later switch to encryption needs no new key.
    encryptionKey: none ? new Uint8Array(32) : new Uint8Array(randomBytes(32)),
    macKey: other ? other.macKey.slice() : none ? new Uint8Array(32) : new Uint8Array(randomBytes(32)),
    chunkerSeed: other ? other.chunkerSeed.slice() : none ? new Uint8Array(32) : new Uint8Array(randomBytes(32)),
    repositoryId: options.repositoryId ?? '0'.repeat(64),
  };
  if (!/^[0-9a-f]{64}$/.test(key.repositoryId)) throw new InvalidOptionError('the repository id must be 64 lowercase hex digits');
  return { key, blob: await sealKeyBlob(key, passphrase, options.kdf ?? DEFAULT_KDF) };
}

/** Opens a key blob. Throws KeyCorruptError (code 'EKEY_CORRUPT') or WrongPassphraseError (code 'EWRONG_PASSPHRASE'). */
export function openKey(blob: Uint8Array, passphrase: string): Promise<KeyMaterial> {
  return openKeyBlob(blob, passphrase);
}

/**
 * Re-seals the same key material under a new passphrase (fresh salt and nonce; Argon2id parameters kept unless
 * given). The chunk data is untouched, so this is cheap; the caller replaces the stored blob atomically.
 */
export async function changePassphrase(blob: Uint8Array, oldPassphrase: string, newPassphrase: string, options: { kdf?: KdfParams } = {}): Promise<Uint8Array> {
  const info = inspectKeyBlob(blob);
  const key = await openKeyBlob(blob, oldPassphrase);
  if (key.mode !== 'none' && newPassphrase.length === 0) throw new InvalidOptionError('an empty passphrase is not allowed for this mode');
  return sealKeyBlob(key, newPassphrase, options.kdf ?? info.kdf ?? DEFAULT_KDF);
}

/** The mode and Argon2id parameters of a blob, without a passphrase. */
export function describeKey(blob: Uint8Array): { mode: KeyMode; kdf: KdfParams | undefined } {
  return inspectKeyBlob(blob);
}

/**
 * A short, stable name of the key material (32 hex digits): HMAC-SHA256 keyed by the MAC key over a fixed label and
 * the other two secrets. It reveals nothing usable about them, and differs for any other key; the local security
 * state keeps it to notice a swapped key. In mode `none` every key has the same fingerprint (there is no secret).
 */
export function keyFingerprint(key: KeyMaterial): string {
  return createHmac('sha256', key.macKey).update('cairn fingerprint\0').update(key.encryptionKey).update(key.chunkerSeed).digest('hex').slice(0, 32);
}

/**
 * A 32-byte key for `purpose` (e.g. "index cache") that authenticates what this machine keeps about the
 * repository: HKDF-SHA256 over the MAC and encryption keys, salted with the repository id. It reveals nothing
 * about them, and differs per repository and purpose. In mode `none` there is no secret, so neither is it.
 */
export function deriveLocalKey(key: KeyMaterial, purpose: string): Uint8Array {
  const secret = Buffer.concat([key.macKey, key.encryptionKey]);
  return new Uint8Array(hkdfSync('sha256', secret, Buffer.from(key.repositoryId, 'utf8'), `cairn local ${purpose}`, 32));
}

/**
 * True when two keys give every plaintext the same chunk id and cut files alike: same id algorithm, MAC key and
 * chunker seed (compared in constant time). Such repositories are **related**: `transfer` copies chunks between them
 * under their ids, re-encrypting only.
 */
export function sameIdKey(a: KeyMaterial, b: KeyMaterial): boolean {
  return a.idAlgorithm === b.idAlgorithm && timingSafeEqual(a.macKey, b.macKey) && timingSafeEqual(a.chunkerSeed, b.chunkerSeed);
}

/**
 * A short name of the id key (32 hex digits), equal for related repositories and different otherwise:
 * HMAC-SHA256 keyed by the MAC key over a fixed label, the id algorithm and the chunker seed. Like `keyFingerprint`,
 * it reveals nothing usable about the secrets. In mode `none` every key has the same one.
 */
export function idKeyFingerprint(key: KeyMaterial): string {
  return createHmac('sha256', key.macKey).update('cairn id-key fingerprint\0').update(key.idAlgorithm).update('\0').update(key.chunkerSeed).digest('hex').slice(0, 32);
}
