/**
 * Restores items one after the other below the target, keeping ADR 0043's promise whatever the
 * archive holds: every parent is a folder this run created or checked, no folder is replaced by a
 * non-folder, an item waits for a file still being written at its path (or a parent's), hard links
 * point only at files this run wrote (a link waits for any write at its first file's path), and metadata never follows a symlink (restore-meta.ts).
 * An item that cannot take its place is a warning and is skipped; a file whose chunks are damaged
 * is not written (a warning), the rest goes on, and `finish` then throws the first such error.
 */
import { link, lstat, mkdir, symlink } from 'node:fs/promises';
import { releaseBytes } from '../engine/index.js';
import { ArchiveError } from './errors.js';
import { itemKind, pathText, type Item } from './item.js';
import { makeSpecial, RefusedItemError, SafeTree, type Identity } from './restore-fs.js';
import { writeLargeFile, writeSmallFile } from './restore-file.js';
import { applyToFolder, applyToSpecial, applyToSymlink, type MetadataContext } from './restore-meta.js';
import type { Warning } from './walk.js';

/** Files written at the same time. */
const FILES_IN_FLIGHT = 8;
/**
 * Files up to this size are written with synchronous calls through their descriptor (see
 * `writeSmallFile`): for them thread-pool round trips cost more than the writes.
 */
const SMALL_FILE = 256 * 1024;
/** Errors that mean a chunk is damaged or missing: they fail one file, not the run. */
const DAMAGE = new Set(['EINTEGRITY', 'ENOT_FOUND_ID', 'EARCHIVE_CORRUPT', 'ECHUNK_INTEGRITY', 'EUNSUPPORTED_FORMAT']);

export interface RestoreHooks {
  warn(warning: Warning): void;
  /** Called once for every chunk promise handed to `restore`, after it settled. */
  consumed(chunk: Promise<Uint8Array>): void;
  /** Called after bytes of `item` were written or a file was finished (see `written`, `files`). */
  progress?(item: Item): void;
}

/** A chunk list still to be consumed (set to undefined once a writer took it over). */
interface Owed { data?: readonly Promise<Uint8Array>[] }

const key = (path: Buffer): string => path.toString('latin1');

/** One extraction's writer; see the module header. */
export class ItemRestorer {
  readonly #tree: SafeTree;
  readonly #meta: MetadataContext;
  readonly #hooks: RestoreHooks;
  readonly #dirs = new Map<string, { dest: Buffer; item: Item; depth: number }>();
  readonly #links = new Map<string, { dest: Buffer; done: Promise<Identity | undefined> }>();
  /** Files being written, by destination path: a later item at that path (or below) waits. */
  readonly #busy = new Map<string, Promise<void>>();
  readonly #writing = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;
  #damage: { error: unknown } | undefined;
  files = 0;
  bytes = 0;
  /** Bytes written so far, of files still being written too (`bytes` counts finished files). */
  written = 0;

  private constructor(tree: SafeTree, meta: MetadataContext, hooks: RestoreHooks) {
    this.#tree = tree;
    this.#meta = meta;
    this.#hooks = hooks;
  }

  /** Creates the target folder if missing and starts a restore into it. */
  static async open(target: string, meta: MetadataContext, hooks: RestoreHooks): Promise<ItemRestorer> {
    const created = await mkdir(target, { recursive: true });
    const tree = new SafeTree(target);
    await tree.init(created !== undefined);
    return new ItemRestorer(tree, meta, hooks);
  }

  /** Restores one item at `parts` below the target; throws only errors that end the run. */
  async restore(item: Item, parts: Buffer[], data: readonly Promise<Uint8Array>[]): Promise<void> {
    this.#rethrow();
    const owed: Owed = { data };
    const shown = pathText(item.path);
    try {
      await this.#restore(item, parts, owed, shown);
    } catch (error) {
      if (error instanceof RefusedItemError) this.#hooks.warn({ path: shown, code: error.code, message: error.message });
      else if (!this.#lost(shown, error)) throw targetFull(shown, error);
    }
    if (owed.data) await this.#drain(owed.data);
  }

  /** Waits for the files being written, sets folder metadata (deepest first), then reports damage. */
  async finish(): Promise<void> {
    await Promise.all(this.#writing);
    this.#rethrow();
    const dirs = [...this.#dirs.values()].sort((a, b) => b.depth - a.depth);
    for (const { dest, item } of dirs) {
      const expected = this.#tree.folder(dest);
      if (!expected || !await applyToFolder(dest, expected, item, this.#meta)) {
        this.#hooks.warn({ path: pathText(item.path), code: 'EUNSAFE_PATH', message: 'skipped folder metadata: the path no longer names the folder restored there' });
      }
    }
    if (this.#damage) throw this.#damage.error;
  }

  /** Waits for the files being written after a failure (their temporary files are removed). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.#writing);
  }

  async #restore(item: Item, parts: Buffer[], owed: Owed, shown: string): Promise<void> {
    if (this.#busy.size > 0) await this.#waitFor(parts);
    const dest = await this.#tree.prepare(parts);
    const fresh = this.#tree.inFreshDir(dest);
    const kind = itemKind(item.mode);
    if (kind === 'dir') {
      await this.#tree.makeFolder(dest, fresh);
      this.#dirs.set(key(dest), { dest, item, depth: parts.length });
    } else if (kind === 'file') {
      await this.#file(item, dest, owed, shown, fresh);
    } else if (kind === 'symlink') {
      await this.#place(dest, shown, fresh, () => symlink(Buffer.from(item.target ?? new Uint8Array()), dest));
      await applyToSymlink(dest, item, this.#meta);
    } else if (kind === 'fifo' || kind === 'chardev' || kind === 'blockdev') {
      if (kind !== 'fifo' && process.getuid?.() !== 0) {
        this.#hooks.warn({ path: shown, code: 'EPERM', message: `skipped device ${shown}: only root can create device nodes` });
        return;
      }
      await this.#tree.clearFor(dest, shown, fresh);
      await makeSpecial(this.#tree, dest, item, (temp) => applyToSpecial(temp, item, this.#meta));
    }
  }

  async #file(item: Item, dest: Buffer, owed: Owed, shown: string, fresh: boolean): Promise<void> {
    const hl = item.hlid && Buffer.from(item.hlid).toString('hex');
    const first = hl ? this.#links.get(hl) : undefined;
    // A later file written at the first one's path renames over it in the background: wait for that
    // write, or the check below could pass and the link then name the new file (or fail, ENOENT).
    if (first) await this.#busy.get(key(first.dest));
    if (first && await isStill(first)) {
      // Every link carries the chunk list too; the contents come from the first one (and when the
      // item repeats the first one's path, that path already names the file).
      if (!first.dest.equals(dest)) await this.#place(dest, shown, fresh, () => link(first.dest, dest));
      this.files += 1;
      this.#hooks.progress?.(item);
      return;
    }
    if (!item.sparse && !(this.#meta.xattrs && item.xattrs) && (item.size ?? Infinity) <= SMALL_FILE) {
      const chunks = await this.#collect(owed);
      let written;
      try {
        written = await this.#place(dest, shown, fresh, async () => writeSmallFile(dest, item, chunks, this.#meta, hl !== undefined));
      } finally {
        // Each chunk was fetched for this file alone (chunk-fetch.ts): its memory goes back now, not at the next GC.
        for (const chunk of chunks) releaseBytes(chunk);
      }
      this.bytes += written.size;
      this.written += written.size;
      this.files += 1;
      this.#hooks.progress?.(item);
      if (hl) this.#links.set(hl, { dest, done: Promise.resolve(written.identity) });
      return;
    }
    // Refuse early when a folder is in the way; anything else there is replaced by the rename.
    if (await this.#tree.occupant(dest, fresh) === 'folder') await this.#tree.clearFor(dest, shown, false);
    const data = owed.data!;
    owed.data = undefined;
    const wrote = (n: number): void => { this.written += n; this.#hooks.progress?.(item); };
    const done = writeLargeFile(dest, item, data, (chunk) => this.#hooks.consumed(chunk), this.#meta, hl !== undefined, wrote).then((written) => {
      this.bytes += written.size;
      this.files += 1;
      this.#hooks.progress?.(item);
      return written.identity;
    }, (error: unknown) => {
      if (this.#lost(shown, error)) return undefined;
      throw targetFull(shown, error);
    });
    if (hl) this.#links.set(hl, { dest, done });
    await this.#track(dest, done);
  }

  /** Makes room for a non-folder (see `SafeTree.clearFor`) and creates it; an `EEXIST` (repeated item) clears again once. */
  async #place<T>(dest: Buffer, shown: string, fresh: boolean, make: () => Promise<T>): Promise<T> {
    await this.#tree.clearFor(dest, shown, fresh);
    try {
      return await make();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await this.#tree.clearFor(dest, shown, false);
      return make();
    }
  }

  /** Waits for files being written at the item's path or at one of its parents' paths. */
  async #waitFor(parts: Buffer[]): Promise<void> {
    let path = this.#tree.root;
    for (const part of parts) {
      path = Buffer.concat([path, Buffer.from('/'), part]);
      await this.#busy.get(key(path));
    }
  }

  async #track(dest: Buffer, task: Promise<unknown>): Promise<void> {
    const k = key(dest);
    const settled = task.then(() => undefined, (error: unknown) => { this.#failure ??= { error }; });
    this.#writing.add(settled);
    this.#busy.set(k, settled);
    void settled.then(() => {
      this.#writing.delete(settled);
      if (this.#busy.get(k) === settled) this.#busy.delete(k);
    });
    if (this.#writing.size >= FILES_IN_FLIGHT) await Promise.race(this.#writing);
  }

  /** All chunks of a file (every slot given back even when one fails; the first failure is thrown). */
  async #collect(owed: Owed): Promise<Uint8Array[]> {
    const data = owed.data!;
    owed.data = undefined;
    const out: Uint8Array[] = [];
    let failure: { error: unknown } | undefined;
    for (const p of data) {
      try {
        out.push(await p);
      } catch (error) {
        failure ??= { error };
      }
      this.#hooks.consumed(p);
    }
    if (failure) throw failure.error;
    return out;
  }

  async #drain(data: readonly Promise<Uint8Array>[]): Promise<void> {
    for (const p of data) {
      await p.catch(() => undefined);
      this.#hooks.consumed(p);
    }
  }

  /** A damaged or missing chunk: the file is not restored, a warning says so, the run goes on. */
  #lost(shown: string, error: unknown): boolean {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string' || !DAMAGE.has(code)) return false;
    this.#damage ??= { error };
    this.#hooks.warn({ path: shown, code, message: `not restored: ${String((error as Error).message).split('\n')[0]}` });
    return true;
  }

  #rethrow(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

/**
 * A full restore target (`ENOSPC`, `EDQUOT`) ends the run as `ETARGET_FULL`, naming the item that
 * did not fit: its temporary file is already removed, so what the run left is complete.
 */
function targetFull(shown: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  return new ArchiveError('ETARGET_FULL', `${shown}: not restored, the restore target is full (${code}): free space there (or restore elsewhere with --target), then run extract again into an empty folder; the files restored before it are complete`, { cause: error });
}

/** True when the first file of a hard-link group is still the regular file this run wrote there. */
async function isStill(first: { dest: Buffer; done: Promise<Identity | undefined> }): Promise<boolean> {
  const identity = await first.done.catch(() => undefined);
  if (!identity) return false;
  const st = await lstat(first.dest, { bigint: true }).catch(() => undefined);
  return st !== undefined && st.isFile() && st.dev === identity.dev && st.ino === identity.ino;
}
