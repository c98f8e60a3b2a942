/** `cairn list NAME [PATTERN...]`: the items of an archive. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { collect, globalsOf, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface ListOptions extends RepoCommandOptions {
  name: string;
  patterns: string[];
  format?: string;
  jsonLines?: boolean;
  exclude?: string[];
}

/** The default line: mode, owner, size, mtime and path, as `ls -l` and Borg show it. */
export const DEFAULT_LIST_FORMAT = '{mode} {user:6} {group:6} {size:>10} {mtime} {path}{extra}{NL}';

/** Lists the items of an archive (all or those matching the patterns), streaming. */
export async function runList(options: ListOptions, io: CliIO): Promise<void> {
  await runOperation<ListOptions, { items: number }>('list', { ...options, format: options.format ?? DEFAULT_LIST_FORMAT }, io, () => '');
}

export function registerList(program: Command, io: CliIO): void {
  program.command('list')
    .description('list the contents of archive NAME')
    .argument('<name>', 'archive name')
    .argument('[patterns...]', 'only paths matching these patterns (and what is below them)')
    .option('-e, --exclude <pattern>', 'leave out paths matching the pattern (repeatable)', collect)
    .option('--format <template>', `one line per item from {mode} {user} {group} {uid} {gid} {size} {mtime} {path} {target} {type} {NL} (default "${DEFAULT_LIST_FORMAT.replace('{NL}', '\\n')}")`)
    .option('--json-lines', 'one JSON object per item')
    .action(async (name: string, patterns: string[], opts: Omit<ListOptions, 'repo' | 'name' | 'patterns'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runList({ ...opts, name, patterns, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
