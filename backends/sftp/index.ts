/**
 * The SFTP backend: objects are files under a root folder on an SFTP server (see layout.ts),
 * written to a hidden temp name, fsynced, then published atomically: `posix-rename@openssh.com`
 * to replace, `hardlink@openssh.com` for `ifAbsent` (link(2) fails when the name exists, and the
 * name appears with all its bytes at once, which an exclusive create of the final name cannot give).
 *
 * Servers without those extensions (not advertised, or refused as OpenSSH's `-P` does, or a
 * hardlink the file system behind the server cannot make) get a probe, once per backend, of what
 * the server can do instead, with two throwaway files in the root folder: whether its plain
 * SSH_FXP_RENAME replaces an existing target (then it is the atomic replace) or refuses it (then,
 * as protocol v3 specifies, it is the create-only publish). A server that can do only one of the
 * two is refused with UnsupportedStoreError naming the missing extension; a write is never made
 * non-atomic. Without `fsync@openssh.com` the fsync is skipped (docs/backends/sftp.md).
 */
import type { SFTPWrapper } from 'ssh2';
import type { Backend, ByteRange, Capabilities, CreateStoreOptions, ListEntry, ObjectInfo, OpOptions, PutOptions } from '../../src/store/backend.js';
import { AlreadyExistsError, NotFoundError, ParentMissingError, UnsupportedStoreError } from '../../src/store/errors.js';
import { compareKeys, validateKey, validatePrefix } from '../../src/store/keys.js';
import { checkRange } from '../../src/store/range.js';
import { ChannelPool } from './channel-pool.js';
import { readConfig, type SftpConfig } from './config.js';
import { DIR_SUFFIX, folderPath, keyPath, parentFolders, tempPath } from './layout.js';
import * as io from './sftp-io.js';
import { SFTP_STATUS, isNoSuchFile, storeMissing, translateError } from './translate-error.js';
import { randomBytes } from 'node:crypto';
import { abortable } from '../../src/store/abort.js';

/** SFTP channels per connection: requests pipeline within a channel, so a few are enough. */
const CHANNELS = 4;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const POSIX_RENAME = 'posix-rename@openssh.com';
const HARDLINK = 'hardlink@openssh.com';
const FSYNC = 'fsync@openssh.com';
/** ssh2's status code for "operation unsupported" (not in translate-error's table). */
const OP_UNSUPPORTED = 8;

/** How this server publishes a complete temp file: to replace an object, and to create one only if absent. */
interface Publishing {
  replace: 'posix-rename' | 'rename';
  create: 'hardlink' | 'rename';
  /** true once a probe chose it; false while the advertised extensions are assumed to work. */
  probed: boolean;
}

/** An extension request the server refused or cannot do (so a probe may find another way). */
function refusedExtension(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === SFTP_STATUS.PERMISSION_DENIED || code === OP_UNSUPPORTED || code === SFTP_STATUS.FAILURE;
}

export class SftpBackend implements Backend {
  readonly name = 'sftp';
  readonly location: string;
  readonly capabilities: Capabilities = { rangeReads: true, ifAbsent: true, maxConnections: 2 * CHANNELS, reportsProgress: true };
  readonly #root: string;
  readonly #pool: ChannelPool;
  #publishing: Promise<Publishing> | undefined;

  constructor(config: SftpConfig) {
    this.location = config.location;
    this.#root = config.root;
    this.#pool = new ChannelPool(config, CHANNELS);
  }

  /**
   * Runs `fn` on a channel. An SFTP request cannot be cancelled (ssh2 has no way to), so when
   * the signal aborts (a timeout, an interrupt) the call rejects at once and the connection that
   * carried the request is torn down: a timed-out request most often means a stalled connection,
   * which would hold every later request too; the next request reconnects, and the other
   * requests it carried fail as transient (connection lost) and are retried.
   */
  async #run<T>(key: string | undefined, options: OpOptions | undefined, fn: (s: SFTPWrapper) => Promise<T>): Promise<T> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    let channel: SFTPWrapper | undefined;
    const onAbort = () => { if (channel) this.#pool.discard(channel); };
    signal?.addEventListener('abort', onAbort, { once: true });
    const work = (async () => {
      try {
        channel = await this.#pool.channel();
        if (signal?.aborted) throw signal.reason;
        return await fn(channel);
      } catch (err) {
        throw translateError(err, key);
      }
    })();
    try {
      return await abortable(work, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** For a "no such file" answer: StoreMissingError when the root is gone, else `otherwise`. */
  async #whenMissing<T>(s: SFTPWrapper, err: unknown, key: string | undefined, otherwise: () => T): Promise<T> {
    if (!isNoSuchFile(err)) throw err;
    if (!(await this.#exists(s, this.#root))) throw storeMissing(this.location, key);
    return otherwise();
  }

  async #exists(s: SFTPWrapper, path: string): Promise<boolean> {
    try {
      await io.stat(s, path);
      return true;
    } catch (err) {
      if (isNoSuchFile(err)) return false;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange, options?: OpOptions): Promise<Uint8Array> {
    validateKey(key, this.name);
    if (range) checkRange(range, this.name, key);
    return this.#run(key, options, async (s) => {
      let handle: Buffer;
      try {
        handle = await io.open(s, keyPath(this.#root, key), 'r');
      } catch (err) {
        return this.#whenMissing(s, err, key, () => { throw new NotFoundError(`no object ${key}`, { backend: this.name, key }); });
      }
      try {
        const size = (await io.fstat(s, handle)).size;
        const offset = range?.offset ?? 0;
        const length = Math.max(0, Math.min(range ? range.length : size, size - offset));
        options?.onProgress?.(0);
        return length === 0 ? new Uint8Array(0) : await io.readRange(s, handle, offset, length, options?.onProgress);
      } finally {
        await io.close(s, handle).catch(() => undefined);
      }
    });
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions & OpOptions): Promise<void> {
    validateKey(key, this.name);
    await this.#run(key, options, async (s) => {
      let how = await this.#publishingOf(s);
      const path = keyPath(this.#root, key);
      const temp = tempPath(path);
      await this.#writeTemp(s, key, temp, bytes);
      let published = false;
      const exists = async (err: unknown) => {
        // link(2) and rename report EEXIST as the generic SFTP "failure": look before concluding.
        if (await this.#exists(s, path)) throw new AlreadyExistsError(`object ${key} exists`, { backend: this.name, key, cause: err });
      };
      try {
        if (options?.ifAbsent) {
          if (how.create === 'hardlink') {
            try {
              await io.hardlink(s, temp, path);
              return;
            } catch (err) {
              await exists(err);
              if (how.probed || !refusedExtension(err)) throw err;
              how = await this.#probeAgain(s);
              if (how.create === 'hardlink') throw err;
            }
          }
          try {
            await io.rename(s, temp, path);
            published = true;
          } catch (err) {
            await exists(err);
            throw err;
          }
        } else {
          if (how.replace === 'posix-rename') {
            try {
              await io.posixRename(s, temp, path);
              published = true;
              return;
            } catch (err) {
              if (how.probed || !refusedExtension(err)) throw err;
              how = await this.#probeAgain(s);
              if (how.replace === 'posix-rename') throw err;
            }
          }
          await io.rename(s, temp, path);
          published = true;
        }
      } finally {
        if (!published) await io.unlink(s, temp).catch(() => undefined);
      }
    });
  }

  /** The publishing methods: the advertised extensions until one fails, else what a probe found. */
  async #publishingOf(s: SFTPWrapper): Promise<Publishing> {
    if (this.#publishing) return this.#publishing;
    if (io.advertises(s, POSIX_RENAME) && io.advertises(s, HARDLINK)) return { replace: 'posix-rename', create: 'hardlink', probed: false };
    return this.#probeAgain(s);
  }

  /** Probes once (later callers share the answer, or the refusal). */
  #probeAgain(s: SFTPWrapper): Promise<Publishing> {
    if (!this.#publishing) {
      const probe = this.#probe(s);
      // A refusal is the server's nature and stays; any other failure (a dropped connection) is retried.
      probe.catch((err: unknown) => { if (!(err instanceof UnsupportedStoreError) && this.#publishing === probe) this.#publishing = undefined; });
      this.#publishing = probe;
    }
    return this.#publishing;
  }

  /**
   * Finds out, with throwaway hidden files in the root folder, which of posix-rename, hardlink
   * and plain rename (and whether it replaces or refuses an existing target) work on this server.
   */
  async #probe(s: SFTPWrapper): Promise<Publishing> {
    const base = `${this.#root}/.cairn-probe-${randomBytes(6).toString('hex')}`;
    const [a, b, c] = [`${base}-a`, `${base}-b`, `${base}-c`];
    const small = async (path: string, text: string) => {
      let handle: Buffer;
      try {
        handle = await io.open(s, path, 'wx', 0o600);
      } catch (err) {
        return this.#whenMissing(s, err, undefined, () => { throw err; });
      }
      try { await io.writeAll(s, handle, new TextEncoder().encode(text)); } finally { await io.close(s, handle); }
    };
    const works = (op: Promise<void>) => op.then(() => true, (err: unknown) => {
      if (refusedExtension(err) || isNoSuchFile(err)) return false;
      throw err;
    });
    try {
      await small(a, 'a');
      await small(b, 'b');
      const posixRename = io.advertises(s, POSIX_RENAME) && await works(io.posixRename(s, a, b));
      if (posixRename) await small(a, 'a');
      const hardlink = io.advertises(s, HARDLINK) && await works(io.hardlink(s, a, c));
      // With both names present, a plain rename either replaces b or is refused.
      const renameReplaces = await works(io.rename(s, a, b)) && !(await this.#exists(s, a));
      const replace = posixRename ? 'posix-rename' : renameReplaces ? 'rename' : undefined;
      const create = hardlink ? 'hardlink' : renameReplaces ? undefined : 'rename';
      const server = this.location;
      if (!replace) {
        throw new UnsupportedStoreError(`sftp server of ${server} lacks ${POSIX_RENAME} (not offered or refused) and its plain rename does not replace a file: it cannot replace objects atomically, so cairn cannot use it`, { backend: this.name });
      }
      if (!create) {
        throw new UnsupportedStoreError(`sftp server of ${server} lacks ${HARDLINK} (not offered, refused, or no hard links on its disk) and its plain rename replaces files: it cannot create objects only if absent, so cairn cannot use it`, { backend: this.name });
      }
      return { replace, create, probed: true };
    } finally {
      await Promise.all([a, b, c].map((p) => io.unlink(s, p).catch(() => undefined)));
    }
  }

  async #writeTemp(s: SFTPWrapper, key: string, temp: string, bytes: Uint8Array): Promise<void> {
    let handle: Buffer;
    try {
      handle = await io.open(s, temp, 'wx', 0o600);
    } catch (err) {
      await this.#whenMissing(s, err, key, () => undefined);
      await this.#makeFolders(s, parentFolders(this.#root, key));
      handle = await io.open(s, temp, 'wx', 0o600);
    }
    try {
      await io.writeAll(s, handle, bytes);
      if (io.advertises(s, FSYNC)) await io.fsync(s, handle);
    } catch (err) {
      await io.close(s, handle).catch(() => undefined);
      await io.unlink(s, temp).catch(() => undefined);
      throw err;
    }
    await io.close(s, handle);
  }

  /** mkdir of each folder in order; one that exists already (made by a concurrent put) is fine. */
  async #makeFolders(s: SFTPWrapper, folders: string[]): Promise<void> {
    for (const folder of folders) {
      try {
        await io.mkdir(s, folder);
      } catch (err) {
        const st = await io.stat(s, folder).catch(() => undefined);
        if (!st || (st.mode & S_IFMT) !== S_IFDIR) throw err;
      }
    }
  }

  async delete(key: string, options?: OpOptions): Promise<void> {
    validateKey(key, this.name);
    await this.#run(key, options, async (s) => {
      try {
        await io.unlink(s, keyPath(this.#root, key));
      } catch (err) {
        await this.#whenMissing(s, err, key, () => undefined);
      }
    });
  }

  async stat(key: string, options?: OpOptions): Promise<ObjectInfo | undefined> {
    validateKey(key, this.name);
    return this.#run(key, options, async (s) => {
      try {
        const attrs = await io.stat(s, keyPath(this.#root, key));
        return { size: attrs.size, modified: attrs.mtime * 1000 };
      } catch (err) {
        return this.#whenMissing(s, err, key, () => undefined);
      }
    });
  }

  async *list(prefix: string, options?: OpOptions): AsyncIterable<ListEntry> {
    validatePrefix(prefix, this.name);
    const entries = await this.#run(prefix, options, async (s) => {
      const out: ListEntry[] = [];
      const start = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      const walk = async (dirKey: string): Promise<void> => {
        let names;
        try {
          names = await io.readdir(s, folderPath(this.#root, dirKey));
        } catch (err) {
          if (dirKey === start) return this.#whenMissing(s, err, undefined, () => undefined);
          if (isNoSuchFile(err)) return; // removed while we walked
          throw err;
        }
        const below: Promise<void>[] = [];
        for (const { filename, attrs } of names) {
          if (filename.startsWith('.')) continue; // temp files
          const type = attrs.mode & S_IFMT;
          if (type === S_IFDIR && filename.endsWith(DIR_SUFFIX)) {
            const child = `${dirKey}${filename.slice(0, -DIR_SUFFIX.length)}/`;
            if (child.startsWith(prefix) || prefix.startsWith(child)) below.push(walk(child));
          } else if (type === S_IFREG && `${dirKey}${filename}`.startsWith(prefix)) {
            out.push({ key: `${dirKey}${filename}`, size: attrs.size, modified: attrs.mtime * 1000 });
          }
        }
        await Promise.all(below);
      };
      await walk(start);
      return out.sort((a, b) => compareKeys(a.key, b.key));
    });
    for (const entry of entries) {
      options?.signal?.throwIfAborted();
      yield entry;
    }
  }

  async create(options?: CreateStoreOptions): Promise<void> {
    await this.#run(undefined, undefined, async (s) => {
      if (await this.#exists(s, this.#root)) return;
      const parts = this.#root.split('/');
      const folders = parts.map((_, i) => parts.slice(0, i + 1).join('/')).filter((p) => p !== '' && p !== '.');
      if (options?.parents === false) {
        // The folder above the root must be there already (the login folder or / count as there).
        const parent = folders.at(-2);
        if (parent !== undefined && !(await this.#exists(s, parent))) {
          throw new ParentMissingError(`sftp store ${this.location}: the folder above it, ${parent}, does not exist`, { backend: this.name });
        }
        folders.splice(0, folders.length - 1);
      }
      await this.#makeFolders(s, folders);
    });
  }

  async destroy(): Promise<void> {
    await this.#run(undefined, undefined, (s) => this.#removeTree(s, this.#root));
  }

  async #removeTree(s: SFTPWrapper, folder: string): Promise<void> {
    let names;
    try {
      names = await io.readdir(s, folder);
    } catch (err) {
      if (isNoSuchFile(err)) return;
      throw err;
    }
    await Promise.all(names.map(({ filename, attrs }) => {
      const path = `${folder}/${filename}`;
      if ((attrs.mode & S_IFMT) === S_IFDIR) return this.#removeTree(s, path);
      return io.unlink(s, path).catch((err: unknown) => { if (!isNoSuchFile(err)) throw err; });
    }));
    await io.rmdir(s, folder).catch((err: unknown) => { if (!isNoSuchFile(err)) throw err; });
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/** Opens the SFTP store named by `url` (see docs/backends/sftp.md); connects on first use. */
export async function createSftpBackend(url: URL, options: { env?: NodeJS.ProcessEnv } = {}): Promise<SftpBackend> {
  return new SftpBackend(readConfig(url, options.env));
}
