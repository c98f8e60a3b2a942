/** `cairn extract NAME [PATTERN...]`: restore an archive (or part of it) into the current folder. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { formatBytes } from '../format.js';
import { collect, globalsOf, parseCount, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface ExtractOptions extends RepoCommandOptions {
  name: string;
  patterns: string[];
  exclude?: string[];
  dryRun?: boolean;
  stripComponents?: number;
  numericIds?: boolean;
  /** Folder to restore into (default: the current folder). */
  target: string;
}

/** Restores; every chunk is authenticated while reading; nothing is written outside `target`. */
export async function runExtract(options: ExtractOptions, io: CliIO): Promise<void> {
  await runOperation<ExtractOptions, { files: number; bytes: number }>('extract', options, io,
    (r) => (options.dryRun ? `would extract ${r.files} files, ${formatBytes(r.bytes)}` : ''));
}

export function registerExtract(program: Command, io: CliIO): void {
  program.command('extract')
    .description('restore archive NAME (or the paths matching PATTERNs) into the current folder')
    .argument('<name>', 'archive name')
    .argument('[patterns...]', 'only paths matching these patterns (and what is below them)')
    .option('-e, --exclude <pattern>', 'leave out paths matching the pattern (repeatable)', collect)
    .option('-n, --dry-run', 'read and verify everything, write nothing')
    .option('--strip-components <n>', 'remove the first N path elements; items with fewer are skipped', parseCount(0))
    .option('--numeric-ids', 'restore owners by uid/gid, ignoring user and group names')
    .option('--target <folder>', 'restore into this folder instead of the current one')
    .action(async (name: string, patterns: string[], opts: Omit<ExtractOptions, 'repo' | 'name' | 'patterns' | 'target'> & { target?: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      await runExtract({ ...opts, name, patterns, target: opts.target ?? io.cwd, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
