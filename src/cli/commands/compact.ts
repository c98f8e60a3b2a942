/** `cairn compact`: free the space of chunks no archive references (mark and sweep). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { formatBytes } from '../format.js';
import { globalsOf, parsePercent, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface CompactOptions extends RepoCommandOptions {
  /** Rewrite segments whose live fraction is below this percentage (default 10). */
  threshold?: number;
  dryRun?: boolean;
}

/** Takes the exclusive lock; crash-safe (new segments and index are committed before old ones go). */
export async function runCompact(options: CompactOptions, io: CliIO): Promise<void> {
  await runOperation<CompactOptions, { chunksDeleted: number; bytesFreed: number }>('compact', options, io,
    (r) => `${options.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytesFreed)} (${r.chunksDeleted} unreferenced chunks)`);
}

export function registerCompact(program: Command, io: CliIO): void {
  program.command('compact').description('free the space of data no archive references any more')
    .option('--threshold <percent>', 'rewrite segments with less live data than this', parsePercent, 10)
    .option('-n, --dry-run', 'only count what would be freed')
    .action(async (opts: Omit<CompactOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCompact({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
