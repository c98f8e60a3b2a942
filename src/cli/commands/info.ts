/** `cairn info [NAME]`: details and statistics of one archive, or of every archive. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface InfoOptions extends RepoCommandOptions {
  name?: string;
  globArchives?: string;
}

/** Prints name, times, host, user, command line and the stats recorded by create. */
export async function runInfo(options: InfoOptions, io: CliIO): Promise<void> {
  await runOperation<InfoOptions, { archives: Array<Record<string, unknown>> }>('info', options, io,
    (r) => r.archives.map((a) => Object.entries(a).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n')).join('\n\n'));
}

export function registerInfo(program: Command, io: CliIO): void {
  program.command('info').description('show details of archive NAME (or of all archives)')
    .argument('[name]', 'archive name (default: every archive)')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob')
    .action(async (name: string | undefined, opts: Omit<InfoOptions, 'repo' | 'name'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runInfo({ ...opts, name, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
