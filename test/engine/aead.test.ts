/** AEAD envelopes: vectors, node:crypto ↔ @noble/ciphers cross-checks, tamper/swap/replay, nonce uniqueness, all modes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createCodec, EngineError, type KeyMaterial, type KeyMode, type Suite } from '../../src/engine/index.js';
import { SealingSession, deriveSessionKey } from '../../src/engine/crypto/envelope.js';
import { randomish, textish } from './data.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const BASE = { encryptionKey: new Uint8Array(32).fill(0x11), macKey: new Uint8Array(32).fill(0x22), chunkerSeed: new Uint8Array(32).fill(0x33), idAlgorithm: 'hmac-sha256' as const, repositoryId: '0'.repeat(64) };
const key = (mode: KeyMode, suite: Suite): KeyMaterial => ({ ...BASE, mode, suite });
const SID = new Uint8Array(24).fill(0x44);
const ABC_ID = '8abd0d6ce850aa0bbaef79b30984312e8e3d6d054da9067fafe12e66c962c445';
const isAuthFailure = (e: unknown): boolean => e instanceof EngineError && (e.code === 'ECHUNK_INTEGRITY' || e.code === 'EUNSUPPORTED_FORMAT');

test('RFC 8439 §2.8.2 vector: node:crypto and @noble/ciphers both give the published tag', () => {
  const k = unhex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = unhex('070000004041424344454647');
  const aad = unhex('50515253c0c1c2c3c4c5c6c7');
  const pt = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const c = createCipheriv('chacha20-poly1305', k, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: pt.length });
  const ct = Buffer.concat([c.update(pt), c.final()]);
  assert.equal(c.getAuthTag().toString('hex'), '1ae10b594f09e26a7e902ecbd0600691');
  const noble = chacha20poly1305(k, nonce, aad).encrypt(pt);
  assert.equal(hex(noble), hex(Buffer.concat([ct, c.getAuthTag()])));
});

test('envelope vectors (fixed keys and session id, frame "none" of "abc"): first two nonces', async () => {
  const vectors: [KeyMode, Suite, string, string][] = [
    ['repokey-aes-ocb', 'aes-256-ocb',
      '01444444444444444444444444444444444444444444444444000000000000000000000000fda702bfbe155dab53648dee735cf33304a352d976d49bbd0f',
      '014444444444444444444444444444444444444444444444440000000000000000000000019fff55b82dbbdf6880ec7dae06346eb492b92057d3d6acf777'],
    ['repokey-chacha20-poly1305', 'chacha20-poly1305',
      '02444444444444444444444444444444444444444444444444000000000000000000000000b38ba2b3f291bd9f98ff33b86e7ceba5d2d84845867afbcb67',
      '0244444444444444444444444444444444444444444444444400000000000000000000000198575bd51c14b0e758d76d34edb877de9837efcc50d63865da'],
    ['authenticated', 'none', '00000000000003616263', '00000000000003616263'],
  ];
  for (const [mode, suite, first, second] of vectors) {
    const codec = await createCodec(key(mode, suite), { compression: 'none', sessionId: SID });
    const id = codec.id(Buffer.from('abc'));
    assert.equal(hex(id), ABC_ID);
    assert.equal(hex(codec.seal(id, Buffer.from('abc'))), first, mode);
    assert.equal(hex(codec.seal(id, Buffer.from('abc'))), second, mode);
  }
});

test('the ChaCha envelope vector opens by hand: HKDF session key, AAD = suite | session id | chunk id', () => {
  const stored = unhex('02444444444444444444444444444444444444444444444444000000000000000000000000b38ba2b3f291bd9f98ff33b86e7ceba5d2d84845867afbcb67');
  const sessionKey = new Uint8Array(hkdfSync('sha256', BASE.encryptionKey, SID, 'chacha20-poly1305', 32));
  assert.deepEqual(sessionKey, deriveSessionKey(BASE.encryptionKey, SID, 'chacha20-poly1305'));
  const aad = new Uint8Array([0x02, ...SID, ...unhex(ABC_ID)]);
  const frame = chacha20poly1305(sessionKey, stored.subarray(25, 37), aad).decrypt(stored.subarray(37));
  assert.equal(hex(frame), '000000000003616263');
});

test('node:crypto and @noble/ciphers ChaCha20-Poly1305 open each other\'s envelopes', async () => {
  const k = key('repokey-chacha20-poly1305', 'chacha20-poly1305');
  const viaNode = await createCodec(k, { implementation: 'node', compression: 'zstd' });
  const viaNoble = await createCodec(k, { implementation: 'noble', compression: 'zstd' });
  for (const data of [textish('x', 100_000), randomish('y', 70_000), new Uint8Array(0)]) {
    const id = viaNode.id(data);
    assert.deepEqual(viaNoble.open(id, viaNode.seal(id, data)), data);
    assert.deepEqual(viaNode.open(id, viaNoble.seal(id, data)), data);
  }
});

for (const [mode, suite] of [['repokey-aes-ocb', 'aes-256-ocb'], ['keyfile-chacha20-poly1305', 'chacha20-poly1305'], ['authenticated', 'none']] as const) {
  test(`${mode}: round trip; every single-byte change (of the plaintext), swap and replay is refused`, async () => {
    const codec = await createCodec(key(mode, suite), { compression: 'lz4' });
    const a = textish('a', 300);
    const b = textish('b', 300);
    const idA = codec.id(a);
    const idB = codec.id(b);
    const sa = codec.seal(idA, a);
    const sb = codec.seal(idB, b);
    assert.deepEqual(codec.open(idA, sa), a);
    for (let i = 0; i < sa.length; i++) {
      const bad = new Uint8Array(sa);
      bad[i] ^= 0x01;
      if (suite !== 'none') {
        assert.throws(() => codec.open(idA, bad), isAuthFailure, `byte ${i}`);
        continue;
      }
      // Without encryption only the plaintext is authenticated (by its id): an LZ4 body may be re-encoded to the
      // same plaintext, which is harmless; any change that reaches the plaintext must be refused.
      try {
        assert.deepEqual(codec.open(idA, bad), a, `byte ${i}`);
      } catch (e) {
        assert.ok(isAuthFailure(e), `byte ${i}: ${String(e)}`);
      }
    }
    assert.throws(() => codec.open(idA, sb), isAuthFailure, 'swap');
    assert.throws(() => codec.open(idB, sa), isAuthFailure, 'replay under another id');
    assert.throws(() => codec.open(idA, sa.subarray(0, sa.length - 1)), isAuthFailure, 'truncation');
    const other = await createCodec({ ...key(mode, suite), encryptionKey: new Uint8Array(32).fill(9), macKey: new Uint8Array(32).fill(8) });
    assert.throws(() => other.open(idA, sa), isAuthFailure, 'another key');
  });
}

test('mode none: SHA-256 ids, clear frames, tampering still detected by the id check', async () => {
  const zero = new Uint8Array(32);
  const codec = await createCodec({ mode: 'none', suite: 'none', idAlgorithm: 'sha256', encryptionKey: zero, macKey: zero, chunkerSeed: zero, repositoryId: '0'.repeat(64) });
  const data = Buffer.from('abc');
  const id = codec.id(data);
  assert.equal(hex(id), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const stored = codec.seal(id, data);
  const bad = new Uint8Array(stored);
  bad[bad.length - 1] ^= 1;
  assert.throws(() => codec.open(id, bad), isAuthFailure);
});

test('an envelope of another suite than the key\'s is refused', async () => {
  const ocb = await createCodec(key('repokey-aes-ocb', 'aes-256-ocb'));
  const chacha = await createCodec(key('repokey-chacha20-poly1305', 'chacha20-poly1305'));
  const data = Buffer.from('suite');
  const id = ocb.id(data);
  assert.throws(() => ocb.open(id, chacha.seal(id, data)), isAuthFailure);
});

test('nonces never repeat: 2 concurrent sessions × 1 M nonces', async () => {
  const s1 = new SealingSession(BASE.encryptionKey, 'aes-256-ocb', 'node');
  const s2 = new SealingSession(BASE.encryptionKey, 'aes-256-ocb', 'node');
  assert.notDeepEqual(s1.sessionId, s2.sessionId);
  assert.notDeepEqual(deriveSessionKey(BASE.encryptionKey, s1.sessionId, 'aes-256-ocb'), deriveSessionKey(BASE.encryptionKey, s2.sessionId, 'aes-256-ocb'));
  const N = 1_000_000;
  const last = [-1, -1];
  const run = async (s: SealingSession, slot: number): Promise<void> => {
    for (let i = 0; i < N; i++) {
      const n = s.nextNonce();
      const view = Buffer.from(n.buffer, n.byteOffset, 12);
      const v = view.readUInt32BE(4) * 2 ** 32 + view.readUInt32BE(8);
      // Strictly increasing within a session means no repeat in it; different session ids make the keys differ.
      if (v <= last[slot]) assert.fail(`nonce ${v} after ${last[slot]}`);
      last[slot] = v;
      if (i % 65536 === 0) await new Promise<void>((r) => setImmediate(r));
    }
  };
  await Promise.all([run(s1, 0), run(s2, 1)]);
  assert.deepEqual(last, [N - 1, N - 1]);
  assert.equal(s1.used, N);
});
