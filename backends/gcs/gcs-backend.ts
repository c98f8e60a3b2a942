/**
 * The Google Cloud Storage backend: each Backend call becomes one JSON-API request through
 * @google-cloud/storage (a listing one request per page); errors go through translateError().
 */
import { CRC32C, Storage, type Bucket, type File } from '@google-cloud/storage';
import pLimit from 'p-limit';
import type { Backend, ByteRange, Capabilities, CreateStoreOptions, DeleteOptions, ListEntry, ObjectInfo, OpOptions, PutOptions } from '../../src/store/backend.js';
import { BackendError, NotFoundError, RetainedObjectError, StoreMissingError, UnsupportedStoreError } from '../../src/store/errors.js';
import { checkRange } from '../../src/store/range.js';
import { readBody } from '../../src/store/read-body.js';
import { validateKey, validatePrefix } from '../../src/store/keys.js';
import type { GcsConfig } from './config.js';
import { httpStatus, translateError } from './translate-error.js';
import { abortable } from '../../src/store/abort.js';

export class GcsBackend implements Backend {
  readonly name = 'gcs';
  readonly location: string;
  readonly capabilities: Capabilities = { rangeReads: true, ifAbsent: true, maxConnections: 32, reportsProgress: true, retention: true };
  readonly #config: GcsConfig;
  readonly #storage: Storage;
  readonly #bucket: Bucket;
  /** Set once the bucket was seen to exist, so a later 404 means "no such object" without asking again. */
  #bucketSeen = false;
  #closed = false;

  constructor(config: GcsConfig, location: string) {
    this.#config = config;
    this.location = location;
    this.#storage = new Storage({
      projectId: config.projectId,
      keyFilename: config.keyFilename,
      ...(config.endpoint ? { apiEndpoint: config.endpoint, useAuthWithCustomEndpoint: config.authenticate } : {}),
      // cairn's withRetry is the one retry layer (backoff, budget, logging); SDK retries under it
      // would multiply the attempts and hide failures from it.
      retryOptions: { autoRetry: false },
      // The SDK's own per-request time limit (its default: 60 s); a request it cuts is a transient TimeoutError.
      ...(config.requestTimeoutMs !== undefined ? { timeout: config.requestTimeoutMs } : {}),
    });
    // A service-account key signs its own scoped JWT (as Google's generated clients do) instead of
    // first trading it at Google's fixed token endpoint: one round trip less, and it works with a
    // private endpoint. Other credential types (user, metadata server, workload identity) ignore it.
    this.#storage.authClient.useJWTAccessWithScope = true;
    this.#bucket = this.#storage.bucket(config.bucket);
  }

  #file(key: string): File {
    if (this.#closed) throw new BackendError('gcs backend is closed', { backend: this.name, key });
    return this.#bucket.file(this.#config.prefix + validateKey(key, this.name));
  }

  #missingBucket(key?: string, cause?: unknown): StoreMissingError {
    return new StoreMissingError(`gcs bucket ${this.#config.bucket} does not exist: run create (rcreate) first`, { backend: this.name, key, cause });
  }

  /**
   * Whether the bucket exists, by a bucket metadata GET (`storage.buckets.get`). A 403 means the
   * caller holds only object permissions (roles/storage.objectAdmin, the documented least-privilege
   * role, has no `storage.buckets.get`): the bucket is taken to exist, as restic does, since the
   * object call that led here reached it. A missing bucket then shows as NotFoundError on reads
   * and StoreMissingError on the first write (its 404).
   */
  async #bucketExists(): Promise<boolean> {
    try {
      const [exists] = await this.#bucket.exists();
      return exists;
    } catch (err) {
      if (httpStatus(err) === 403) return true;
      throw err;
    }
  }

  /** Turns a 404 into NotFoundError or, when the bucket itself is gone, StoreMissingError. */
  async #notFound(err: unknown, key: string): Promise<BackendError> {
    if (!this.#bucketSeen) {
      let exists: boolean;
      try {
        exists = await this.#bucketExists();
      } catch (e) {
        return translateError(e, key);
      }
      if (!exists) return this.#missingBucket(key, err);
      this.#bucketSeen = true;
    }
    return new NotFoundError(`no object ${key}`, { backend: this.name, key, cause: err });
  }

  async get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array> {
    const file = this.#file(key);
    if (range) checkRange(range, this.name, key);
    if (range?.length === 0) {
      if (!(await this.stat(key, options))) throw new NotFoundError(`no object ${key}`, { backend: this.name, key });
      return new Uint8Array(0);
    }
    try {
      return await this.#download(file, range, options);
    } catch (err) {
      const status = httpStatus(err);
      if (status === 404) throw await this.#notFound(err, key);
      if (status === 416 && range) return new Uint8Array(0); // offset at or past the end: the contract says empty
      throw translateError(err, key);
    }
  }

  /**
   * One media GET of `file` (a byte range of it when given), by Node's fetch rather than the SDK's
   * `download()`: the SDK reads answers through node-fetch 2, whose body stream never ends nor fails
   * when the connection is reset in the middle of an answer with a Content-Length, so the call
   * never settled (issue 10: `cairn list` idle for minutes). fetch rejects such an answer at once
   * and honours the signal, so a timed-out GET is really cancelled. Failures are shaped like the
   * SDK's (`code` = HTTP status, `response`) for translateError.
   */
  async #download(file: File, range: ByteRange | undefined, options: OpOptions | undefined): Promise<Uint8Array> {
    const signal = options?.signal;
    const url = `${this.#storage.apiEndpoint}/storage/v1/b/${encodeURIComponent(this.#bucket.name)}/o/${encodeURIComponent(file.name)}?alt=media`;
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (range) headers.range = `bytes=${range.offset}-${range.offset + range.length - 1}`;
    if (!this.#config.endpoint || this.#config.authenticate) {
      Object.assign(headers, await abortable(this.#storage.authClient.getRequestHeaders(url), signal));
    }
    const res = await fetch(url, { headers, signal });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let message = text.split('\n')[0] ?? '';
      try { message = String((JSON.parse(text) as { error?: { message?: unknown } }).error?.message ?? message); } catch { /* not JSON */ }
      throw Object.assign(new Error(message.slice(0, 200) || `HTTP ${res.status}`), { code: res.status, response: { status: res.status, headers: res.headers } });
    }
    options?.onProgress?.(0);
    const body = res.body
      ? await readBody(res.body as unknown as AsyncIterable<Uint8Array>, { onProgress: options?.onProgress, signal })
      : new Uint8Array(0);
    if (range && body.length > range.length) {
      throw new BackendError(`gcs object ${file.name}: the server sent ${body.length} bytes for a range of ${range.length}`, { backend: this.name });
    }
    // As the SDK did: a whole object is checked against the CRC32C the service sent (x-goog-hash).
    const expected = /(?:^|,)\s*crc32c=([^,]+)/.exec(res.headers.get('x-goog-hash') ?? '')?.[1]?.trim();
    if (!range && expected && res.headers.get('x-goog-stored-content-encoding') !== 'gzip') {
      const crc = new CRC32C();
      crc.update(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      if (crc.toString() !== expected) {
        throw Object.assign(new Error('downloaded bytes do not match the object\'s CRC32C'), { code: 'CONTENT_DOWNLOAD_MISMATCH' });
      }
    }
    return body;
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void> {
    const file = this.#file(key);
    const resumable = bytes.length > this.#config.resumableThreshold;
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      if (resumable) await this.#authorizeResumable(file);
      await abortable(file.save(data, {
        resumable,
        ...(resumable ? { chunkSize: this.#config.chunkSize } : {}),
        contentType: 'application/octet-stream',
        // Generation 0 means "no live object": GCS checks it atomically with the write.
        ...(options?.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
        // Object retention (the bucket must have it enabled): Unlocked = governance, Locked = compliance.
        ...(options?.retention ? {
          metadata: { retention: { mode: options.retention.mode === 'compliance' ? 'Locked' : 'Unlocked', retainUntilTime: options.retention.until.toISOString() } },
        } : {}),
      }), options?.signal);
    } catch (err) {
      if (httpStatus(err) === 404) throw this.#missingBucket(key, err);
      throw translateError(err, key);
    }
  }

  /**
   * @google-cloud/storage 7.22 drops `useAuthWithCustomEndpoint` when it starts a resumable upload,
   * so with a custom endpoint the session would be opened without credentials. Adding the headers
   * of the same credential chain through a request interceptor restores them; on the public
   * endpoint the SDK authenticates by itself and nothing is added.
   */
  async #authorizeResumable(file: File): Promise<void> {
    if (!this.#config.endpoint || !this.#config.authenticate) return;
    const headers = await this.#storage.authClient.getRequestHeaders(this.#config.endpoint);
    file.interceptors.push({
      request: (opts) => {
        opts.headers = { ...opts.headers, ...headers };
        return opts as typeof opts & { uri: string };
      },
    });
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    const file = this.#file(key);
    try {
      if (options?.retained) {
        // Read the object's retention first: while it runs, no delete is sent at all.
        const [meta] = await abortable(file.getMetadata(), options.signal);
        const until = meta.retention?.retainUntilTime ? new Date(meta.retention.retainUntilTime) : undefined;
        if (until && until.getTime() > Date.now()) {
          throw new RetainedObjectError(`gcs delete ${key}: the object is under ${meta.retention?.mode === 'Locked' ? 'locked' : 'unlocked'} retention until ${until.toISOString()}`,
            { backend: this.name, key, retainUntil: until });
        }
      }
      await abortable(file.delete(), options?.signal);
    } catch (err) {
      if (httpStatus(err) !== 404) throw translateError(err, key);
      const translated = await this.#notFound(err, key);
      if (!(translated instanceof NotFoundError)) throw translated; // missing object: idempotent success
    }
  }

  async *list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
    validatePrefix(prefix, this.name);
    if (this.#closed) throw new BackendError('gcs backend is closed', { backend: this.name });
    const root = this.#config.prefix;
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | undefined;
      try {
        [files, next] = await abortable(this.#bucket.getFiles({
          prefix: root + prefix, maxResults: this.#config.pageSize, pageToken, autoPaginate: false,
        }), options?.signal) as [File[], { pageToken?: string } | undefined, unknown];
      } catch (err) {
        if (httpStatus(err) === 404) throw this.#missingBucket(undefined, err);
        throw translateError(err);
      }
      for (const f of files) yield { key: f.name.slice(root.length), size: Number(f.metadata.size ?? 0), modified: Date.parse(f.metadata.updated ?? '') };
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    const file = this.#file(key);
    try {
      const [meta] = await abortable(file.getMetadata(), options?.signal);
      return { size: Number(meta.size ?? 0), modified: Date.parse(meta.updated ?? '') };
    } catch (err) {
      if (httpStatus(err) !== 404) throw translateError(err, key);
      const translated = await this.#notFound(err, key);
      if (translated instanceof NotFoundError) return undefined;
      throw translated;
    }
  }

  /**
   * Makes the bucket exist. With `retention`, a new bucket gets object retention enabled and an
   * existing one must have it (its metadata, storage.buckets.get), else `UnsupportedStoreError`.
   */
  async create(options?: CreateStoreOptions): Promise<void> {
    try {
      // A 403 on the lookup (no storage.buckets.get): the bucket exists and is not ours to manage.
      if (!(await this.#bucketExists())) await this.#storage.createBucket(this.#config.bucket, options?.retention ? { enableObjectRetention: true } : {});
    } catch (err) {
      // 409: created meanwhile by another client (or owned by someone else, which the next call reveals).
      if (httpStatus(err) !== 409) throw translateError(err);
    }
    this.#bucketSeen = true;
    if (!options?.retention) return;
    let enabled: boolean;
    try {
      const [meta] = await this.#bucket.getMetadata();
      enabled = (meta as { objectRetention?: { mode?: string } }).objectRetention?.mode === 'Enabled';
    } catch (err) {
      throw translateError(err);
    }
    if (!enabled) {
      throw new UnsupportedStoreError(`gcs: bucket "${this.#config.bucket}" does not have object retention enabled, so it cannot keep objects under retention: `
        + 'use a bucket created with it (gcloud storage buckets create --enable-per-object-retention), or create the repository without --retention-mode', { backend: this.name });
    }
  }

  async destroy(): Promise<void> {
    const keys: string[] = [];
    try {
      for await (const entry of this.list('')) keys.push(entry.key);
    } catch (err) {
      if (err instanceof StoreMissingError) return; // nothing to destroy
      throw err;
    }
    await pLimit(16).map(keys, (key) => this.delete(key));
    if (this.#config.prefix === '') {
      try {
        await this.#bucket.delete();
      } catch (err) {
        if (httpStatus(err) !== 404) throw translateError(err);
      }
      this.#bucketSeen = false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
