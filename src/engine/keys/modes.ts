/** Key modes and the key material every mode yields. */
import type { IdAlgorithm } from '../ids.js';
import type { Suite } from '../crypto/suites.js';
import { InvalidOptionError } from '../errors.js';

export type KeyMode =
  | 'repokey-aes-ocb'
  | 'repokey-chacha20-poly1305'
  | 'keyfile-aes-ocb'
  | 'keyfile-chacha20-poly1305'
  | 'authenticated'
  | 'none';

/** Mode ids of the key blob (docs/format/crypto.md). Never renumber. */
export const MODE_IDS: Readonly<Record<KeyMode, number>> = {
  'repokey-aes-ocb': 1,
  'repokey-chacha20-poly1305': 2,
  'keyfile-aes-ocb': 3,
  'keyfile-chacha20-poly1305': 4,
  authenticated: 5,
  none: 6,
};

/** Id-algorithm ids of the key payload. Never renumber. */
export const ID_ALGORITHM_IDS: Readonly<Record<IdAlgorithm, number>> = { 'hmac-sha256': 1, blake3: 2, sha256: 3 };

/**
 * The secrets of a repository. `encryptionKey` is the AEAD master key (session keys derive from it), `macKey` keys
 * the chunk ids, `chunkerSeed` keys the gear table. In mode `none` all three are zero and ids are plain SHA-256.
 */
export interface KeyMaterial {
  readonly mode: KeyMode;
  readonly suite: Suite;
  readonly idAlgorithm: IdAlgorithm;
  readonly encryptionKey: Uint8Array;
  readonly macKey: Uint8Array;
  readonly chunkerSeed: Uint8Array;
  /** The id (64 hex digits) of the repository this key belongs to, sealed in the key blob with the secrets. */
  readonly repositoryId: string;
}

/** True when the key blob lives in the repository (`repokey-*`, `authenticated`), false for `keyfile-*` and `none`. */
export function storedInRepository(mode: KeyMode): boolean {
  return mode.startsWith('repokey-') || mode === 'authenticated';
}

/** The AEAD suite a mode uses for chunks. */
export function suiteOfMode(mode: KeyMode): Suite {
  if (mode.endsWith('aes-ocb')) return 'aes-256-ocb';
  if (mode.endsWith('chacha20-poly1305')) return 'chacha20-poly1305';
  return 'none';
}

export function parseMode(text: string): KeyMode {
  if (!(text in MODE_IDS)) throw new InvalidOptionError(`unknown key mode "${text}" (one of ${Object.keys(MODE_IDS).join(', ')})`);
  return text as KeyMode;
}

export function modeFromId(id: number): KeyMode | undefined {
  return (Object.keys(MODE_IDS) as KeyMode[]).find((m) => MODE_IDS[m] === id);
}
