/**
 * The S3 backend: each Backend call is one (or, for large objects, a multipart series of) S3
 * request(s) through @aws-sdk/client-s3, for AWS and S3-compatible stores alike. Thin by design:
 * retries, limits and timeouts are the store layer's wrappers.
 */
import {
  DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, PutObjectCommand, CreateBucketCommand, GetObjectLockConfigurationCommand, type S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Backend, ByteRange, Capabilities, CreateStoreOptions, DeleteOptions, ListEntry, ObjectInfo, OpOptions, PutOptions } from '../../src/store/backend.js';
import { BackendError, NotFoundError, RetainedObjectError, TransientError, UnsupportedStoreError } from '../../src/store/errors.js';
import { checkRange } from '../../src/store/range.js';
import { readBody } from '../../src/store/read-body.js';
import { validateKey, validatePrefix } from '../../src/store/keys.js';
import { parseS3Url, type S3Config } from './config.js';
import { createClient, type RegionMemory } from './client.js';
import { translateError, type ErrorContext } from './translate-error.js';

/** Objects deleted per DeleteObjects request (the API's maximum). */
const DELETE_BATCH = 1000;

const LOCK_MODE = { governance: 'GOVERNANCE', compliance: 'COMPLIANCE' } as const;
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

export class S3Backend implements Backend {
  readonly name = 's3';
  readonly location: string;
  readonly capabilities: Capabilities = { rangeReads: true, ifAbsent: true, maxConnections: 64, reportsProgress: true, retention: true };
  readonly #config: S3Config;
  readonly #region: RegionMemory;
  #client: S3Client | undefined;

  constructor(config: S3Config, client: S3Client, region: RegionMemory) {
    this.#config = config;
    this.#client = client;
    this.#region = region;
    const endpoint = config.endpoint ? ` at ${config.endpoint}` : '';
    this.location = `s3://${config.bucket}/${config.prefix}${endpoint}`;
  }

  #s3(key?: string): S3Client {
    if (!this.#client) throw new BackendError('s3 backend is closed', { backend: this.name, key });
    return this.#client;
  }

  /**
   * Runs one SDK call, turning its failure into a cairn error. A 301 naming the bucket's region
   * (`x-amz-bucket-region`) when the region did not come from the URL: that region is remembered
   * for every later request, and the call is made once more.
   */
  async #call<T>(ctx: Omit<ErrorContext, 'bucket'>, fn: (s3: S3Client) => Promise<T>): Promise<T> {
    const s3 = this.#s3(ctx.key);
    try {
      return await fn(s3);
    } catch (err) {
      const moved = this.#region.follows ? await this.#movedTo(err) : undefined;
      if (moved === undefined) throw translateError(err, { ...ctx, bucket: this.#config.bucket });
      this.#region.remember(moved);
      try {
        return await fn(s3);
      } catch (again) {
        throw translateError(again, { ...ctx, bucket: this.#config.bucket });
      }
    }
  }

  /** The region a 301 PermanentRedirect names, when it is not the one the request was signed for. */
  async #movedTo(err: unknown): Promise<string | undefined> {
    if (statusOf(err) !== 301) return undefined;
    const headers = (err as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers ?? {};
    const region = headers['x-amz-bucket-region'];
    if (typeof region !== 'string' || !/^[a-z0-9-]{1,40}$/.test(region)) return undefined;
    return region === await this.#region.current() ? undefined : region;
  }

  #objectKey(key: string): string {
    return this.#config.prefix + key;
  }

  async get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array> {
    validateKey(key, this.name);
    if (range) checkRange(range, this.name, key);
    if (range && range.length === 0) {
      if (!(await this.stat(key, options))) throw new NotFoundError(`s3 get ${key}: no such object`, { backend: this.name, key });
      return new Uint8Array(0);
    }
    return this.#call({ op: 'get', key }, async (s3) => {
      let res;
      try {
        res = await s3.send(new GetObjectCommand({
          Bucket: this.#config.bucket,
          Key: this.#objectKey(key),
          Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
        }), { abortSignal: options?.signal });
      } catch (err) {
        // 416: the range starts at or past the end of an existing object; the contract says empty.
        if (range && statusOf(err) === 416) return new Uint8Array(0);
        throw err;
      }
      options?.onProgress?.(0);
      const bytes = res.Body
        ? await readBody(res.Body as AsyncIterable<Uint8Array>, { onProgress: options?.onProgress, signal: options?.signal })
        : new Uint8Array(0);
      if (res.ContentLength !== undefined && bytes.length !== res.ContentLength) {
        throw new TransientError(`s3 get ${key}: body ended after ${bytes.length} of ${res.ContentLength} bytes`, { backend: this.name, key });
      }
      return bytes;
    });
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void> {
    validateKey(key, this.name);
    const ifAbsent = options?.ifAbsent === true;
    const params = {
      Bucket: this.#config.bucket,
      Key: this.#objectKey(key),
      Body: asBuffer(bytes),
      ContentType: 'application/octet-stream',
      // Only data segments go to the cheaper class: config, index, keys and locks are read often.
      StorageClass: key.startsWith('data/') ? this.#config.storageClass : undefined,
      IfNoneMatch: ifAbsent ? '*' : undefined,
      // Object Lock: this version of the object cannot be deleted (nor its retention shortened) before the date.
      ObjectLockMode: options?.retention ? LOCK_MODE[options.retention.mode] : undefined,
      ObjectLockRetainUntilDate: options?.retention?.until,
    };
    await this.#call({ op: 'put', key, ifAbsent }, async (s3) => {
      if (bytes.length < this.#config.multipartThreshold) {
        await s3.send(new PutObjectCommand({ ...params, ContentLength: bytes.length }), { abortSignal: options?.signal });
        return;
      }
      // Parts of partSize (more if 10 000 parts would not hold it); the object appears only on
      // CompleteMultipartUpload, which carries IfNoneMatch, so a put stays atomic and conditional.
      const partSize = Math.max(this.#config.partSize, Math.ceil(bytes.length / 10_000));
      const upload = new Upload({ client: s3, params, partSize, queueSize: 4, leavePartsOnError: false });
      const onAbort = () => { void upload.abort(); };
      options?.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        options?.signal?.throwIfAborted();
        await upload.done();
      } finally {
        options?.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    validateKey(key, this.name);
    const target = { Bucket: this.#config.bucket, Key: this.#objectKey(key) };
    if (!options?.retained) {
      await this.#call({ op: 'delete', key }, (s3) => s3.send(new DeleteObjectCommand(target), { abortSignal: options?.signal }));
      return;
    }
    // A bucket with Object Lock is versioned: a DeleteObject without a version id only hides the
    // object behind a delete marker and frees nothing. So: HEAD for the version and its retention,
    // refuse while the retention runs (without asking S3 to delete), else delete that version.
    await this.#call({ op: 'delete', key }, async (s3) => {
      let head;
      try {
        head = await s3.send(new HeadObjectCommand(target), { abortSignal: options.signal });
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
      const until = head.ObjectLockRetainUntilDate;
      if (until !== undefined && until.getTime() > Date.now()) {
        throw new RetainedObjectError(`s3 delete ${key}: the object is under ${String(head.ObjectLockMode ?? 'Object Lock').toLowerCase()} retention until ${until.toISOString()}`,
          { backend: this.name, key, retainUntil: until });
      }
      await s3.send(new DeleteObjectCommand({ ...target, VersionId: head.VersionId }), { abortSignal: options.signal });
    });
  }

  async *list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
    validatePrefix(prefix, this.name);
    const root = this.#config.prefix;
    let token: string | undefined;
    do {
      const page = await this.#call({ op: 'list', key: prefix || undefined }, (s3) => s3.send(new ListObjectsV2Command({
        Bucket: this.#config.bucket,
        Prefix: root + prefix,
        MaxKeys: this.#config.pageSize,
        ContinuationToken: token,
      }), { abortSignal: options?.signal }));
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(root.length), size: object.Size ?? 0, modified: object.LastModified?.getTime() ?? Number.NaN };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) throw new BackendError('s3 list: truncated page without a continuation token', { backend: this.name });
    } while (token);
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    validateKey(key, this.name);
    return this.#call({ op: 'stat', key }, async (s3) => {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: this.#config.bucket, Key: this.#objectKey(key) }), { abortSignal: options?.signal });
        return { size: head.ContentLength ?? 0, modified: head.LastModified?.getTime() ?? Number.NaN };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  /**
   * Makes the bucket exist (a prefix needs nothing more): ListObjectsV2 needs only s3:ListBucket.
   * With `retention`, a new bucket is created with Object Lock, and an existing one must have it
   * (GetObjectLockConfiguration, s3:GetBucketObjectLockConfiguration), else `UnsupportedStoreError`.
   */
  async create(options?: CreateStoreOptions): Promise<void> {
    const { bucket, prefix } = this.#config;
    await this.#call({ op: 'create' }, async (s3) => {
      let exists = true;
      try {
        await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'NoSuchBucket') throw err;
        exists = false;
      }
      if (!exists) {
        const region = await this.#region.current();
        try {
          await s3.send(new CreateBucketCommand({
            Bucket: bucket,
            CreateBucketConfiguration: region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
            ObjectLockEnabledForBucket: options?.retention ? true : undefined,
          }));
        } catch (err) {
          if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
        }
      }
      if (options?.retention) await this.#assertObjectLock(s3);
    });
  }

  async #assertObjectLock(s3: S3Client): Promise<void> {
    const { bucket } = this.#config;
    let enabled = false;
    try {
      const res = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      enabled = res.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch (err) {
      if ((err as { name?: string }).name !== 'ObjectLockConfigurationNotFoundError' && statusOf(err) !== 404) throw err;
    }
    if (!enabled) {
      throw new UnsupportedStoreError(`s3: bucket "${bucket}" has no Object Lock, so it cannot keep objects under retention: `
        + 'use a bucket created with Object Lock enabled (docs/backends/s3.md, "Object Lock"), or create the repository without --retention-mode', { backend: this.name });
    }
  }

  /** Deletes every object under the prefix in batches; with no prefix, the bucket too. */
  async destroy(): Promise<void> {
    const { bucket, prefix } = this.#config;
    const keys: string[] = [];
    try {
      for await (const entry of this.list('')) keys.push(prefix + entry.key);
    } catch (err) {
      if ((err as BackendError).code === 'ENO_REPOSITORY_STORE') return; // no bucket: nothing to destroy
      throw err;
    }
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await this.#call({ op: 'destroy' }, (s3) => s3.send(new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      })));
      const failed = res.Errors?.[0];
      if (failed) {
        const err = Object.assign(new Error(failed.Message ?? 'delete failed'), { name: failed.Code ?? 'DeleteFailed' });
        throw translateError(err, { op: 'destroy', key: failed.Key?.slice(prefix.length), bucket });
      }
    }
    if (prefix === '') {
      await this.#call({ op: 'destroy' }, async (s3) => {
        try {
          await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchBucket') throw err;
        }
      });
    }
  }

  async close(): Promise<void> {
    this.#client?.destroy();
    this.#client = undefined;
  }
}

/**
 * Opens the store at `s3://bucket/prefix?…` (see docs/backends/s3.md for every option). No
 * request is made here; an invalid URL throws `InvalidUrlError` at once.
 */
export async function createS3Backend(url: URL, options: { env?: NodeJS.ProcessEnv } = {}): Promise<S3Backend> {
  const config = parseS3Url(url);
  const { client, region } = createClient(config, options.env ?? process.env);
  return new S3Backend(config, client, region);
}
