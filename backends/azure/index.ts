/**
 * The Azure Blob backend: each object is one block blob under the store's prefix. Objects that
 * fit go up in one Put Blob (one transaction, atomic); larger ones as blocks committed by one
 * Put Block List, which is atomic too. `ifAbsent` is `If-None-Match: *` on that single write.
 */
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';
import type { Backend, ByteRange, Capabilities, ListEntry, ObjectInfo, OpOptions, PutOptions } from '../../src/store/backend.js';
import { NotFoundError, StoreMissingError } from '../../src/store/errors.js';
import { validateKey, validatePrefix } from '../../src/store/keys.js';
import { checkRange } from '../../src/store/range.js';
import { readBody } from '../../src/store/read-body.js';
import type { TokenCredential } from '@azure/core-auth';
import { containerClient, entraCredential } from './client.js';
import { readConfig, type AccessTier, type AzureConfig } from './config.js';
import { azureErrorCode, translateError } from './translate-error.js';

/** Largest object sent as a single Put Blob (the SDK's limit for one-shot uploads). */
const SINGLE_PUT_MAX = 256 * 1024 * 1024;
/** Block size and parallel blocks above that. */
const BLOCK_SIZE = 32 * 1024 * 1024;
const BLOCK_CONCURRENCY = 4;
const DELETE_CONCURRENCY = 16;

export interface AzureBackendOptions {
  env?: NodeJS.ProcessEnv;
  /** Blobs per listing page (Azure's maximum, 5000, by default); tests set it low to exercise paging. */
  pageSize?: number;
}

export class AzureBackend implements Backend {
  readonly name = 'azure';
  readonly location: string;
  readonly capabilities: Capabilities = { rangeReads: true, ifAbsent: true, maxConnections: 32, reportsProgress: true };
  readonly #config: AzureConfig;
  readonly #container: ContainerClient;
  readonly #pageSize: number;

  constructor(config: AzureConfig, pageSize = 5000, token?: TokenCredential) {
    this.#config = config;
    this.location = config.location;
    this.#container = containerClient(config, token);
    this.#pageSize = pageSize;
  }

  #blob(key: string) {
    return this.#container.getBlockBlobClient(this.#config.prefix + key);
  }

  #tier(key: string): AccessTier | undefined {
    return key.startsWith('data/') ? this.#config.tier : undefined;
  }

  async #run<T>(key: string | undefined, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw translateError(err, key, this.location, this.#config.auth);
    }
  }

  async get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array> {
    validateKey(key, this.name);
    if (range) checkRange(range, this.name, key);
    const abortSignal = options?.signal;
    return this.#run(key, abortSignal, async () => {
      if (range?.length === 0) {
        if (!(await this.stat(key, options))) throw new NotFoundError(`azure: no object ${key} in ${this.location}`, { backend: this.name, key });
        return new Uint8Array(0);
      }
      try {
        const res = await this.#blob(key).download(range?.offset ?? 0, range?.length, { abortSignal });
        options?.onProgress?.(0);
        return await readWholeBody(res.readableStreamBody, res.contentLength ?? 0, options);
      } catch (err) {
        // A range starting at or past the end (or any range of an empty blob): empty, as the contract says.
        if (azureErrorCode(err) === 'InvalidRange') return new Uint8Array(0);
        throw err;
      }
    });
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void> {
    validateKey(key, this.name);
    const abortSignal = options?.signal;
    await this.#run(key, abortSignal, async () => {
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      await this.#blob(key).uploadData(data, {
        abortSignal,
        maxSingleShotSize: SINGLE_PUT_MAX,
        blockSize: BLOCK_SIZE,
        concurrency: BLOCK_CONCURRENCY,
        conditions: options?.ifAbsent ? { ifNoneMatch: '*' } : undefined,
        tier: this.#tier(key),
      });
    });
  }

  async delete(key: string, options?: OpOptions): Promise<void> {
    validateKey(key, this.name);
    const abortSignal = options?.signal;
    await this.#run(key, abortSignal, () => this.#blob(key).deleteIfExists({ abortSignal }));
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    validateKey(key, this.name);
    const abortSignal = options?.signal;
    return this.#run(key, abortSignal, async () => {
      try {
        const properties = await this.#blob(key).getProperties({ abortSignal });
        return { size: properties.contentLength ?? 0, modified: properties.lastModified?.getTime() ?? Number.NaN };
      } catch (err) {
        if (azureErrorCode(err) !== 'ContainerNotFound' && (err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    });
  }

  async *list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
    validatePrefix(prefix, this.name);
    const abortSignal = options?.signal;
    const cut = this.#config.prefix.length;
    const pages = this.#container.listBlobsFlat({ prefix: this.#config.prefix + prefix, abortSignal }).byPage({ maxPageSize: this.#pageSize });
    while (true) {
      const page = await this.#run(prefix, abortSignal, () => pages.next());
      if (page.done) return;
      for (const item of page.value.segment.blobItems) {
        yield { key: item.name.slice(cut), size: item.properties.contentLength ?? 0, modified: item.properties.lastModified.getTime() };
      }
    }
  }

  async create(): Promise<void> {
    await this.#run(undefined, undefined, async () => {
      // exists() first: a SAS limited to one container may read it but not create containers.
      if (!(await this.#container.exists())) await this.#container.createIfNotExists();
    });
  }

  async destroy(): Promise<void> {
    await this.#run(undefined, undefined, async () => {
      if (!this.#config.prefix) {
        await this.#container.deleteIfExists();
        return;
      }
      const keys: string[] = [];
      try {
        for await (const entry of this.list('')) keys.push(entry.key);
      } catch (err) {
        if (err instanceof StoreMissingError) return;
        throw err;
      }
      await pLimit(DELETE_CONCURRENCY).map(keys, (key) => this.#blob(key).deleteIfExists());
    });
  }

  async close(): Promise<void> {}
}

/** Reads a download body into one buffer of the announced size. */
async function readWholeBody(body: NodeJS.ReadableStream | undefined, size: number, options?: OpOptions): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const bytes = await readBody(body as AsyncIterable<Uint8Array>, { onProgress: options?.onProgress, signal: options?.signal });
  if (bytes.length > size) throw new Error(`azure: body longer than its Content-Length ${size}`);
  if (bytes.length !== size) throw Object.assign(new Error(`azure: body ended after ${bytes.length} of ${size} bytes`), { code: 'ECONNRESET' });
  return bytes;
}

/**
 * Opens the Azure store named by `url` (see docs/backends/azure.md); no request is made until
 * first use. Entra ID sign-in loads @azure/identity here, only for a store that uses it.
 */
export async function createAzureBackend(url: URL, options: AzureBackendOptions = {}): Promise<AzureBackend> {
  const config = readConfig(url, options.env);
  const token = config.auth === 'entra' ? await entraCredential() : undefined;
  return new AzureBackend(config, options.pageSize, token);
}
