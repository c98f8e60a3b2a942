/** `cairn rdelete`: delete the whole repository (every archive, the key, the config). */
import type { Command } from 'commander';
import { Repository } from '../../index.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, repoUrl } from '../options.js';
import { emit, openCliStore, type RepoCommandOptions } from './context.js';

export interface RdeleteOptions extends RepoCommandOptions {
  yes?: boolean;
  dryRun?: boolean;
}

/** Deletes the repository; without `--yes` it refuses, so a script cannot destroy data by accident. */
export async function runRdelete(options: RdeleteOptions, io: CliIO): Promise<{ objects: number; deleted: boolean }> {
  if (!options.yes && !options.dryRun) throw new UsageError('rdelete removes every archive and the key: add --yes to confirm (or --dry-run to see what it would delete)');
  const backend = await openCliStore(options.repo, io);
  try {
    // Opening with the exclusive lock proves it is a repository and that no one is using it.
    const repository = await Repository.open(backend, { exclusive: true });
    await repository.close();
    let objects = 0;
    for await (const _ of backend.list('')) objects++;
    if (!options.dryRun) await backend.destroy();
    const result = { objects, deleted: !options.dryRun };
    emit(io, options, result, () => `${options.dryRun ? 'would delete' : 'deleted'} the repository (${objects} objects)`);
    return result;
  } finally {
    await backend.close();
  }
}

export function registerRdelete(program: Command, io: CliIO): void {
  program.command('rdelete').description('delete the repository and everything in it')
    .option('--yes', 'confirm the deletion (required)')
    .option('-n, --dry-run', 'only show what would be deleted')
    .action(async (opts: Omit<RdeleteOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRdelete({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
