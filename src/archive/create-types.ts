/** The options, progress, statistics and result of `createArchive` (create.ts). */
import type { ArchiveRecord, ArchiveStats } from './archive-record.js';
import type { SourceTotals } from './source-count.js';
import type { Warning } from './walk.js';

export interface CreateOptions {
  /** Archive name; an existing name → `ArchiveExistsError` before anything is written. */
  name: string;
  /** Files and folders to back up, in this order (may be empty when `stdin` is given). */
  paths: readonly string[];
  /** A stream stored as one regular file before `paths` (`cairn create NAME -`). */
  stdin?: StreamSource;
  /** Borg-style patterns (see patterns.ts); a match excludes the path and everything below. */
  exclude?: readonly string[];
  /** Patterns as `exclude`, compared regardless of case (restic's `--iexclude`). */
  excludeCaseInsensitive?: readonly string[];
  /** Leave out folders holding an entry of one of these names (e.g. `.nobackup`), the folder included. */
  excludeIfPresent?: readonly string[];
  /** Leave out regular files larger than this many bytes. */
  excludeLargerThan?: number;
  /** False: store each of `paths` alone, folders without their contents (the caller lists everything). Default true. */
  recursive?: boolean;
  /** Tags stored in the record (`create --tag`), kept in this order without duplicates. */
  tags?: readonly string[];
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
  comment?: string;
  /** Recorded as is (e.g. process.argv); never contains the passphrase if the caller is careful. */
  command?: readonly string[];
  host?: string;
  user?: string;
  /** Folder of the files cache; default `repositoryCacheDir(repository id)`. */
  cacheDir?: string;
  /** Read every file even if the files cache says it is unchanged. */
  noFilesCache?: boolean;
  /** Seconds between checkpoints (default 1800); 0 disables time-based checkpoints. */
  checkpointInterval?: number;
  /** New bytes between checkpoints (default: none). */
  checkpointBytes?: number;
  /** Store access times too (off by default: reading files changes them, so items would always differ). */
  atime?: boolean;
  /** Store extended attributes (default true; see xattrs.ts for platforms and file systems without them). */
  xattrs?: boolean;
  /** Large files (>= 128 KiB) read at the same time (default: one per core, at most 4); up to 64 files are read at once in all. */
  concurrency?: number;
  /**
   * Stops the backup when aborted (reason: a signal name such as `SIGINT`): reading stops, the
   * items finished so far and the data stored are committed as the checkpoint archive
   * `<name>.checkpoint` (when anything was stored), and `InterruptedError` is thrown.
   */
  signal?: AbortSignal;
  /**
   * Walk and decide what would be stored (with the files cache and the chunks the repository has),
   * but read no file contents and write nothing: no chunk, item stream, record, commit, checkpoint
   * or files-cache update. The stats then count what would be read (`filesRead`, `original`).
   */
  dryRun?: boolean;
  /** Count the sources in a second, stat-only walk beside the backup: `CreateProgress.total` (stopped with the backup). */
  countSources?: boolean;
  onWarning?(warning: Warning): void;
  /** Called after each item and while a file is read (every piece read), so a large file shows its bytes. */
  onProgress?(progress: CreateProgress): void;
  /** Called for each path in walk order with its status (Borg's `--list` letters), excluded and failed ones too. */
  onItemStatus?(status: ItemStatus, path: string): void;
}

/**
 * A path's fate, as Borg's `create --list`: regular files `A` added (not in the files cache),
 * `M` modified (in the files cache, changed), `U` unchanged (not read), `h` another hard link
 * to a file already stored in this run, `i` standard input; `d` folder, `s` symlink, `f` FIFO,
 * `c`/`b` character/block device; `E` could not be read; `x` excluded.
 */
export type ItemStatus = 'A' | 'M' | 'U' | 'h' | 'i' | 'd' | 's' | 'f' | 'c' | 'b' | 'E' | 'x';

/**
 * A stream backed up as a regular file named `name` (e.g. `pg_dump | cairn create db -`): mode
 * `mode` (default 0o644), owned by the user running the backup, modified "now" (the archive start).
 */
export interface StreamSource {
  name: string;
  mode?: number;
  /** Fresh buffers; read as they are chunked, so memory stays bounded. */
  data: AsyncIterable<Uint8Array>;
}

/** Reported after each item and while files are read. */
export interface CreateProgress {
  /** Items that are regular files, finished (in walk order), and their bytes. */
  files: number;
  original: number;
  deduplicated: number;
  /** The item just finished or the file being read. */
  path: Uint8Array;
  /** Bytes of file contents read, found unchanged or linked so far, files still being read included. */
  processed: number;
  /** What the count of the sources found (`countSources`), once it finished. */
  total?: SourceTotals;
}

/** Stats of a run, beyond what the record keeps. */
export interface CreateStats extends ArchiveStats {
  /** Regular files whose contents were read (not served by the files cache or a hard link). */
  filesRead: number;
  /** Regular files found unchanged in the files cache. */
  filesUnchanged: number;
  items: number;
  durationMs: number;
}

export interface CreateResult {
  archive: ArchiveRecord;
  stats: CreateStats;
  /** Skipped or vanished paths; non-empty means "exit code 1" for a CLI. */
  warnings: Warning[];
}

/** An entry of the walk once handled: the item to store (none when excluded or failed) and its status. */
