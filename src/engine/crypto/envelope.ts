/**
 * The stored-chunk envelope and Borg 2's session scheme.
 *
 * Encrypted suites (0x01 aes-256-ocb, 0x02 chacha20-poly1305):
 *   offset 0   u8        suite
 *   offset 1   24 bytes  session id (random per session)
 *   offset 25  12 bytes  nonce = 4 zero bytes | u64 BE counter (0, 1, 2, … within the session)
 *   offset 37  …         ciphertext of the compression frame
 *   last 16    tag
 *   session key = HKDF-SHA256(ikm = master encryption key, salt = session id, info = suite name, 32 bytes)
 *   AAD = suite byte | session id | chunk id (32)
 * Suite 0x00 (none): offset 0 u8 = 0x00, then the compression frame in clear; integrity comes from the id check.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { ChunkIntegrityError } from '../errors.js';
import { aeadDecrypt, aeadEncrypt, defaultImplementation, NONCE_SIZE, SUITE_IDS, suiteFromId, TAG_SIZE, type AeadImplementation, type Suite } from './suites.js';

export const SESSION_ID_SIZE = 24;
export const ENVELOPE_HEADER_SIZE = 1 + SESSION_ID_SIZE + NONCE_SIZE;
export const ENVELOPE_OVERHEAD = ENVELOPE_HEADER_SIZE + TAG_SIZE;
/** A session refuses to go past 2^48 nonces (far beyond any backup run) rather than ever wrap. */
export const MAX_NONCES = 2 ** 48;

/** Derives a session key (exported for the vectors in the tests and docs). */
export function deriveSessionKey(masterKey: Uint8Array, sessionId: Uint8Array, suite: Suite): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', masterKey, sessionId, suite, 32));
}

/** Builds the AAD of a chunk: suite byte | session id | chunk id. */
export function envelopeAad(suiteId: number, sessionId: Uint8Array, chunkId: Uint8Array): Uint8Array {
  const aad = new Uint8Array(1 + SESSION_ID_SIZE + chunkId.length);
  aad[0] = suiteId;
  aad.set(sessionId, 1);
  aad.set(chunkId, 1 + SESSION_ID_SIZE);
  return aad;
}

/** Seals chunks for one session: a random session id, its derived key and a nonce counter from 0. Not shareable across threads. */
export class SealingSession {
  readonly suite: Exclude<Suite, 'none'>;
  readonly sessionId: Uint8Array;
  readonly #key: Uint8Array;
  readonly #impl: AeadImplementation;
  #counter = 0;

  constructor(masterKey: Uint8Array, suite: Exclude<Suite, 'none'>, impl: AeadImplementation, sessionId: Uint8Array = randomBytes(SESSION_ID_SIZE)) {
    if (sessionId.length !== SESSION_ID_SIZE) throw new RangeError('session id must be 24 bytes');
    this.suite = suite;
    this.sessionId = new Uint8Array(sessionId);
    this.#key = deriveSessionKey(masterKey, this.sessionId, suite);
    this.#impl = impl;
  }

  /** How many nonces this session has used. */
  get used(): number {
    return this.#counter;
  }

  /** Returns the next nonce and advances the counter; never returns the same nonce twice in a session. */
  nextNonce(): Uint8Array {
    if (this.#counter >= MAX_NONCES) throw new RangeError('session nonce space exhausted; start a new session');
    const nonce = new Uint8Array(NONCE_SIZE);
    const view = new DataView(nonce.buffer);
    view.setUint32(4, Math.floor(this.#counter / 2 ** 32), false);
    view.setUint32(8, this.#counter >>> 0, false);
    this.#counter++;
    return nonce;
  }

  /** Encrypts the concatenated `parts` (the compression frame) for `chunkId`; returns the whole envelope. */
  seal(chunkId: Uint8Array, parts: Uint8Array[]): Uint8Array {
    const suiteId = SUITE_IDS[this.suite];
    const nonce = this.nextNonce();
    const { ciphertext, tag } = aeadEncrypt(this.suite, this.#impl, this.#key, nonce, envelopeAad(suiteId, this.sessionId, chunkId), parts);
    let size = ENVELOPE_OVERHEAD;
    for (const c of ciphertext) size += c.length;
    const out = new Uint8Array(size);
    out[0] = suiteId;
    out.set(this.sessionId, 1);
    out.set(nonce, 1 + SESSION_ID_SIZE);
    let at = ENVELOPE_HEADER_SIZE;
    for (const c of ciphertext) {
      out.set(c, at);
      at += c.length;
    }
    out.set(tag, at);
    return out;
  }
}

/** Opens envelopes of any session under one master key; caches a few session keys since chunks come in session runs. */
export class EnvelopeOpener {
  readonly #masterKey: Uint8Array;
  readonly #expected: Suite;
  readonly #impl: AeadImplementation | undefined;
  readonly #keys = new Map<string, Uint8Array>();

  constructor(masterKey: Uint8Array, expected: Suite, impl?: AeadImplementation) {
    this.#masterKey = masterKey;
    this.#expected = expected;
    this.#impl = impl;
  }

  /** Returns the frame (plaintext) of an encrypted envelope; suite 0x00 envelopes return their clear payload. */
  open(chunkId: Uint8Array, stored: Uint8Array): Uint8Array {
    if (stored.length < 1) throw new ChunkIntegrityError('empty envelope');
    const suite = suiteFromId(stored[0]);
    if (suite !== this.#expected) throw new ChunkIntegrityError(`envelope suite ${suite} where the key says ${this.#expected}`);
    if (suite === 'none') return stored.subarray(1);
    if (stored.length < ENVELOPE_OVERHEAD) throw new ChunkIntegrityError('envelope shorter than its header and tag');
    const sessionId = stored.subarray(1, 1 + SESSION_ID_SIZE);
    const nonce = stored.subarray(1 + SESSION_ID_SIZE, ENVELOPE_HEADER_SIZE);
    const key = this.#sessionKey(sessionId, suite);
    const impl = this.#impl ?? defaultImplementation(suite);
    return aeadDecrypt(suite, impl, key, nonce, envelopeAad(stored[0], sessionId, chunkId), stored.subarray(ENVELOPE_HEADER_SIZE, stored.length - TAG_SIZE), stored.subarray(stored.length - TAG_SIZE));
  }

  #sessionKey(sessionId: Uint8Array, suite: Suite): Uint8Array {
    const name = Buffer.from(sessionId.buffer, sessionId.byteOffset, sessionId.byteLength).toString('hex');
    let key = this.#keys.get(name);
    if (!key) {
      key = deriveSessionKey(this.#masterKey, sessionId, suite);
      if (this.#keys.size >= 64) this.#keys.delete(this.#keys.keys().next().value as string);
      this.#keys.set(name, key);
    }
    return key;
  }
}
