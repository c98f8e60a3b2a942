/** `cairn delete NAME...` or `cairn delete -a GLOB`: remove archives (space is freed by compact). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, repoUrl } from '../options.js';
import { deleteArchives } from '../../index.js';
import { expandPlaceholders } from '../placeholders.js';
import { resolveArchiveNames } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface DeleteOptions extends RepoCommandOptions {
  names: string[];
  globArchives?: string;
  dryRun?: boolean;
  list?: boolean;
}

/** Deletes the named archives, or those matching the glob; a missing name fails before anything is deleted. */
export async function runDelete(options: DeleteOptions, io: CliIO): Promise<string[]> {
  if (options.names.length === 0 && !options.globArchives) throw new UsageError('name the archives to delete, or select them with -a GLOB');
  if (options.names.length > 0 && options.globArchives) throw new UsageError('give archive names or -a GLOB, not both');
  const glob = options.globArchives === undefined ? undefined : expandPlaceholders(options.globArchives);
  return withRepository(options, io, { exclusive: !options.dryRun, readOnly: options.dryRun }, async (opened) => {
    const names = await resolveArchiveNames(opened, options.names);
    const deleted = await deleteArchives(opened, { names, glob, dryRun: options.dryRun });
    emit(io, options, { deleted, dryRun: options.dryRun === true },
      () => (options.list || options.dryRun ? deleted.map((n) => `${options.dryRun ? 'would delete' : 'deleted'} ${n}`).join('\n') : ''));
    return deleted;
  });
}

export function registerDelete(program: Command, io: CliIO): void {
  program.command('delete').description('delete archives (run compact afterwards to free the space)')
    .argument('[names...]', 'archive names ("latest" and placeholders are expanded)')
    .option('-a, --glob-archives <glob>', 'delete every archive whose name matches the glob')
    .option('-n, --dry-run', 'only show what would be deleted')
    .option('--list', 'print each deleted archive')
    .action(async (names: string[], opts: Omit<DeleteOptions, 'repo' | 'names'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runDelete({ ...opts, names, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
