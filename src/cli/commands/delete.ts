/** `cairn delete NAME...` or `cairn delete -a GLOB`: remove archives (space is freed by compact). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, repoUrl } from '../options.js';
import { deleteArchives, hasSelection } from '../../index.js';
import { addSelectionOptions, resolveArchiveNames, selectArchivesFor, selectionOf, type SelectionFlags } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface DeleteOptions extends RepoCommandOptions, SelectionFlags {
  names: string[];
  dryRun?: boolean;
  list?: boolean;
}

/** Deletes the named archives, or those the filters select; a missing name fails before anything is deleted. */
export async function runDelete(options: DeleteOptions, io: CliIO): Promise<string[]> {
  const selecting = hasSelection(selectionOf(options, io));
  if (options.names.length === 0 && !selecting) throw new UsageError('name the archives to delete, or select them with -a GLOB, --host, --path, --tag, --first or --last');
  if (options.names.length > 0 && selecting) throw new UsageError('give archive names or filters (-a, --host, --path, --tag, --first, --last), not both');
  return withRepository(options, io, { exclusive: !options.dryRun, readOnly: options.dryRun }, async (opened) => {
    const names = selecting ? (await selectArchivesFor(opened, options, io)).map((a) => a.name) : await resolveArchiveNames(opened, options.names);
    const postponed: { name: string; until: string | null }[] = [];
    const deleted = await deleteArchives(opened, { names, dryRun: options.dryRun, onPostponed: (name, until) => postponed.push({ name, until: until?.toISOString() ?? null }) });
    emit(io, options, { deleted, dryRun: options.dryRun === true, ...(postponed.length ? { postponed } : {}) }, () => [
      ...(options.list || options.dryRun ? deleted.map((n) => `${options.dryRun ? 'would delete' : 'deleted'} ${n}`) : []),
      ...postponed.map((p) => postponedLine(p.name, p.until)),
    ].join('\n'));
    return deleted;
  });
}

/** The line for an archive whose record the store still retains. */
export function postponedLine(name: string, until: string | null): string {
  return `postponed deleting archive ${name}: the store keeps it under retention${until ? ` until ${until}` : ''}; delete it again after that`;
}

export function registerDelete(program: Command, io: CliIO): void {
  const command = program.command('delete').description('delete archives by name or by filters (run compact afterwards to free the space)')
    .argument('[names...]', 'archive names ("latest" and placeholders are expanded)')
    .option('-a, --glob-archives <glob>', 'delete every archive whose name matches the glob');
  addSelectionOptions(command, 'delete')
    .option('-n, --dry-run', 'only show what would be deleted')
    .option('--list', 'print each deleted archive')
    .action(async (names: string[], opts: Omit<DeleteOptions, 'repo' | 'names'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runDelete({ ...opts, names, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
