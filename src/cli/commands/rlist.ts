/** `cairn rlist`: the archives of the repository, oldest first. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { formatTemplate } from '../format.js';
import { globalsOf, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface RlistOptions extends RepoCommandOptions {
  /** Borg-style glob on archive names (`sh:` style). */
  globArchives?: string;
  format?: string;
  short?: boolean;
}

interface Listed { name: string; time: string; host: string; user: string; checkpoint: boolean }

/** Lists archives (one line each, `--format` template, or JSON). */
export async function runRlist(options: RlistOptions, io: CliIO): Promise<void> {
  const template = options.short ? '{name}{NL}' : options.format ?? '{name:<36} {time} {host}{NL}';
  await runOperation<RlistOptions, { archives: Listed[] }>('rlist', options, io, (r) => r.archives.map((a) =>
    formatTemplate(template.replace('{name:<36}', a.name.padEnd(36)), { ...a })).join(''));
}

export function registerRlist(program: Command, io: CliIO): void {
  program.command('rlist').description('list the archives in the repository')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob (e.g. "{hostname}-*")')
    .option('--short', 'only the names')
    .option('--format <template>', 'one line per archive from {name} {time} {host} {user} {checkpoint} {NL} {TAB}')
    .action(async (opts: Omit<RlistOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRlist({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
