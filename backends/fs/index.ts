/**
 * The fs backend: a store in a local folder, one file per object at the path its key names.
 * Writes are atomic (temp file, fsync, rename or link, fsync the folder); see docs/adr/0004-fs-layout.md.
 */
import { lstat, open, readdir, rm, rmdir, mkdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Backend, ByteRange, Capabilities, CreateStoreOptions, ListEntry, ObjectInfo, OpOptions, PutOptions } from '../../src/store/backend.js';
import { AlreadyExistsError, BackendError, NotFoundError, ParentMissingError, StoreMissingError } from '../../src/store/errors.js';
import { checkRange } from '../../src/store/range.js';
import { validateKey, validatePrefix } from '../../src/store/keys.js';
import { DIR_MODE, TEMP_PREFIX, syncDir, writeAtomic, type LinkSupport } from './atomic-write.js';
import { errnoOf, translateError } from './errors.js';
import { walkSorted } from './walk.js';

export { translateError } from './errors.js';

export class FsBackend implements Backend {
  readonly name = 'fs';
  readonly location: string;
  readonly capabilities: Capabilities = { rangeReads: true, ifAbsent: true, maxConnections: 16 };
  readonly #root: string;
  /** Whether this store's file system has hard links: learnt at the first create-only put. */
  readonly #links: LinkSupport = {};

  constructor(root: string) {
    this.#root = resolve(root);
    this.location = this.#root;
  }

  #path(key: string): string {
    return join(this.#root, ...validateKey(key, this.name).split('/'));
  }

  /** A missing object inside a missing store is reported as the store being missing. */
  async #missing(err: unknown, op: string, key: string): Promise<Error> {
    const translated = translateError(err, op, key);
    if (translated instanceof NotFoundError && !(await this.#rootExists())) {
      return new StoreMissingError(`fs store ${this.location} does not exist: create it first`, { backend: this.name, key, cause: err });
    }
    return translated;
  }

  async #rootExists(): Promise<boolean> {
    return stat(this.#root).then((s) => s.isDirectory(), () => false);
  }

  async get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array> {
    const path = this.#path(key);
    if (range) checkRange(range, this.name, key);
    options?.signal?.throwIfAborted();
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw await this.#missing(err, 'get', key);
    }
    try {
      const size = (await handle.stat()).size;
      if (!range) {
        const whole = await handle.readFile({ signal: options?.signal });
        return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
      }
      const length = Math.max(0, Math.min(range.length, size - range.offset));
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, range.offset + done);
        if (bytesRead === 0) break; // truncated under us: impossible for our files (never rewritten in place)
        done += bytesRead;
      }
      return done === length ? out : out.subarray(0, done);
    } catch (err) {
      // A folder opens fine on Linux and fails on read with EISDIR: a folder is not an object.
      if (errnoOf(err) === 'EISDIR') throw new NotFoundError(`fs get ${key}: no such object`, { backend: this.name, key, cause: err });
      throw translateError(err, 'get', key);
    } finally {
      await handle.close();
    }
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void> {
    const path = this.#path(key);
    options?.signal?.throwIfAborted();
    try {
      await writeAtomic(this.#root, path, bytes, options?.ifAbsent === true, options?.signal, this.#links);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'EEXIST' && options?.ifAbsent) throw new AlreadyExistsError(`fs put ${key}: object exists`, { backend: this.name, key, cause: err });
      if (errno === 'EISDIR' || errno === 'ENOTDIR' || errno === 'EEXIST') {
        // `a` and `a/b` cannot both be files on a file system; the repository never makes such keys.
        throw new BackendError(`fs put ${key}: the key clashes with a folder or file of another key`, { backend: this.name, key, cause: err });
      }
      throw await this.#missing(err, 'put', key);
    }
  }

  async delete(key: string, options?: OpOptions): Promise<void> {
    const path = this.#path(key);
    options?.signal?.throwIfAborted();
    try {
      await unlink(path);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'EISDIR') return; // idempotent; a folder is no object
      if (errno === 'EPERM' && (await lstat(path).then((s) => s.isDirectory(), () => false))) return;
      throw translateError(err, 'delete', key);
    }
    await syncDir(dirname(path)).catch((err: unknown) => {
      // A concurrent delete may have removed the now-empty folder already: the object is gone either way.
      if (errnoOf(err) !== 'ENOENT') throw translateError(err, 'delete', key);
    });
    await this.#pruneEmptyDirs(dirname(path));
  }

  /** Removes now-empty folders up to the root: one rmdir each, stopping at the first non-empty one. */
  async #pruneEmptyDirs(dir: string): Promise<void> {
    while (dir !== this.#root && dir.startsWith(this.#root)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or a concurrent put is filling it): keep it
      }
      dir = dirname(dir);
    }
  }

  list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
    const root = this.#root;
    const check = async function* (backend: FsBackend): AsyncIterable<ListEntry> {
      validatePrefix(prefix, backend.name);
      try {
        yield* walkSorted(root, prefix, options?.signal);
      } catch (err) {
        throw translateError(err, 'list', prefix);
      }
    };
    return check(this);
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    const path = this.#path(key);
    options?.signal?.throwIfAborted();
    try {
      const st = await stat(path);
      return st.isFile() ? { size: st.size, modified: Math.floor(st.mtimeMs) } : undefined;
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'ENOENT' || errno === 'ENOTDIR') return undefined;
      throw translateError(err, 'stat', key);
    }
  }

  async create(options?: CreateStoreOptions): Promise<void> {
    const parent = dirname(this.#root);
    if (options?.parents === false && !(await stat(parent).then((st) => st.isDirectory(), () => false))) {
      throw new ParentMissingError(`fs store ${this.location}: the folder above it, ${parent}, does not exist`, { backend: this.name });
    }
    try {
      await mkdir(this.#root, { recursive: true, mode: DIR_MODE });
      await syncDir(dirname(this.#root));
    } catch (err) {
      throw translateError(err, 'create');
    }
  }

  async destroy(): Promise<void> {
    try {
      await rm(this.#root, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      throw translateError(err, 'destroy');
    }
  }

  async close(): Promise<void> {}

  /**
   * Deletes temp files left by writers that crashed, older than `olderThanMs` (default one
   * hour, far longer than any write takes), and returns how many it removed. They are never
   * listed or read, so this only reclaims space; it is safe while other clients write.
   */
  async removeStaleTempFiles(olderThanMs = 3_600_000): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory() && !entry.name.startsWith('.')) await visit(path);
        else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
          const st = await lstat(path).catch(() => undefined);
          if (st && st.mtimeMs < cutoff && (await unlink(path).then(() => true, () => false))) removed += 1;
        }
      }
    };
    await visit(this.#root);
    return removed;
  }
}

/** An fs store rooted at the folder `root` (relative paths resolve against the working directory). */
export function createFsBackend(root: string): FsBackend {
  return new FsBackend(root);
}
