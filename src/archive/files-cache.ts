/**
 * The files cache: for each path backed up before, its (size, mtime, inode) and chunk list, so
 * `create` skips reading a file that has not changed. One file per repository under the user's
 * cache folder: `$XDG_CACHE_HOME/cairn/<repository id>/files` (default `~/.cache`).
 *
 * Layout of the `files` file (msgpack, written atomically: temp name, fsync, rename):
 *
 *   [ 1, [ [ key bin(16), size uint, mtime_ns int64, inode int64, age uint, [ [ id bin(32), size uint ], ... ] ], ... ] ]
 *
 * `key` is SHA-256(path bytes)[0..16]. `age` counts runs since the entry was last seen;
 * entries older than `maxAge` runs are dropped (Borg's files cache TTL, 20 by default).
 * The cache is only a hint: a hit is used only when every chunk is still in the repository.
 */
import { hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { ChunkRef } from './item.js';
import { writeFileAtomic } from './local-file.js';

interface Entry {
  size: number;
  mtime: bigint;
  inode: bigint;
  age: number;
  chunks: ChunkRef[];
}

/** The cache folder of one repository: `$XDG_CACHE_HOME/cairn/<id>` or `~/.cache/cairn/<id>`. */
export function repositoryCacheDir(repositoryId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'cairn', repositoryId);
}

const FORMAT = 1;

/** Path → chunks of files already stored; see the module header for the on-disk layout. */
export class FilesCache {
  readonly #file: string;
  readonly #maxAge: number;
  readonly #entries: Map<string, Entry>;

  private constructor(file: string, entries: Map<string, Entry>, maxAge: number) {
    this.#file = file;
    this.#entries = entries;
    this.#maxAge = maxAge;
  }

  /** Loads the cache of a folder; a missing or unreadable file gives an empty cache. */
  static async load(dir: string, options: { maxAge?: number } = {}): Promise<FilesCache> {
    const entries = new Map<string, Entry>();
    const file = join(dir, 'files');
    try {
      const data = new Decoder({ useBigInt64: true }).decode(await readFile(file)) as [number, unknown[][]];
      if (data[0] === FORMAT) {
        for (const [key, size, mtime, inode, age, chunks] of data[1] as [Uint8Array, number, bigint, bigint, number, [Uint8Array, number][]][]) {
          entries.set(Buffer.from(key).toString('hex'), {
            size: Number(size), mtime: BigInt(mtime), inode: BigInt(inode), age: Number(age) + 1,
            chunks: chunks.map(([id, n]) => ({ id, size: Number(n) })),
          });
        }
      }
    } catch {
      // A missing or damaged cache only costs reading the files again.
    }
    return new FilesCache(file, entries, options.maxAge ?? 20);
  }

  /** The last path keyed and its key: `create` asks lookup, knows and remember of one path in a row. */
  #lastPath: Uint8Array | undefined;
  #lastKey = '';

  #key(path: Uint8Array): string {
    if (path !== this.#lastPath) {
      // The first 16 bytes of SHA-256, in hex (one-shot `hash`: a fifth of createHash's cost per path).
      this.#lastKey = hash('sha256', path, 'hex').slice(0, 32);
      this.#lastPath = path;
    }
    return this.#lastKey;
  }

  /** The chunk list stored for `path` when size, mtime and inode all match `stat`, else undefined. */
  lookup(path: Uint8Array, stat: BigIntStats): ChunkRef[] | undefined {
    const entry = this.#entries.get(this.#key(path));
    if (!entry || entry.size !== Number(stat.size) || entry.mtime !== stat.mtimeNs || entry.inode !== stat.ino) return undefined;
    entry.age = 0;
    return entry.chunks;
  }

  /** True when the cache has an entry for `path`, matching or not (`create --list`: M rather than A). */
  knows(path: Uint8Array): boolean {
    return this.#entries.has(this.#key(path));
  }

  /** Records the chunks of a file just stored (or confirmed unchanged). */
  remember(path: Uint8Array, stat: BigIntStats, chunks: ChunkRef[]): void {
    this.#entries.set(this.#key(path), { size: Number(stat.size), mtime: stat.mtimeNs, inode: stat.ino, age: 0, chunks });
  }

  /** The cache file (named in the warning when it cannot be saved). */
  get file(): string {
    return this.#file;
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Writes the cache atomically, dropping entries not seen for `maxAge` runs. */
  async save(): Promise<void> {
    const rows: unknown[] = [];
    for (const [key, e] of this.#entries) {
      if (e.age > this.#maxAge) continue;
      rows.push([Buffer.from(key, 'hex'), e.size, e.mtime, e.inode, e.age, e.chunks.map((c) => [c.id, c.size])]);
    }
    const bytes = new Encoder({ useBigInt64: true }).encode([FORMAT, rows]);
    await writeFileAtomic(this.#file, bytes);
  }
}
