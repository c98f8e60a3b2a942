/** Small helpers of the conformance suite: store lifecycle per test, byte checks, error checks. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test as nodeTest } from 'node:test';
import pLimit from 'p-limit';
import type { Backend, ListEntry } from '../../src/store/backend.js';
import { BackendError } from '../../src/store/errors.js';

/** Builds a NEW client for the store at `root` (see docs/backend-contract.md). */
export type MakeBackend = (root: string) => Promise<Backend>;

let counter = 0;

/** A fresh store name `[a-z0-9-]+`, unique across processes and runs. */
export function uniqueRoot(): string {
  counter += 1;
  return `cf-${process.pid.toString(36)}-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
}

/**
 * Runs `fn` against a new store: `create()` first, then `destroy()` and `close()` whatever
 * happens, so a failing test leaves nothing behind.
 */
export async function withStore(make: MakeBackend, fn: (b: Backend, root: string) => Promise<void>): Promise<void> {
  const root = uniqueRoot();
  const b = await make(root);
  try {
    await b.create();
    await fn(b, root);
  } finally {
    try {
      await b.destroy();
    } finally {
      await b.close();
    }
  }
}

/** Asserts byte equality without dumping megabytes into the failure message. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  assert.ok(actual instanceof Uint8Array, `${what}: expected a Uint8Array`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const same = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength)
    .equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength));
  assert.ok(same, `${what}: content differs`);
}

/** Asserts that `promise` rejects with an instance of `cls` carrying `code`. */
export async function assertRejects(
  promise: Promise<unknown>,
  cls: abstract new (...args: never[]) => BackendError,
  code: string,
): Promise<BackendError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected ${cls.name}, but the call succeeded`);
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String((caught as Error)?.name)}: ${String((caught as Error)?.message)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** Drains a listing into an array. */
export async function collect(entries: AsyncIterable<ListEntry>): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

/** Deterministic, non-repeating bytes (a counter pattern salted by `seed`), cheap for large sizes. */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Runs `fn` over `items` with at most `n` calls in flight; the first failure rejects. */
export async function forEachLimited<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  await pLimit(n).map(items, fn);
}

/**
 * Which cases the suite being registered keeps (conformanceSuite's `only`); undefined: all. Set
 * only while a suite registers its cases, which node:test does synchronously.
 */
let selected: ((title: string) => boolean) | undefined;

/** Runs `register` with only the cases whose title `keep` accepts registered (all when undefined). */
export function registerSelected(keep: ((title: string) => boolean) | undefined, register: () => void): void {
  const previous = selected;
  selected = keep;
  try {
    register();
  } finally {
    selected = previous;
  }
}

/** node:test's `test`, for the case files: a case the current selection leaves out is not registered at all. */
export const test = ((title: string, ...rest: unknown[]) => {
  if (selected && !selected(title)) return undefined;
  return (nodeTest as (...args: unknown[]) => unknown)(title, ...rest);
}) as typeof nodeTest;
