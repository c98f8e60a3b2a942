/** A wrapper that caps the bytes per second moved by `put` and `get` (a token bucket). */
import type { Backend, ByteRange, OpOptions, PutOptions } from './backend.js';
import { sleep } from './abort.js';

/**
 * A token bucket that may go into debt: a request larger than the bucket is admitted and the
 * next ones wait until the debt is paid, so large objects are neither refused nor split.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /** `rate` tokens per second, at most `capacity` saved up (default: one second's worth). */
  constructor(rate: number, capacity = rate, now: () => number = () => performance.now()) {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
    this.#rate = rate;
    this.#capacity = capacity;
    this.#now = now;
    this.#tokens = capacity;
    this.#last = now();
  }

  /** Milliseconds the caller must wait after taking `n` tokens (0 when they were available). */
  reserve(n: number): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#rate) * 1000;
  }

  /** Takes `n` tokens, waiting (abortably) until the bucket has paid for them. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(n);
    if (wait > 0) await sleep(wait, signal);
  }
}

/**
 * `b` with its `put` and `get` traffic held to `bytesPerSecond` on average (bursts up to one
 * second's worth). With `downloadBytesPerSecond` given, uploads are held to `bytesPerSecond` and
 * downloads to `downloadBytesPerSecond` separately (0 = that direction unlimited); otherwise both
 * share one budget. A put waits before sending; a get is delayed after receiving, by its size.
 * Listings, stats and deletes move few bytes and are not limited.
 */
export function withRateLimit(b: Backend, bytesPerSecond: number, downloadBytesPerSecond?: number): Backend {
  const up = bytesPerSecond > 0 ? new TokenBucket(bytesPerSecond) : undefined;
  const down = downloadBytesPerSecond === undefined ? up : downloadBytesPerSecond > 0 ? new TokenBucket(downloadBytesPerSecond) : undefined;
  if (!up && !down) throw new RangeError('rate limit: give a rate > 0 for at least one direction');
  return {
    name: b.name,
    location: b.location,
    capabilities: b.capabilities,
    async get(key: string, range?: ByteRange, options?: OpOptions) {
      const bytes = await b.get(key, range, options);
      await down?.take(bytes.length, options?.signal);
      return bytes;
    },
    async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions) {
      await up?.take(bytes.length, options?.signal);
      return b.put(key, bytes, options);
    },
    delete: (key, options) => b.delete(key, options),
    list: (prefix, options) => b.list(prefix, options),
    stat: (key, options) => b.stat(key, options),
    create: (options) => b.create(options),
    destroy: () => b.destroy(),
    close: () => b.close(),
  };
}
