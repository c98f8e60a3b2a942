/** `cairn rename NAME NEWNAME`: give an archive another name (crash-safe: it never has none). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { renameArchive } from '../../index.js';
import { expandPlaceholders } from '../placeholders.js';
import { resolveArchiveName } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface RenameOptions extends RepoCommandOptions {
  name: string;
  newName: string;
}

/** Renames; `latest` and placeholders are expanded in NAME, placeholders in NEWNAME. */
export async function runRename(options: RenameOptions, io: CliIO): Promise<{ from: string; to: string }> {
  const to = expandPlaceholders(options.newName);
  return withRepository(options, io, {}, async (opened) => {
    const from = await resolveArchiveName(opened, options.name);
    await renameArchive(opened, from, to);
    const result = { from, to };
    emit(io, options, result, () => `renamed ${from} to ${to}`);
    return result;
  });
}

export function registerRename(program: Command, io: CliIO): void {
  program.command('rename').description('rename archive NAME to NEWNAME (refused when NEWNAME exists or the repository is append-only; an interrupted rename leaves both names, and running it again finishes it)')
    .argument('<name>', 'archive name, "latest" or with placeholders')
    .argument('<newname>', 'the new name (placeholders are expanded)')
    .action(async (name: string, newName: string, _opts: object, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRename({ name, newName, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
