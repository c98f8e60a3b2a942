/**
 * How the CLI chooses archives. One NAME argument: placeholders are expanded
 * (`{hostname}-{now:%Y-%m-%d}`), and `latest` names the newest archive (by start time, checkpoints
 * left out) unless an archive is literally called "latest". Several archives: `-a GLOB`, `--host`,
 * `--path`, `--tag`, `--first N`, `--last N` (`addSelectionOptions`, `selectionOf`), the same on
 * every command that takes them (rlist, prune, check, delete, info, find).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { listArchives, ArchiveNotFoundError, listSelectedArchives, type ArchiveRecord, type ArchiveSelection, type OpenedRepository } from '../index.js';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';
import { collect, parseCount } from './options.js';
import { expandPlaceholders } from './placeholders.js';
import { warnUnreadable } from './commands/context.js';

/** The word that names the newest archive, as in restic. */
export const LATEST = 'latest';

/** Resolves one NAME argument to the name of an existing archive (or the expanded text). */
export async function resolveArchiveName(opened: OpenedRepository, raw: string): Promise<string> {
  const name = expandPlaceholders(raw);
  if (name !== LATEST) return name;
  const archives = await listArchives(opened);
  if (archives.some((a) => a.name === LATEST)) return LATEST;
  const newest = archives.filter((a) => !a.checkpoint).at(-1);
  if (!newest) throw new ArchiveNotFoundError(LATEST);
  return newest.name;
}

/** Resolves several NAME arguments, reading the archive list at most once. */
export async function resolveArchiveNames(opened: OpenedRepository, raws: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const raw of raws) out.push(await resolveArchiveName(opened, raw));
  return out;
}

/** The selection options as commander parses them (`addSelectionOptions`, plus each command's own `-a`). */
export interface SelectionFlags {
  globArchives?: string;
  host?: string[];
  path?: string[];
  tag?: string[];
  first?: number;
  last?: number;
}

/**
 * Adds `--host`, `--path`, `--tag`, `--first`, `--last` to a command (its `-a, --glob-archives`
 * stays its own, with its own wording). `verb` completes "only … archives", e.g. "consider".
 */
export function addSelectionOptions(command: Command, verb = 'list'): Command {
  return command
    .option('--host <host>', `only ${verb} archives made on this host (repeatable: any of them; placeholders expanded)`, collect)
    .option('--path <path>', `only ${verb} archives whose sources include this path (relative to the current folder; repeatable: all of them)`, collect)
    .option('--tag <tag[,tag...]>', `only ${verb} archives with these tags (a,b: both; repeatable: any of the lists)`, collect)
    .option('--first <n>', 'of the archives selected, the N oldest (checkpoints left out)', parseCount(1))
    .option('--last <n>', 'of the archives selected, the N newest (checkpoints left out)', parseCount(1));
}

/** Tags of one `--tag` value: comma-separated, each non-empty, without control characters. */
export function parseTags(value: string): string[] {
  const tags = value.split(',');
  if (tags.some((t) => t === '' || [...t].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))) {
    throw new UsageError(`invalid tag list "${value}": give tags separated by commas, e.g. --tag daily,db (no empty tag, no control character)`);
  }
  return tags;
}

/**
 * The selection of the command line: placeholders expanded in the glob and hosts, paths made
 * absolute against the current folder (as create records them), tags split. Usage errors: `--first`
 * with `--last`.
 */
export function selectionOf(flags: SelectionFlags, io: CliIO): ArchiveSelection {
  if (flags.first !== undefined && flags.last !== undefined) throw new UsageError('give --first or --last, not both');
  return {
    glob: flags.globArchives === undefined ? undefined : expandPlaceholders(flags.globArchives),
    hosts: flags.host?.map((h) => expandPlaceholders(h)),
    paths: flags.path?.map((p) => (p.startsWith('stdin:') ? p : resolve(io.cwd, p))),
    tags: flags.tag?.map(parseTags),
    first: flags.first,
    last: flags.last,
  };
}

/** The archives the command line selects, oldest first; unreadable records are skipped with a warning (exit 1). */
export async function selectArchivesFor(opened: OpenedRepository, flags: SelectionFlags, io: CliIO): Promise<ArchiveRecord[]> {
  return listSelectedArchives(opened, selectionOf(flags, io), { onUnreadable: warnUnreadable(io) });
}
