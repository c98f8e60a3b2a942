/**
 * Argon2id turning a passphrase into the key that seals the key material; parameters travel with
 * the blob. Node's own `crypto.argon2` (OpenSSL, its lanes on threads; Node 24.7+) when present,
 * else hash-wasm on a worker: same bytes, about 4× faster at the default costs on 2 cores (1.07 s
 * against 4.29 s in one run at load 15), and that is paid by every command that unlocks.
 */
import * as nodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
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

/**
 * The largest Argon2id costs cairn writes or reads. The blob's header is not secret and a bucket
 * writer can rewrite it (and its checksum): unbounded costs from it would hang the client for
 * years (t = 2³²−1) or exhaust its memory. 16 × the default time and 32 × its memory is ample.
 */
export const MAX_KDF: KdfParams = Object.freeze({ memoryKiB: 2 * 1024 * 1024, iterations: 16, parallelism: 16 });

/** Refuses parameters outside 8·p KiB..2 GiB of memory, 1..16 iterations, 1..16 lanes (InvalidOptionError). */
export function checkKdfParams(p: KdfParams): void {
  const ok = Number.isInteger(p.memoryKiB) && Number.isInteger(p.iterations) && Number.isInteger(p.parallelism)
    && p.parallelism >= 1 && p.parallelism <= MAX_KDF.parallelism && p.iterations >= 1 && p.iterations <= MAX_KDF.iterations
    && p.memoryKiB >= 8 * p.parallelism && p.memoryKiB <= MAX_KDF.memoryKiB;
  if (!ok) throw new InvalidOptionError('Argon2id parameters out of range (memory 8·p KiB..2 GiB, iterations 1..16, parallelism 1..16)');
}

/**
 * Runs in a short-lived worker thread: WebAssembly memory never shrinks, so Argon2id's 64 MiB (or more) would stay in
 * the process for its whole life if hashed on the calling thread; ending the worker gives it back.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.lib).argon2id({ ...workerData.options, outputType: 'binary' }).then(
  (hash) => parentPort.postMessage({ hash }),
  (err) => parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);`;

type NativeArgon2 = (algorithm: 'argon2id', parameters: { message: string; nonce: Uint8Array; parallelism: number; tagLength: number; memory: number; passes: number },
  callback: (err: Error | null, key: Buffer) => void) => void;
/** `crypto.argon2` where this Node has it (24.7+), looked up so older Nodes still compile and run. */
const nativeArgon2 = (nodeCrypto as unknown as { argon2?: NativeArgon2 }).argon2;

/** Which Argon2id runs: Node's own (`native`) or the WebAssembly fallback (`wasm`). */
export function kdfImplementation(): 'native' | 'wasm' {
  return nativeArgon2 ? 'native' : 'wasm';
}

/** Derives 32 bytes from the NFC-normalized UTF-8 passphrase (see the header for which Argon2id). */
export async function deriveKek(passphrase: string, salt: Uint8Array, params: KdfParams, implementation = kdfImplementation()): Promise<Uint8Array> {
  if (nativeArgon2 && implementation === 'native') {
    const parameters = { message: passphrase.normalize('NFC'), nonce: salt, parallelism: params.parallelism, tagLength: 32, memory: params.memoryKiB, passes: params.iterations };
    return new Promise<Uint8Array>((resolve, reject) => {
      nativeArgon2('argon2id', parameters, (err, key) => (err ? reject(new InvalidOptionError(`Argon2id failed: ${err.message}`)) : resolve(new Uint8Array(key))));
    });
  }
  return deriveKekWasm(passphrase, salt, params);
}

/** hash-wasm's Argon2id on a worker thread that ends afterwards. */
async function deriveKekWasm(passphrase: string, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  const lib = createRequire(import.meta.url).resolve('hash-wasm');
  const options = {
    password: passphrase.normalize('NFC'),
    salt,
    iterations: params.iterations,
    parallelism: params.parallelism,
    memorySize: params.memoryKiB,
    hashLength: 32,
  };
  const worker = new Worker(WORKER_CODE, { eval: true, workerData: { lib, options } });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      worker.once('message', (msg: { hash?: Uint8Array; error?: string }) => {
        if (msg.hash) resolve(new Uint8Array(msg.hash));
        else reject(new InvalidOptionError(`Argon2id failed: ${msg.error ?? 'no result'}`));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new InvalidOptionError(`Argon2id worker exited (code ${code}) without a result`)));
    });
  } finally {
    await worker.terminate();
  }
}
