/** `cairn extract NAME [PATTERN...]`: restore an archive (or part of it) into the current folder. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { formatBytes } from '../format.js';
import { UsageError } from '../errors.js';
import { collect, globalsOf, parseCount, repoUrl } from '../options.js';
import { extractArchive, pathText } from '../../index.js';
import { resolveArchiveName } from '../archive-name.js';
import { patternUse } from '../pattern-use.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';
import { dumpDescription, runDump } from './dump.js';

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
export async function runExtract(options: ExtractOptions, io: CliIO): Promise<{ items: number; files: number; bytes: number; warnings: number }> {
  return withRepository(options, io, { readOnly: true }, async (opened, progress) => {
    const name = await resolveArchiveName(opened, options.name);
    const used = patternUse(options.patterns);
    const result = await extractArchive(opened, name, {
      target: options.target,
      patterns: options.patterns.length ? options.patterns : undefined,
      exclude: options.exclude,
      stripComponents: options.stripComponents,
      dryRun: options.dryRun,
      numericIds: options.numericIds,
      onItem: (item) => used.note(item),
      onProgress: (p) => progress.update({ unit: 'files', count: p.files, bytes: p.bytes, current: pathText(p.path) }),
      onWarning: (w) => io.warn(`${w.path}: ${w.message}`),
    });
    used.warnUnmatched(io, name);
    const summary = { items: result.items, files: result.files, bytes: result.bytes, warnings: result.warnings.length, dryRun: options.dryRun === true };
    progress.stop();
    emit(io, options, summary, () => (options.dryRun ? `would extract ${result.files} files, ${formatBytes(result.bytes)}` : ''));
    return summary;
  });
}

export function registerExtract(program: Command, io: CliIO): void {
  program.command('extract')
    .description('restore archive NAME (or the paths matching PATTERNs) into the current folder; nothing outside it is written or followed, an item that clashes is skipped with a warning (exit 1), a file check --repair marked damaged is restored with zeros where data was lost and a warning (exit 1), a file with a missing or corrupt chunk fails alone (exit 2); a full target stops the run (exit 2) with no partial file left')
    .argument('<name>', 'archive name, "latest" (the newest archive) or with placeholders ({hostname}, {now:%Y-%m-%d}, ...)')
    .argument('[patterns...]', 'only paths matching these patterns (and what is below them)')
    .option('-e, --exclude <pattern>', 'leave out paths matching the pattern (repeatable)', collect)
    .option('-n, --dry-run', 'read and verify everything, write nothing')
    .option('--strip-components <n>', 'remove the first N path elements; items with fewer are skipped', parseCount(0))
    .option('--numeric-ids', 'restore owners by uid/gid, ignoring user and group names')
    .option('--target <folder>', 'restore into this folder instead of the current one')
    .option('--stdout', `write to standard output instead (as "dump"): ${dumpDescription()}`)
    .action(async (name: string, patterns: string[], opts: Omit<ExtractOptions, 'repo' | 'name' | 'patterns' | 'target'> & { target?: string; stdout?: boolean }, cmd: Command) => {
      const g = globalsOf(cmd);
      if (opts.stdout) {
        if (opts.target !== undefined || opts.dryRun || opts.exclude || opts.stripComponents !== undefined) throw new UsageError('--stdout takes no --target, --dry-run, --exclude or --strip-components');
        await runDump({ name, paths: patterns.length ? patterns : ['/'], repo: repoUrl(g, io), json: g.json, progress: false }, io);
        return;
      }
      await runExtract({ ...opts, name, patterns, target: resolve(io.cwd, opts.target ?? '.'), repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
