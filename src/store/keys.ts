/**
 * The key grammar, checked at the boundary of every backend: a key is rejected, never
 * rewritten, so two different keys can never land on the same object.
 *
 *   key     = segment *( "/" segment )          at most 512 bytes
 *   segment = 1*( ALPHA / DIGIT / "-" / "_" / "." / "=" ), at most 128 bytes,
 *             not starting with "." (names starting with "." are reserved for temp files)
 *
 * A list prefix is any prefix of a valid key (it may be empty or end with "/").
 */
import { InvalidKeyError } from './errors.js';

const SEGMENT = /^[A-Za-z0-9_=-][A-Za-z0-9._=-]{0,127}$/;
const PREFIX_CHARS = /^[A-Za-z0-9._=/-]*$/;
export const MAX_KEY_LENGTH = 512;

/** Every character a key may contain, for tests that exercise the whole grammar. */
export const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=';

/** Throws `InvalidKeyError` unless `key` follows the grammar above. */
export function validateKey(key: string, backend?: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidKeyError(`invalid key ${JSON.stringify(key)}: must be 1..${MAX_KEY_LENGTH} characters`, { backend, key });
  }
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) {
      throw new InvalidKeyError(
        `invalid key ${JSON.stringify(key)}: each "/"-separated part must be 1..128 of [A-Za-z0-9._=-], not starting with "."`,
        { backend, key },
      );
    }
  }
  return key;
}

/** Throws `InvalidKeyError` unless `prefix` could begin a valid key. */
export function validatePrefix(prefix: string, backend?: string): string {
  if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH || !PREFIX_CHARS.test(prefix)
      || prefix.startsWith('/') || prefix.includes('//') || /(^|\/)\./.test(prefix)) {
    throw new InvalidKeyError(`invalid list prefix ${JSON.stringify(prefix)}`, { backend, key: prefix });
  }
  return prefix;
}

/** Orders keys by their bytes (keys are ASCII, so code units are bytes). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
