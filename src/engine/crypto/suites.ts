/** The AEAD suites for stored chunks and their one-shot encrypt/decrypt over node:crypto or @noble/ciphers. */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ChunkIntegrityError, UnsupportedFormatError } from '../errors.js';

/** `none` means no encryption (modes `authenticated` and `none`): the id check alone protects the data. */
export type Suite = 'none' | 'aes-256-ocb' | 'chacha20-poly1305';

/** Suite byte of the chunk envelope (docs/format/crypto.md). Never renumber. */
export const SUITE_IDS: Readonly<Record<Suite, number>> = { none: 0x00, 'aes-256-ocb': 0x01, 'chacha20-poly1305': 0x02 };

export const TAG_SIZE = 16;
export const NONCE_SIZE = 12;

/** Which implementation runs an encrypted suite: OpenSSL through node:crypto (fast) or pure-JS @noble/ciphers (portable, ChaCha only). */
export type AeadImplementation = 'node' | 'noble';

export function suiteFromId(id: number): Suite {
  for (const [name, value] of Object.entries(SUITE_IDS)) if (value === id) return name as Suite;
  throw new UnsupportedFormatError(`AEAD suite 0x${id.toString(16).padStart(2, '0')}`);
}

/** The implementation to use by default: node:crypto when OpenSSL offers the cipher, else noble for ChaCha20-Poly1305. */
export function defaultImplementation(suite: Exclude<Suite, 'none'>): AeadImplementation {
  if (getCiphers().includes(suite)) return 'node';
  if (suite === 'chacha20-poly1305') return 'noble';
  throw new UnsupportedFormatError(`${suite} is not available in this Node's OpenSSL`);
}

/** Encrypts the concatenation of `parts`; returns ciphertext and the 16-byte tag. */
export function aeadEncrypt(
  suite: Exclude<Suite, 'none'>, impl: AeadImplementation, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: Uint8Array[],
): { ciphertext: Uint8Array[]; tag: Uint8Array } {
  if (impl === 'noble') {
    if (suite !== 'chacha20-poly1305') throw new UnsupportedFormatError(`${suite} has no pure-JS implementation`);
    const sealed = chacha20poly1305(key, nonce, aad).encrypt(concat(parts));
    return { ciphertext: [sealed.subarray(0, sealed.length - TAG_SIZE)], tag: sealed.subarray(sealed.length - TAG_SIZE) };
  }
  const cipher = suite === 'aes-256-ocb'
    ? createCipheriv(suite, key, nonce, { authTagLength: TAG_SIZE })
    : createCipheriv(suite, key, nonce, { authTagLength: TAG_SIZE });
  cipher.setAAD(aad);
  const ciphertext = parts.map((p) => cipher.update(p) as Uint8Array);
  ciphertext.push(cipher.final());
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts and verifies; any mismatch (key, nonce, AAD, ciphertext, tag) throws ChunkIntegrityError. */
export function aeadDecrypt(
  suite: Exclude<Suite, 'none'>, impl: AeadImplementation, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array,
): Uint8Array {
  try {
    if (impl === 'noble') {
      if (suite !== 'chacha20-poly1305') throw new UnsupportedFormatError(`${suite} has no pure-JS implementation`);
      return chacha20poly1305(key, nonce, aad).decrypt(concat([ciphertext, tag]));
    }
    const decipher = suite === 'aes-256-ocb'
      ? createDecipheriv(suite, key, nonce, { authTagLength: TAG_SIZE })
      : createDecipheriv(suite, key, nonce, { authTagLength: TAG_SIZE });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    const rest = decipher.final();
    return rest.length === 0 ? new Uint8Array(head.buffer, head.byteOffset, head.byteLength) : concat([head, rest]);
  } catch (err) {
    if (err instanceof UnsupportedFormatError) throw err;
    throw new ChunkIntegrityError('authentication failed');
  }
}

/** Joins byte arrays into one new array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
