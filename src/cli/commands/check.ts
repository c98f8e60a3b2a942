/** `cairn check`: verify the repository log and index, the archives, and optionally every chunk. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, parsePercent, repoUrl } from '../options.js';
import {
  auditArchiveSet, checkArchives, scanOpener, hasSelection, repairArchiveSet, TAMPER_KINDS, type ArchiveSetFinding, type CheckArchivesReport, type CheckReport,
} from '../../index.js';
import { addSelectionOptions, selectArchivesFor, selectionOf, type SelectionFlags } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface CheckCommandOptions extends RepoCommandOptions, SelectionFlags {
  repositoryOnly?: boolean;
  archivesOnly?: boolean;
  verifyData?: boolean;
  /** Decrypt and verify this percentage of the chunks, chosen at random. */
  verifyDataSubset?: number;
  repair?: boolean;
}

/** What `check --json` prints. */
export interface CheckSummary {
  errors: number;
  repository?: CheckReport;
  archives?: CheckArchivesReport;
  /** The archive set against its journal and this machine's security state (with the archive check). */
  journal?: {
    journals: number;
    findings: ArchiveSetFinding[];
    /** Journal records this machine saw that are gone: a rollback or deletion made without the key. */
    rolledBack: string[];
    /** With --repair: the findings handled (and the rollback accepted). */
    repaired: ArchiveSetFinding[];
  };
}

/** Checks; any problem found is printed and makes the command fail (exit 2) unless repaired. */
export async function runCheck(options: CheckCommandOptions, io: CliIO): Promise<CheckSummary> {
  if (options.repositoryOnly && options.archivesOnly) throw new UsageError('--repository-only and --archives-only exclude each other');
  if (options.verifyData && options.verifyDataSubset !== undefined) throw new UsageError('use --verify-data or --verify-data-subset, not both');
  if (options.repositoryOnly && (options.verifyData || options.verifyDataSubset !== undefined)) throw new UsageError('--verify-data needs the archive check: drop --repository-only');
  const selecting = hasSelection(selectionOf(options, io));
  if (options.repositoryOnly && selecting) throw new UsageError('archive filters (-a, --host, --path, --tag, --first, --last) need the archive check: drop --repository-only');
  // Repair of the repository never reads the index objects: it rebuilds them from the segment
  // headers, so a damaged one cannot stop it. (--archives-only needs the index as it is.)
  const rebuild = options.repair === true && !options.archivesOnly;
  const open = { exclusive: options.repair === true, readOnly: options.repair !== true, skipIndex: rebuild, rollback: options.repair ? 'accept' as const : 'report' as const };
  const summary = await withRepository(options, io, open, async (opened, progress) => {
    const result: CheckSummary = { errors: 0 };
    // --verify-data reads every segment once: the repository scan opens each chunk as it goes.
    const chunkProgress = (done: number, total: number): void => progress.update({ unit: 'chunks', count: done, totalCount: total });
    const scan = options.verifyData && !options.archivesOnly ? scanOpener(opened, chunkProgress) : undefined;
    if (!options.archivesOnly) {
      result.repository = await opened.repository.check({ repair: options.repair, readData: options.verifyData, onValue: scan?.onValue });
      if (!options.repair) result.errors += result.repository.damage.length;
    }
    if (!options.repositoryOnly) {
      result.archives = await checkArchives(opened, {
        archives: selecting ? (await selectArchivesFor(opened, options, io)).map((a) => a.name) : undefined,
        verifyData: options.verifyData || options.verifyDataSubset !== undefined,
        subsetPercent: options.verifyDataSubset,
        scanned: scan?.scanned,
        repair: options.repair,
        onProgress: chunkProgress,
      });
      // A record moved to quarantine is repaired; every other archive problem stays (see --help).
      result.errors += result.archives.problems.filter((p) => p.quarantined === undefined).length;
      const audit = await auditArchiveSet(opened);
      const repaired = options.repair ? await repairArchiveSet(opened, audit) : [];
      const left = audit.findings.filter((f) => !repaired.includes(f));
      result.journal = { journals: audit.journals, findings: audit.findings, rolledBack: opened.security.rolledBack, repaired };
      result.errors += left.filter((f) => TAMPER_KINDS.has(f.kind)).length + (options.repair ? 0 : opened.security.rolledBack.length);
      for (const f of left.filter((x) => !TAMPER_KINDS.has(x.kind))) io.warn(`${f.kind} archive "${f.archive}": ${f.reason}; "cairn check --repair" ${f.kind === 'undeleted' ? 'finishes the deletion' : 'journals it'}`);
    } else if (opened.security.rolledBack.length > 0 && !options.repair) {
      result.journal = { journals: 0, findings: [], rolledBack: opened.security.rolledBack, repaired: [] };
      result.errors += opened.security.rolledBack.length;
    }
    return result;
  });
  emit(io, options, summary, () => {
    const lines = [
      ...(summary.repository?.damage ?? []).map((d) => `${d.kind} ${d.key}${d.offset === undefined ? '' : `@${d.offset}`}: ${d.reason}`),
      ...(summary.archives?.problems ?? []).map((p) => `${p.kind}${p.archive ? ` in ${p.archive}` : ''}${p.id ? ` chunk ${p.id}` : ''}: ${p.reason}${p.quarantined ? ` (moved to ${p.quarantined})` : ''}`),
      ...(summary.journal?.rolledBack ?? []).map((name) => `rollback: ${name} was seen by this machine and is gone (deleted or rolled back without the key)${options.repair ? '; accepted' : ''}`),
      ...(summary.journal?.findings ?? []).filter((f) => TAMPER_KINDS.has(f.kind)).map((f) => `${f.kind}${f.archive === undefined ? '' : ` archive "${f.archive}"`}: ${f.reason}${summary.journal!.repaired.includes(f) ? ' (repaired)' : ''}`),
    ];
    return lines.length ? lines.join('\n') : '';
  });
  if (summary.errors > 0) {
    const repairable = (summary.repository?.damage.length ?? 0) > 0 || (summary.archives?.problems ?? []).some((p) => p.kind === 'record');
    throw new CheckFailedError(summary.errors, options.repair === true, repairable);
  }
  return summary;
}

/**
 * `check` found damage. The advice is what repair really does: it rebuilds the index, quarantines
 * damaged segments, index objects and unreadable archive records; it never mends an archive whose
 * chunks are missing or damaged, so when only such problems are left it says what to do instead.
 */
export class CheckFailedError extends Error {
  readonly code = 'ECHECK_FAILED';
  constructor(count: number, repaired: boolean, repairable: boolean) {
    const problems = `${count} problem${count === 1 ? '' : 's'}`;
    super(repairable && !repaired
      ? `check found ${problems}; "cairn check --repair" rebuilds the index and moves damaged segments, index objects and archive records to quarantine/`
      : `check${repaired ? ' --repair left' : ' found'} ${problems} that repair cannot fix (archives with missing or damaged chunks): restore the rest of such an archive with "cairn extract ARCHIVE -e PATTERN", or delete it`);
  }
}

export function registerCheck(program: Command, io: CliIO): void {
  const command = program.command('check').description('verify the consistency of the repository and its archives, and the archive journal '
    + '(archives deleted or put back without the key, rollbacks); --repair also journals vanished archives as deleted and '
    + 'unjournaled ones as added, finishes interrupted deletions and accepts a rollback')
    .option('--repository-only', 'only check the log\'s structure (entry headers, COMMITs) and the index, with ranged reads')
    .option('--archives-only', 'only check the archives and item streams')
    .option('--verify-data', 'also read every segment whole and decrypt and authenticate every chunk (reads all data, once)')
    .option('--verify-data-subset <percent>', 'decrypt and authenticate a random sample of the chunks (the segments are checked as without it)', parsePercent)
    .option('--repair', 'rebuild the index from the segments without reading it; move damaged segments (their good entries are kept), index objects and unreadable archive records to quarantine/; archives with missing chunks are not changed; takes the exclusive lock')
    .option('-a, --glob-archives <glob>', 'only check archives whose name matches the glob');
  addSelectionOptions(command, 'check')
    .action(async (opts: Omit<CheckCommandOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCheck({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
