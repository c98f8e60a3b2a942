/** `cairn create NAME PATH...`: back up files and folders into a new archive. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { errnoText, redactSecrets, UsageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { InvalidArgumentError } from 'commander';
import { collect, globalsOf, parseCompression, parseCount, parseMode, parseSize, repoUrl } from '../options.js';
import { parseTags } from '../archive-name.js';
import { collectSources, type SourceOptions } from '../sources.js';
import { expandPlaceholders } from '../placeholders.js';
import { createArchive, isoTime, pathText, type CreateStats, type ItemStatus } from '../../index.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface CreateCommandOptions extends RepoCommandOptions, Omit<SourceOptions, 'paths'> {
  name: string;
  paths: string[];
  exclude?: string[];
  /** Patterns compared regardless of case (restic's --iexclude). */
  iexclude?: string[];
  excludeIfPresent?: string[];
  excludeLargerThan?: number;
  /** `--tag` values, each a comma-separated list. */
  tag?: string[];
  excludeFrom?: string[];
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
  compression?: string;
  checkpointInterval?: number;
  comment?: string;
  filesCache?: boolean;
  stats?: boolean;
  /** Name and mode of the file that `-` (standard input) becomes in the archive. */
  stdinName?: string;
  stdinMode?: number;
  /** Recorded in the archive (the command line). */
  command?: string[];
  /** `--list`: a line per item with its status letter; `filter` keeps only these letters (and implies it). */
  list?: boolean;
  filter?: string;
  /** `-n/--dry-run`: walk and report, store nothing, take no lock. */
  dryRun?: boolean;
  /** Global `-v`: the count of the sources, and the items with status A, M or E (unless --list/--filter say otherwise). */
  verbose?: boolean;
}

/** What `create --json` prints. */
export interface CreateSummary {
  archive: { name: string; start: string; end: string };
  stats: CreateStats;
  warnings: number;
  /** Present (true) when nothing was stored: the stats say what would have been read. */
  dryRun?: true;
}

/** Backs up `paths`; the name's placeholders are expanded; an existing name fails before any write. */
export async function runCreate(options: CreateCommandOptions, io: CliIO): Promise<CreateSummary> {
  const exclude = [...(options.exclude ?? [])];
  for (const file of options.excludeFrom ?? []) {
    exclude.push(...(await readFile(resolve(io.cwd, file), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  const name = expandPlaceholders(options.name);
  const tags = (options.tag ?? []).flatMap(parseTags);
  const fromStdin = options.paths.includes('-');
  if (fromStdin && (options.filesFrom?.length || options.pathsFromStdin)) throw new UsageError('"-" (standard input) must be the only source: drop --files-from and --paths-from-stdin');
  if (fromStdin && options.paths.length > 1) throw new UsageError('"-" (standard input) must be the only source: back up files in another archive');
  if (fromStdin && io.stdinIsTTY) throw new UsageError('"-" reads standard input, but it is a terminal: pipe the data in, e.g. pg_dump mydb | cairn create db -');
  if (fromStdin && !io.stdin) throw new UsageError('"-" (standard input) is not available here');
  const stdin = fromStdin ? { name: options.stdinName ?? 'stdin', mode: options.stdinMode ?? 0o644, data: io.stdin!() } : undefined;
  const sources = fromStdin ? { paths: [], recursive: true } : await collectSources(options, io);
  const dryRun = options.dryRun === true;
  // A dry run takes no lock and opens read-only: the repository is left byte for byte as it was.
  const mode = dryRun ? { readOnly: true, lock: false, handlesInterrupt: true } : { compression: options.compression, handlesInterrupt: true };
  return withRepository(options, io, mode, async (opened, progress) => {
    const listing = itemLister(options, io);
    let current = '';
    let counted = false;
    const result = await createArchive(opened, {
      name, paths: sources.paths, recursive: sources.recursive, stdin, exclude, oneFileSystem: options.oneFileSystem, excludeCaches: options.excludeCaches,
      excludeCaseInsensitive: options.iexclude, excludeIfPresent: options.excludeIfPresent, excludeLargerThan: options.excludeLargerThan, tags,
      comment: options.comment, command: options.command, noFilesCache: options.filesCache === false,
      checkpointInterval: options.checkpointInterval, signal: io.interrupt?.signal,
      onWarning: (w) => io.warn(`${w.path}: ${errnoText(w.code) ?? w.message}`),
      dryRun, countSources: progress.shown || options.verbose === true, onItemStatus: listing,
      onProgress: (p) => {
        if (p.path.length > 0) current = pathText(p.path);
        if (p.total && !counted && options.verbose) io.err(`cairn: the sources hold ${p.total.files} files, ${formatBytes(p.total.bytes)}\n`);
        counted ||= p.total !== undefined;
        progress.update({ unit: 'files', count: p.files, totalCount: p.total?.files, bytes: p.processed, totalBytes: p.total?.bytes, current });
      },
    });
    const summary: CreateSummary = {
      archive: { name: result.archive.name, start: isoTime(result.archive.start), end: isoTime(result.archive.end) },
      stats: result.stats,
      warnings: result.warnings.length,
      ...(dryRun ? { dryRun: true as const } : {}),
    };
    progress.stop();
    if (dryRun) {
      const s = result.stats;
      emit(io, options, summary, () => `dry run: would back up ${s.files} files, ${formatBytes(s.original)} (${s.filesRead} to read, ${s.filesUnchanged} unchanged in the files cache); nothing was stored`);
      return summary;
    }
    emit(io, options, summary, () => (options.stats === false ? '' : [
      `archive ${name}: ${result.stats.files} files (${result.stats.filesRead} read), ${(result.stats.durationMs / 1000).toFixed(1)} s`,
      `  files ${formatBytes(result.stats.original)}; new data ${formatBytes(result.stats.deduplicated)} (after deduplication, metadata included), stored as ${formatBytes(result.stats.compressed)} (compressed and encrypted)`,
    ].join('\n')));
    return summary;
  });
}

export function registerCreate(program: Command, io: CliIO): void {
  program.command('create')
    .description('back up PATHs into a new archive NAME ({hostname}, {now}, {user} are expanded); "-" backs up standard input as one file; Ctrl-C keeps what was stored as NAME.checkpoint (exit 130); a cache folder that is full is a warning (exit 1), the archive is stored')
    .argument('<name>', 'archive name, e.g. "{hostname}-{now}"')
    .argument('[paths...]', 'files and folders to back up, or "-" alone for standard input (pg_dump db | cairn create db -); when none can be read, no archive is written (exit 2)')
    .option('-e, --exclude <pattern>', 'exclude paths matching the pattern (fm:, sh:, re:, pp: styles; repeatable)', collect)
    .option('--exclude-from <file>', 'read exclude patterns from a file, one per line (repeatable)', collect)
    .option('-x, --one-file-system', 'stay on the file system of each PATH (do not cross mount points)')
    .option('--exclude-caches', 'skip folders holding a CACHEDIR.TAG file (the tag itself is kept)')
    .option('-C, --compression <spec>', 'none, lz4, zstd[,LEVEL], zlib[,LEVEL] or auto[,SPEC]', parseCompression, 'lz4')
    .option('-c, --checkpoint-interval <seconds>', 'write a checkpoint this often, so an interruption loses little', parseCount(0), 1800)
    .option('--comment <text>', 'a comment stored with the archive')
    .option('--no-files-cache', 'read every file, even those the files cache knows as unchanged')
    .option('--no-stats', 'do not print the totals at the end')
    .option('--stdin-name <name>', 'with "-": the file name standard input gets in the archive', 'stdin')
    .option('--stdin-mode <octal>', 'with "-": its mode (default: 0644; owner: you; time: now)', parseMode)
    // Tags and the source filters (issue 11).
    .option('--tag <tag[,tag...]>', 'tag the archive (repeatable; a,b gives two tags); rlist/prune/check/delete --tag select by them', collect)
    .option('--iexclude <pattern>', 'as --exclude, but letters match regardless of case (repeatable)', collect)
    .option('--exclude-if-present <name>', 'leave out every folder holding an entry of this name, e.g. .nobackup (repeatable)', collect)
    .option('--exclude-larger-than <size>', 'leave out files larger than SIZE (bytes, or 500k, 10M, 2GiB, 100MB)', parseSize)
    .option('--files-from <file>', 'back up the paths listed in FILE, one per line (# comments, blank lines skipped; folders are walked; repeatable)', collect)
    .option('--paths-from-stdin', 'back up exactly the paths read from standard input (folders without their contents: list everything, as find does)')
    .option('--paths-delimiter <delim>', 'with --paths-from-stdin: the separator (default: newline; "\\0" for find -print0)')
    // Listing and dry run (issue 11): --list, --filter, -n/--dry-run; -v is global (program.ts).
    .option('--list', 'print a line per item with its status: A added, M modified, U unchanged, E error, x excluded, d folder, s symlink, h hard link, f FIFO, c/b device, i standard input (on standard error with --json)')
    .option('--filter <letters>', 'with --list (implied): only items with these status letters, e.g. AME', parseStatusFilter)
    .option('-n, --dry-run', 'walk and print what would be stored (with --list: each item), read and store nothing, take no lock, leave the files cache as it is')
    .action(async (name: string, paths: string[], opts: Omit<CreateCommandOptions, 'repo' | 'name' | 'paths'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCreate({ ...opts, name, paths, command: ['cairn', ...process.argv.slice(2).map(redactSecrets)], repo: repoUrl(g, io), json: g.json, progress: g.progress, verbose: g.verbose }, io);
    });
}

const STATUS_LETTERS = 'AMUhidsfcbEx';

/** `--filter`: status letters, each one of STATUS_LETTERS. */
function parseStatusFilter(text: string): string {
  if (text === '' || [...text].some((c) => !STATUS_LETTERS.includes(c))) throw new InvalidArgumentError(`use status letters from ${STATUS_LETTERS}, e.g. AME`);
  return text;
}

/** The `--list` printer (`A path`), or undefined when nothing is listed; -v alone lists A, M and E. */
function itemLister(options: CreateCommandOptions, io: CliIO): ((status: ItemStatus, path: string) => void) | undefined {
  const letters = options.filter ?? (options.list ? undefined : options.verbose ? 'AME' : '');
  if (letters === '') return undefined;
  const print = options.json ? (t: string) => io.err(t) : (t: string) => io.out(t);
  return (status, path) => { if (letters === undefined || letters.includes(status)) print(`${status} ${path}\n`); };
}
