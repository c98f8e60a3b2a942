/**
 * The reference backend: objects in a Map, copied on the way in and out so callers can
 * never alias stored bytes. Every other backend must behave exactly like this one.
 */
import type { Backend, ByteRange, Capabilities, ListEntry, ObjectInfo, OpOptions, PutOptions } from '../../src/store/backend.js';
import { AlreadyExistsError, NotFoundError, StoreMissingError } from '../../src/store/errors.js';
import { checkRange } from '../../src/store/range.js';
import { compareKeys, validateKey, validatePrefix } from '../../src/store/keys.js';

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  readonly location: string;
  readonly capabilities: Capabilities = { rangeReads: true, ifAbsent: true, maxConnections: 64 };
  /** Each object's bytes and when it was put (this process's clock is the store's). */
  #objects: Map<string, { bytes: Uint8Array; modified: number }> | undefined;

  constructor(label = 'memory:', created = true) {
    this.location = label;
    this.#objects = created ? new Map() : undefined;
  }

  #store(key?: string): Map<string, { bytes: Uint8Array; modified: number }> {
    if (!this.#objects) throw new StoreMissingError(`memory store ${this.location} does not exist: create it first`, { backend: this.name, key });
    return this.#objects;
  }

  async get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array> {
    validateKey(key, this.name);
    options?.signal?.throwIfAborted();
    const value = this.#store(key).get(key)?.bytes;
    if (!value) throw new NotFoundError(`no object ${key}`, { backend: this.name, key });
    if (!range) return value.slice();
    checkRange(range, this.name, key);
    return value.slice(range.offset, range.offset + range.length);
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void> {
    validateKey(key, this.name);
    options?.signal?.throwIfAborted();
    const objects = this.#store(key);
    if (options?.ifAbsent && objects.has(key)) throw new AlreadyExistsError(`object ${key} exists`, { backend: this.name, key });
    objects.set(key, { bytes: Uint8Array.from(bytes), modified: Date.now() });
  }

  async delete(key: string, options?: OpOptions): Promise<void> {
    validateKey(key, this.name);
    options?.signal?.throwIfAborted();
    this.#store(key).delete(key);
  }

  async *list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
    validatePrefix(prefix, this.name);
    const keys = [...this.#store().keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const key of keys) {
      options?.signal?.throwIfAborted();
      const value = this.#objects?.get(key);
      if (value) yield { key, size: value.bytes.length, modified: value.modified };
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key, this.name);
    const value = this.#store(key).get(key);
    return value ? { size: value.bytes.length, modified: value.modified } : undefined;
  }

  async create(): Promise<void> {
    this.#objects ??= new Map();
  }

  async destroy(): Promise<void> {
    this.#objects = undefined;
  }

  async close(): Promise<void> {}
}

/** A fresh, empty in-memory store. */
export function createMemoryBackend(label?: string): MemoryBackend {
  return new MemoryBackend(label);
}
