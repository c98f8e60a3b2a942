/**
 * The key blob (a repokey object or a key file), all integers big-endian:
 *
 *   offset 0   8 bytes  magic "CAIRNKEY"
 *   offset 8   u8       format version = 2 (version 1 blobs, which did not name their repository, are refused)
 *   offset 9   u8       mode id (1..6, see modes.ts)
 *   offset 10  u8       kdf: 0 = none (mode `none` only, payload in clear), 1 = Argon2id
 *   offset 11  u32      Argon2id memory in KiB        (0 when kdf = 0)
 *   offset 15  u32      Argon2id iterations           (0 when kdf = 0)
 *   offset 19  u8       Argon2id parallelism          (0 when kdf = 0)
 *   offset 20  16 bytes salt                          (zero when kdf = 0)
 *   offset 36  24 bytes XChaCha20-Poly1305 nonce      (zero when kdf = 0)
 *   offset 60  u32      n = length of the sealed payload
 *   offset 64  n bytes  XChaCha20-Poly1305(key = Argon2id(passphrase, salt, params), nonce, AAD = bytes 0..63)
 *                       of the 132-byte payload, + 16-byte tag (n = 148); the payload itself when kdf = 0 (n = 132)
 *   offset 64+n 32 bytes SHA-256 of bytes 0..64+n: tells a damaged blob from a wrong passphrase
 *
 * Payload: u8 version = 2 | u8 suite id | u8 id-algorithm id | u8 0 | 32 encryption key | 32 MAC key | 32 chunker seed
 *          | 32 repository id (the config's id as bytes: a key opens only the repository it was made for).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { suiteFromId, SUITE_IDS } from '../crypto/suites.js';
import type { IdAlgorithm } from '../ids.js';
import { KeyCorruptError, KeyOutdatedError, WrongPassphraseError } from '../errors.js';
import { checkKdfParams, deriveKek, type KdfParams } from './kdf.js';
import { ID_ALGORITHM_IDS, MODE_IDS, modeFromId, suiteOfMode, type KeyMaterial } from './modes.js';

const MAGIC = Buffer.from('CAIRNKEY', 'latin1');
const HEADER_SIZE = 64;
const PAYLOAD_SIZE = 132;
const FORMAT_VERSION = 2;
const CHECKSUM_SIZE = 32;

/** Parsed clear header of a blob (no secrets). */
export interface KeyBlobInfo {
  mode: KeyMaterial['mode'];
  kdf: KdfParams | undefined;
}

/** Seals key material under a passphrase (mode `none`: stored in clear, passphrase ignored). */
export async function sealKeyBlob(key: KeyMaterial, passphrase: string, kdf: KdfParams): Promise<Uint8Array> {
  const payload = encodePayload(key);
  const header = new Uint8Array(HEADER_SIZE);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  header[8] = FORMAT_VERSION;
  header[9] = MODE_IDS[key.mode];
  let sealed: Uint8Array;
  if (key.mode === 'none') {
    view.setUint32(60, PAYLOAD_SIZE);
    sealed = payload;
  } else {
    checkKdfParams(kdf);
    const salt = randomBytes(16);
    const nonce = randomBytes(24);
    header[10] = 1;
    view.setUint32(11, kdf.memoryKiB);
    view.setUint32(15, kdf.iterations);
    header[19] = kdf.parallelism;
    header.set(salt, 20);
    header.set(nonce, 36);
    view.setUint32(60, PAYLOAD_SIZE + 16);
    const kek = await deriveKek(passphrase, salt, kdf);
    sealed = xchacha20poly1305(kek, nonce, header).encrypt(payload);
  }
  const body = Buffer.concat([header, sealed]);
  return new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

/** Reads the clear header, checking the blob's structure and checksum (KeyCorruptError). */
export function inspectKeyBlob(blob: Uint8Array): KeyBlobInfo {
  return parse(blob).info;
}

/** Opens a blob: KeyCorruptError when damaged, WrongPassphraseError when intact but the passphrase does not open it. */
export async function openKeyBlob(blob: Uint8Array, passphrase: string): Promise<KeyMaterial> {
  const { info, header, sealed } = parse(blob);
  if (!info.kdf) return decodePayload(sealed, info.mode);
  // No blob is ever sealed under an empty passphrase (createKey refuses one).
  if (passphrase === '') throw new WrongPassphraseError();
  const kek = await deriveKek(passphrase, header.subarray(20, 36), info.kdf);
  let payload: Uint8Array;
  try {
    payload = xchacha20poly1305(kek, header.subarray(36, 60), header).decrypt(sealed);
  } catch {
    throw new WrongPassphraseError();
  }
  return decodePayload(payload, info.mode);
}

function parse(blob: Uint8Array): { info: KeyBlobInfo; header: Uint8Array; sealed: Uint8Array } {
  if (blob.length < HEADER_SIZE + CHECKSUM_SIZE || !Buffer.from(blob.subarray(0, 8)).equals(MAGIC)) throw new KeyCorruptError('not a cairn key');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob[8] === 1) throw new KeyOutdatedError();
  if (blob[8] !== FORMAT_VERSION) throw new KeyCorruptError(`key format version ${blob[8]} is not supported`);
  const n = view.getUint32(60);
  if (blob.length !== HEADER_SIZE + n + CHECKSUM_SIZE) throw new KeyCorruptError('truncated or padded');
  const body = blob.subarray(0, HEADER_SIZE + n);
  const sum = createHash('sha256').update(body).digest();
  if (!timingSafeEqual(sum, blob.subarray(HEADER_SIZE + n))) throw new KeyCorruptError('checksum mismatch');
  const mode = modeFromId(blob[9]);
  if (!mode) throw new KeyCorruptError(`unknown mode ${blob[9]}`);
  let kdf: KdfParams | undefined;
  if (blob[10] === 1 && mode !== 'none') {
    kdf = { memoryKiB: view.getUint32(11), iterations: view.getUint32(15), parallelism: blob[19] };
    try {
      checkKdfParams(kdf);
    } catch {
      throw new KeyCorruptError('Argon2id parameters out of range');
    }
    if (n !== PAYLOAD_SIZE + 16) throw new KeyCorruptError('sealed payload has the wrong size');
  } else if (blob[10] !== 0 || mode !== 'none' || n !== PAYLOAD_SIZE) {
    throw new KeyCorruptError('kdf does not match the mode');
  }
  return { info: { mode, kdf }, header: blob.subarray(0, HEADER_SIZE), sealed: blob.subarray(HEADER_SIZE, HEADER_SIZE + n) };
}

function encodePayload(key: KeyMaterial): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(key.repositoryId)) throw new KeyCorruptError('the repository id of a key must be 64 hex digits');
  const p = new Uint8Array(PAYLOAD_SIZE);
  p[0] = 2;
  p[1] = SUITE_IDS[key.suite];
  p[2] = ID_ALGORITHM_IDS[key.idAlgorithm];
  p.set(key.encryptionKey, 4);
  p.set(key.macKey, 36);
  p.set(key.chunkerSeed, 68);
  p.set(Buffer.from(key.repositoryId, 'hex'), 100);
  return p;
}

function decodePayload(p: Uint8Array, mode: KeyMaterial['mode']): KeyMaterial {
  if (p.length !== PAYLOAD_SIZE || p[0] !== 2) throw new KeyCorruptError('unknown payload version');
  let suite;
  try {
    suite = suiteFromId(p[1]);
  } catch {
    throw new KeyCorruptError(`unknown suite ${p[1]}`);
  }
  if (suite !== suiteOfMode(mode)) throw new KeyCorruptError('suite does not match the mode');
  const idAlgorithm = (Object.keys(ID_ALGORITHM_IDS) as IdAlgorithm[]).find((a) => ID_ALGORITHM_IDS[a] === p[2]);
  if (!idAlgorithm) throw new KeyCorruptError(`unknown id algorithm ${p[2]}`);
  return {
    mode,
    suite,
    idAlgorithm,
    encryptionKey: p.slice(4, 36),
    macKey: p.slice(36, 68),
    chunkerSeed: p.slice(68, 100),
    repositoryId: Buffer.from(p.subarray(100, 132)).toString('hex'),
  };
}
