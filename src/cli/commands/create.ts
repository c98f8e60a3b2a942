/** `cairn create NAME PATH...`: back up files and folders into a new archive. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { formatBytes } from '../format.js';
import { collect, globalsOf, parseCompression, parseCount, repoUrl } from '../options.js';
import { expandPlaceholders } from '../placeholders.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface CreateCommandOptions extends RepoCommandOptions {
  name: string;
  paths: string[];
  exclude?: string[];
  excludeFrom?: string[];
  oneFileSystem?: boolean;
  excludeCaches?: boolean;
  compression?: string;
  checkpointInterval?: number;
  comment?: string;
  filesCache?: boolean;
  stats?: boolean;
}

export interface CreateSummary {
  name: string;
  files: number;
  original: number;
  compressed: number;
  deduplicated: number;
  durationMs: number;
  filesRead?: number;
  warnings?: number;
}

/** Backs up `paths`; the name's placeholders are expanded; an existing name fails before any write. */
export async function runCreate(options: CreateCommandOptions, io: CliIO): Promise<CreateSummary> {
  const exclude = [...(options.exclude ?? [])];
  for (const file of options.excludeFrom ?? []) {
    exclude.push(...(await readFile(resolve(io.cwd, file), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  const resolved = { ...options, name: expandPlaceholders(options.name), exclude, paths: options.paths };
  return runOperation<typeof resolved, CreateSummary>('create', resolved, io, (s) => [
    `archive ${s.name}: ${s.files} files, ${(s.durationMs / 1000).toFixed(1)} s`,
    `  original ${formatBytes(s.original)}, compressed ${formatBytes(s.compressed)}, deduplicated ${formatBytes(s.deduplicated)}`,
  ].slice(0, options.stats === false ? 0 : 2).join('\n'));
}

export function registerCreate(program: Command, io: CliIO): void {
  program.command('create')
    .description('back up PATHs into a new archive NAME ({hostname}, {now}, {user} are expanded)')
    .argument('<name>', 'archive name, e.g. "{hostname}-{now}"')
    .argument('<paths...>', 'files and folders to back up')
    .option('-e, --exclude <pattern>', 'exclude paths matching the pattern (fm:, sh:, re:, pp: styles; repeatable)', collect)
    .option('--exclude-from <file>', 'read exclude patterns from a file, one per line (repeatable)', collect)
    .option('-x, --one-file-system', 'stay on the file system of each PATH (do not cross mount points)')
    .option('--exclude-caches', 'skip folders holding a CACHEDIR.TAG file (the tag itself is kept)')
    .option('-C, --compression <spec>', 'none, lz4, zstd[,LEVEL], zlib[,LEVEL] or auto[,SPEC]', parseCompression, 'lz4')
    .option('-c, --checkpoint-interval <seconds>', 'write a checkpoint this often, so an interruption loses little', parseCount(0), 1800)
    .option('--comment <text>', 'a comment stored with the archive')
    .option('--no-files-cache', 'read every file, even those the files cache knows as unchanged')
    .option('--no-stats', 'do not print the totals at the end')
    .action(async (name: string, paths: string[], opts: Omit<CreateCommandOptions, 'repo' | 'name' | 'paths'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCreate({ ...opts, name, paths, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
