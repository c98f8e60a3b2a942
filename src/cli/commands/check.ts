/** `cairn check`: verify the repository log and index, the archives, and optionally every chunk. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, parsePercent, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface CheckOptions extends RepoCommandOptions {
  repositoryOnly?: boolean;
  archivesOnly?: boolean;
  verifyData?: boolean;
  /** Decrypt and verify this percentage of the chunks, chosen at random. */
  verifyDataSubset?: number;
  repair?: boolean;
  globArchives?: string;
}

export interface CheckReport { errors: number; problems: string[] }

/** Checks; any problem found is printed and makes the command fail (exit 2) unless repaired. */
export async function runCheck(options: CheckOptions, io: CliIO): Promise<CheckReport> {
  if (options.repositoryOnly && options.archivesOnly) throw new UsageError('--repository-only and --archives-only exclude each other');
  if (options.verifyData && options.verifyDataSubset !== undefined) throw new UsageError('use --verify-data or --verify-data-subset, not both');
  if (options.repositoryOnly && (options.verifyData || options.verifyDataSubset !== undefined)) throw new UsageError('--verify-data needs the archive check: drop --repository-only');
  const report = await runOperation<CheckOptions, CheckReport>('check', options, io,
    (r) => (r.errors === 0 ? 'no problems found' : r.problems.join('\n')));
  if (report.errors > 0) throw new CheckFailedError(report.errors, options.repair === true);
  return report;
}

/** `check` found damage. */
export class CheckFailedError extends Error {
  readonly code = 'ECHECK_FAILED';
  constructor(count: number, repaired: boolean) {
    super(`check found ${count} problem${count === 1 ? '' : 's'}${repaired ? ' (repaired what could be repaired)' : '; "cairn check --repair" fixes what can be fixed'}`);
  }
}

export function registerCheck(program: Command, io: CliIO): void {
  program.command('check').description('verify the consistency of the repository and its archives')
    .option('--repository-only', 'only check the log, segments and index')
    .option('--archives-only', 'only check the archives and item streams')
    .option('--verify-data', 'also decrypt and authenticate every chunk (reads all data)')
    .option('--verify-data-subset <percent>', 'decrypt and authenticate a random sample of the chunks', parsePercent)
    .option('--repair', 'fix what can be fixed (rebuilds the index, drops references to missing chunks); takes the exclusive lock')
    .option('-a, --glob-archives <glob>', 'only check archives whose name matches the glob')
    .action(async (opts: Omit<CheckOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCheck({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
