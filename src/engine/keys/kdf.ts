/** Argon2id (hash-wasm) turning a passphrase into the key that seals the key material; parameters travel with the blob. */
import { argon2id } from 'hash-wasm';
import { InvalidOptionError } from '../errors.js';

/** Argon2id cost parameters stored in the key blob. */
export interface KdfParams {
  /** Memory in KiB (>= 8 × parallelism). */
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** RFC 9106's second recommended option (64 MiB, t = 3, p = 4): strong for 2026 yet ~1 s on a small machine. */
export const DEFAULT_KDF: KdfParams = Object.freeze({ memoryKiB: 64 * 1024, iterations: 3, parallelism: 4 });

export function checkKdfParams(p: KdfParams): void {
  const ok = Number.isInteger(p.memoryKiB) && Number.isInteger(p.iterations) && Number.isInteger(p.parallelism)
    && p.parallelism >= 1 && p.parallelism <= 255 && p.iterations >= 1 && p.iterations <= 2 ** 32 - 1
    && p.memoryKiB >= 8 * p.parallelism && p.memoryKiB <= 4 * 1024 * 1024;
  if (!ok) throw new InvalidOptionError('Argon2id parameters out of range (memory 8·p KiB..4 GiB, iterations >= 1, parallelism 1..255)');
}

/** Derives 32 bytes from the NFC-normalized UTF-8 passphrase. */
export async function deriveKek(passphrase: string, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  return argon2id({
    password: passphrase.normalize('NFC'),
    salt,
    iterations: params.iterations,
    parallelism: params.parallelism,
    memorySize: params.memoryKiB,
    hashLength: 32,
    outputType: 'binary',
  });
}
