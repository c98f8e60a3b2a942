/**
 * The file system walker of `create`: depth-first, parents before children, names in byte
 * order (so two runs over the same tree yield the same item order), with exclusions applied
 * before descending. Files that vanish or cannot be read become warnings, never a crash.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { PathMatcher } from './patterns.js';
import { pathText } from './item.js';

/** Something skipped or partly read; `create` still succeeds but reports it (exit code 1). */
export interface Warning {
  path: string;
  code: string;
  message: string;
}

/** One object found by the walk. */
export interface WalkEntry {
  /** Path on this machine (bytes, as the kernel names it). */
  fsPath: Buffer;
  /** Path in the archive: relative, "/"-separated. */
  archivePath: Uint8Array;
  stat: BigIntStats;
}

export interface WalkOptions {
  /** Excluded paths (and everything below them) are neither stored nor descended into. */
  exclude?: PathMatcher;
  /** Do not cross into other file systems: mount points below a root are skipped entirely. */
  oneFileSystem?: boolean;
  /** Skip the contents of folders holding a valid CACHEDIR.TAG (https://bford.info/cachedir/), keeping the folder and the tag (as tar does). */
  excludeCaches?: boolean;
  onWarning(warning: Warning): void;
  /** Called for each root that exists (before its entries), so a caller knows whether any source was read. */
  onRoot?(root: string): void;
  /** Leave out a folder (itself and everything below) that holds an entry of one of these names (Borg's and restic's `--exclude-if-present`). */
  excludeIfPresent?: readonly string[];
  /** Leave out regular files larger than this many bytes (restic's `--exclude-larger-than`). */
  excludeLargerThan?: number;
  /**
   * False: each root is stored alone, folders without their contents (Borg's `--paths-from-stdin`:
   * the list names everything). Default true: folders are walked.
   */
  recursive?: boolean;
  /** Called for each path left out by `exclude` (nothing below it is visited). */
  onExcluded?(path: string, stat: BigIntStats): void;
}

const CACHEDIR_SIGNATURE = Buffer.from('Signature: 8a477f597d28d172789f06886806bc55');
const CACHEDIR_TAG = Buffer.from('CACHEDIR.TAG');
const SLASH = Buffer.from('/');

/**
 * The lstat of a child, synchronously: on this thread it costs about a tenth of the CPU of an
 * asynchronous lstat (a thread-pool round trip, a promise and BigInt stats built on the way back),
 * and the walk runs on the main thread, the bottleneck of a many-small-files backup
 * (docs/performance.md). A folder's listing stays asynchronous.
 */
function statChild(path: Buffer): BigIntStats | { error: unknown } {
  try {
    return lstatSync(path, { bigint: true });
  } catch (error) {
    return { error };
  }
}

/**
 * The archive path of a root argument: normalized, without leading "/" or "../" parts
 * (like tar), `''` for the current folder (its children then start at the top level).
 */
export function archiveRootPath(root: string): string {
  let p = posix.normalize(root);
  p = p.replace(/^\/+/, '');
  while (p === '..' || p.startsWith('../')) p = p.slice(3);
  p = p.replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EIO';
}

async function isCacheDir(dir: Buffer): Promise<boolean> {
  let handle;
  try {
    handle = await open(Buffer.concat([dir, SLASH, CACHEDIR_TAG]), 'r');
    const buf = Buffer.alloc(CACHEDIR_SIGNATURE.length);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return bytesRead === buf.length && buf.equals(CACHEDIR_SIGNATURE);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** True when `dir` holds an entry named one of `names` (of any type; a dangling symlink counts). */
async function hasTag(dir: Buffer, names: readonly string[]): Promise<boolean> {
  for (const name of names) {
    try {
      await lstat(Buffer.concat([dir, SLASH, Buffer.from(name)]));
      return true;
    } catch { /* absent or unreadable: not tagged */ }
  }
  return false;
}

/**
 * True when `root` (archive path `path`, file system path `abs`) is a root walked before or lies
 * inside one: the same archive path under an earlier root's archive path, and the same file on disk.
 * A different file that only shares the archive path (`../a` and `a` are both `a`) is walked.
 */
function walkedAlready(path: string, abs: string, seen: ReadonlyMap<string, string>, recursive: boolean): boolean {
  if (seen.get(path) === abs) return true;
  if (!recursive) return false;
  const top = seen.get('');
  if (top !== undefined && join(top, path) === abs) return true;
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const walked = seen.get(path.slice(0, i));
    if (walked !== undefined && join(walked, path.slice(i + 1)) === abs) return true;
  }
  return false;
}

/**
 * Walks every root in order; roots that do not exist are warnings. Sockets are skipped. A root
 * given twice, or inside (or around) a root already walked, is not stored twice: what an earlier
 * root stored is left out of a later one.
 */
export async function* walk(roots: readonly string[], options: WalkOptions): AsyncGenerator<WalkEntry> {
  /** Archive path of each root walked → its absolute path on disk. */
  const seen = new Map<string, string>();
  for (const root of roots) {
    const archiveRoot = archiveRootPath(root);
    const abs = resolve(root);
    if (walkedAlready(archiveRoot, abs, seen, options.recursive !== false)) {
      options.onRoot?.(root);
      continue;
    }
    const fsRoot = Buffer.from(root);
    let stat: BigIntStats;
    try {
      stat = await lstat(fsRoot, { bigint: true });
    } catch (error) {
      options.onWarning({ path: root, code: errorCode(error), message: `cannot read ${root}: ${errorCode(error)}` });
      continue;
    }
    options.onRoot?.(root);
    yield* visit(fsRoot, Buffer.from(archiveRoot), stat, stat.dev, options, seen, true);
    seen.set(archiveRoot, abs);
  }
}

async function* visit(
  fsPath: Buffer, archivePath: Buffer, stat: BigIntStats, rootDev: bigint, options: WalkOptions, seen: ReadonlyMap<string, string>, isRoot = false,
): AsyncGenerator<WalkEntry> {
  const shown = pathText(archivePath);
  if (archivePath.length > 0 && options.exclude?.(shown)) { options.onExcluded?.(shown, stat); return; }
  // An earlier root stored this folder or file (and what is below it) already.
  const walked = isRoot ? undefined : seen.get(shown);
  if (walked !== undefined && walked === resolve(fsPath.toString())) return;
  if (stat.isSocket()) return;
  if (stat.isDirectory() && options.oneFileSystem && stat.dev !== rootDev) return;
  if (options.excludeLargerThan !== undefined && stat.isFile() && stat.size > BigInt(options.excludeLargerThan)) { options.onExcluded?.(shown, stat); return; }
  if (stat.isDirectory() && options.excludeIfPresent?.length && await hasTag(fsPath, options.excludeIfPresent)) { options.onExcluded?.(shown, stat); return; }
  if (archivePath.length > 0) yield { fsPath, archivePath, stat };
  if (!stat.isDirectory() || (isRoot && options.recursive === false)) return;
  let names: Buffer[];
  try {
    names = options.excludeCaches && await isCacheDir(fsPath) ? [CACHEDIR_TAG] : readdirSync(fsPath, { encoding: 'buffer' });
  } catch (error) {
    options.onWarning({ path: shown || '.', code: errorCode(error), message: `cannot list ${shown || '.'}: ${errorCode(error)}` });
    return;
  }
  names.sort(Buffer.compare);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const childFs = Buffer.concat([fsPath, SLASH, name]);
    const childArchive = archivePath.length > 0 ? Buffer.concat([archivePath, SLASH, name]) : name;
    const childStat = statChild(childFs);
    if ('error' in childStat) {
      const p = pathText(childArchive);
      const code = errorCode(childStat.error);
      options.onWarning({ path: p, code, message: `cannot read ${p}: ${code} (vanished?)` });
      continue;
    }
    yield* visit(childFs, childArchive, childStat, rootDev, options, seen);
  }
}
