/** `cairn rinfo`: the repository's id, key mode, size, archive count and deduplicated totals. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

/** Prints facts about the repository; read-only. */
export async function runRinfo(options: RepoCommandOptions, io: CliIO): Promise<void> {
  await runOperation<RepoCommandOptions, Record<string, unknown>>('rinfo', options, io, (r) => Object.entries(r).map(([k, v]) => `${k}: ${String(v)}`).join('\n'));
}

export function registerRinfo(program: Command, io: CliIO): void {
  program.command('rinfo').description('show repository information (id, encryption, size, archives)')
    .action(async (_opts: object, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRinfo({ repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
