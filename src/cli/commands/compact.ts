/** `cairn compact`: free the space of chunks no archive references (mark and sweep). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { formatBytes } from '../format.js';
import { globalsOf, parsePercent, repoUrl } from '../options.js';
import { sweepUnreferenced, type CompactReport, type CompactResult } from '../../index.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface CompactOptions extends RepoCommandOptions {
  /** Rewrite segments whose live data is below this percentage (default: the repository's, 50). */
  threshold?: number;
  dryRun?: boolean;
}

/** Takes the exclusive lock; crash-safe (new segments and index are committed before old ones go). */
export async function runCompact(options: CompactOptions, io: CliIO): Promise<CompactSummary> {
  return withRepository(options, io, { exclusive: true }, async (opened) => {
    const swept = await sweepUnreferenced(opened, { dryRun: options.dryRun });
    const repository = options.dryRun ? undefined : await opened.repository.compact({ threshold: options.threshold === undefined ? undefined : options.threshold / 100 });
    const summary: CompactSummary = { ...swept, repository, dryRun: options.dryRun === true };
    emit(io, options, summary, () => {
      const freed = repository ? `, ${formatBytes(repository.bytesBefore - repository.bytesAfter)} freed` : '';
      const temps = repository?.staleTempFiles ? `; removed ${repository.staleTempFiles} temporary file(s) of killed writers` : '';
      const line = `${options.dryRun ? 'would delete' : 'deleted'} ${swept.deletedChunks} unreferenced chunks (${swept.liveChunks} in use)${freed}${temps}`;
      return repository && repository.postponed.objects > 0 ? `${line}\n${postponedLine(repository.postponed)}` : line;
    });
    return summary;
  });
}

/** The human line for objects left because the store still retains them. */
function postponedLine(p: { objects: number; until?: string }): string {
  const until = p.until ? ` until ${p.until}` : '';
  return `postponed deleting ${p.objects} object(s) the store keeps under retention${until}: run compact again after that to free them`;
}

/** What `compact --json` prints: the sweep, then the repository's segment compaction. */
export interface CompactSummary extends CompactResult {
  repository?: CompactReport;
  dryRun: boolean;
}

export function registerCompact(program: Command, io: CliIO): void {
  program.command('compact').description('free the space of data no archive references any more')
    .option('--threshold <percent>', 'rewrite segments with less live data than this (default: 50)', parsePercent)
    .option('-n, --dry-run', 'only count what would be freed')
    .action(async (opts: Omit<CompactOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCompact({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
