/** `cairn check`: verify the repository log and index, the archives, and optionally every chunk; `--repair` salvages. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, parsePercent, repoUrl } from '../options.js';
import {
  applyArchiveRepair, auditArchiveSet, writeCheckRecord, checkArchives, hasSelection, planArchiveRepair, repairArchiveSet, scanOpener, TAMPER_KINDS,
  type ArchiveRepairPlan, type ArchiveSetFinding, type CheckArchivesReport, type CheckReport, type RepositoryRepairPlan, type SalvagedFile,
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
  /** With `repair`: show what it would change and change nothing (no lock, no write). */
  dryRun?: boolean;
  /** With `repair`: do not ask for confirmation (required when not on a terminal). */
  yes?: boolean;
}

/** What `check --repair` changes, in order: the repository first, then the archives, then the archive journal. */
export interface RepairPlan {
  repository?: RepositoryRepairPlan;
  archives?: ArchiveRepairPlan;
  /** Journal findings the repair handles (vanished journaled as deleted, unjournaled adopted, deletions finished). */
  journal: ArchiveSetFinding[];
}

/** What `check --json` prints. */
export interface CheckSummary {
  errors: number;
  /** Files marked damaged (zeros where data was lost) in the archives checked, after any repair: a warning (exit 1). */
  damagedFiles: number;
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
  /** With --repair: the plan, and whether it was carried out (false with --dry-run). */
  repair?: { plan: RepairPlan; applied: boolean };
}

/** Journal findings that `repairArchiveSet` handles. */
const JOURNAL_REPAIRS: ReadonlySet<ArchiveSetFinding['kind']> = new Set(['vanished', 'unjournaled', 'undeleted', 'journal']);

/**
 * Checks; damage found makes the command fail (exit 2) unless repaired, files marked damaged are a warning (exit 1).
 * `--repair` plans first (nothing written), shows the plan, asks on a terminal unless `--yes`, then repairs the
 * repository (index, segments) and then the archives (see docs/adr/0057-repair-that-salvages.md).
 */
export async function runCheck(options: CheckCommandOptions, io: CliIO): Promise<CheckSummary> {
  if (options.repositoryOnly && options.archivesOnly) throw new UsageError('--repository-only and --archives-only exclude each other');
  if (options.verifyData && options.verifyDataSubset !== undefined) throw new UsageError('use --verify-data or --verify-data-subset, not both');
  if (options.repositoryOnly && (options.verifyData || options.verifyDataSubset !== undefined)) throw new UsageError('--verify-data needs the archive check: drop --repository-only');
  if ((options.dryRun || options.yes) && !options.repair) throw new UsageError(`${options.dryRun ? '--dry-run' : '--yes'} goes with --repair: add --repair`);
  const ask = options.repair === true && !options.dryRun && !options.yes;
  if (ask && !(io.isTTY && io.stdinIsTTY && io.readLine)) throw new UsageError('check --repair changes the repository: add --yes to confirm, or --dry-run to see what it would change');
  const selecting = hasSelection(selectionOf(options, io));
  if (options.repositoryOnly && selecting) throw new UsageError('archive filters (-a, --host, --path, --tag, --first, --last) need the archive check: drop --repository-only');
  const repair = options.repair === true;
  const dry = repair && options.dryRun === true;
  // Repair of the repository never reads the index objects: it rebuilds them from the segment
  // headers, so a damaged one cannot stop it. (--archives-only needs the index as it is.)
  // A dry run takes no lock and writes nothing: it only reads.
  const rebuild = repair && !options.archivesOnly;
  const open = dry
    ? { readOnly: true, lock: false, skipIndex: rebuild, rollback: 'report' as const }
    : { exclusive: repair, readOnly: !repair, skipIndex: rebuild, rollback: repair ? 'accept' as const : 'report' as const };
  let repositoryId: string | undefined;
  const summary = await withRepository(options, io, open, async (whole, progress) => {
    // Check reads records the journal does not vouch for and reports them (the archive-set audit) instead of refusing.
    const opened = { ...whole, vouchRecord: undefined };
    repositoryId = opened.repository.config.id;
    const result: CheckSummary = { errors: 0, damagedFiles: 0 };
    // --verify-data reads every segment once: the repository scan opens each chunk as it goes. A repair
    // plans from its own whole-segment scan, and the archive check then fetches the chunks itself.
    const chunkProgress = (done: number, total: number): void => progress.update({ unit: 'chunks', count: done, totalCount: total });
    const scan = options.verifyData && !options.archivesOnly && !repair ? scanOpener(opened, chunkProgress) : undefined;
    let repositoryRepair: Awaited<ReturnType<typeof opened.repository.planRepair>> | undefined;
    if (!options.archivesOnly) {
      if (repair) {
        repositoryRepair = await opened.repository.planRepair({ readData: options.verifyData });
        result.repository = repositoryRepair.report;
      } else {
        result.repository = await opened.repository.check({ readData: options.verifyData, onValue: scan?.onValue });
      }
      result.errors += result.repository.damage.length;
    }
    if (options.repositoryOnly) {
      if (opened.security.rolledBack.length > 0) {
        result.journal = { journals: 0, findings: [], rolledBack: opened.security.rolledBack, repaired: [] };
        if (!repair) result.errors += opened.security.rolledBack.length;
      }
    }
    let archivesRepair: ArchiveRepairPlan | undefined;
    let findings: ArchiveSetFinding[] = [];
    const selection = !options.repositoryOnly && selecting ? (await selectArchivesFor(opened, options, io)).map((a) => a.name) : undefined;
    if (!options.repositoryOnly) {
      result.archives = await checkArchives(opened, {
        archives: selection,
        verifyData: options.verifyData || options.verifyDataSubset !== undefined,
        subsetPercent: options.verifyDataSubset,
        scanned: await scan?.settled(),
        onProgress: chunkProgress,
      });
      const problems = result.archives.problems;
      result.damagedFiles = problems.filter((p) => p.kind === 'damaged-file').length;
      result.errors += problems.filter((p) => p.kind !== 'damaged-file').length;
      const audit = await auditArchiveSet(opened);
      findings = audit.findings;
      result.journal = { journals: audit.journals, findings, rolledBack: opened.security.rolledBack, repaired: [] };
      result.errors += findings.filter((f) => TAMPER_KINDS.has(f.kind)).length + (repair ? 0 : opened.security.rolledBack.length);
      if (repair) {
        archivesRepair = await planArchiveRepair(opened, { archives: selection, corrupt: problems.filter((p) => p.kind === 'corrupt-chunk').map((p) => p.id!) });
      }
    }
    if (!repair) {
      for (const f of findings.filter((x) => !TAMPER_KINDS.has(x.kind))) io.warn(`${f.kind} archive "${f.archive}": ${f.reason}; "cairn check --repair" ${f.kind === 'undeleted' ? 'finishes the deletion' : 'journals it'}`);
      return result;
    }
    const plan: RepairPlan = { repository: repositoryRepair?.plan, archives: archivesRepair, journal: findings.filter((f) => JOURNAL_REPAIRS.has(f.kind)) };
    result.repair = { plan, applied: false };
    if (dry) return result;
    progress.stop();
    // Nothing to confirm when the plan changes nothing but the index, which is rebuilt from the segments every time
    // (its objects are not read, so an old or incomplete one is not seen): a cache, the same data, no archive touched.
    if (ask && changes(plan, result)) {
      io.err(`check --repair will:\n${planLines(plan).map((l) => `  ${l}`).join('\n') || '  change nothing but rewrite the index'}\n`);
      const answer = await io.readLine!('Carry out this repair? Type "yes" to confirm: ');
      if (answer?.trim() !== 'yes') throw new UsageError('not confirmed: nothing was changed');
    }
    // The repository first: the archives are repaired over the index as rebuilt (docs/adr/0057).
    if (repositoryRepair) await repositoryRepair.apply();
    if (archivesRepair) {
      await applyArchiveRepair(opened, archivesRepair);
      const audit = await auditArchiveSet(opened);
      const repaired = await repairArchiveSet(opened, audit);
      const left = audit.findings.filter((f) => !repaired.includes(f));
      result.journal = { journals: audit.journals, findings: audit.findings, rolledBack: opened.security.rolledBack, repaired };
      // What repair cannot fix is left: an older record put back under a journaled name.
      // ... and the files of the archives an append-only repository does not let it rewrite.
      result.errors = left.filter((f) => TAMPER_KINDS.has(f.kind)).length + archivesRepair.postponed.reduce((n, p) => n + p.files.length, 0);
      result.damagedFiles = archivesRepair.damagedFiles;
    } else {
      result.errors = 0;
    }
    result.repair.applied = true;
    return result;
  });
  if (!dry && repositoryId !== undefined) {
    // A note for `cairn serve` ("last check"), never an input to a decision: a cache folder that
    // cannot take it does not change what the check found or its exit code.
    const data = options.verifyData ? 'all' as const : options.verifyDataSubset !== undefined ? 'subset' as const : 'none' as const;
    await writeCheckRecord(repositoryId, { time: new Date(), ok: summary.errors === 0 && summary.damagedFiles === 0, errors: summary.errors, damagedFiles: summary.damagedFiles, data, repair: summary.repair?.applied === true }, io.env).catch(() => undefined);
  }
  emit(io, options, summary, () => humanText(summary, options));
  if (summary.damagedFiles > 0) io.warn(`${summary.damagedFiles} file${summary.damagedFiles === 1 ? ' is' : 's are'} marked damaged: zeros stand in for lost data ("cairn list" marks them); a backup of the same data followed by check --repair restores them`);
  if (summary.errors > 0) {
    const repairable = (summary.repository?.damage.length ?? 0) > 0 || (summary.archives?.problems ?? []).some((p) => p.kind !== 'damaged-file');
    const postponed = summary.repair?.applied === true ? summary.repair.plan.archives?.postponed.map((p) => p.archive) ?? [] : [];
    throw new CheckFailedError(summary.errors, summary.repair?.applied === true, repairable, dry, postponed);
  }
  return summary;
}

/**
 * Whether the repair plan changes anything a user sees: moves something to quarantine/, copies entries, rewrites or
 * deletes, journals; or repairs damage the check found. The index rebuild alone is not such a change.
 */
function changes(plan: RepairPlan, result: CheckSummary): boolean {
  const r = plan.repository;
  const a = plan.archives;
  return (result.repository?.damage.length ?? 0) > 0 || (r !== undefined && (r.quarantine.length > 0 || r.rewriteEntries > 0))
    || (a !== undefined && (a.records.length + a.itemStreams.length + a.rewrites.length + a.deleteChunks.length + a.zeroChunks) > 0)
    || plan.journal.length > 0 || (result.journal?.rolledBack.length ?? 0) > 0;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function fileLine(f: SalvagedFile): string {
  const parts: string[] = [];
  if (f.zeroed > 0) parts.push(`${plural(f.zeroed, 'lost chunk')} replaced by zeros`);
  if (f.healed > 0) parts.push(`${plural(f.healed, 'chunk')} healed`);
  parts.push(f.zeroBytes === 0 ? 'whole again (mark removed)' : `marked damaged (${f.zeroBytes} bytes of zeros)`);
  return `${f.path}: ${parts.join(', ')}`;
}

/** The plan as lines of text, in the order it is carried out. */
export function planLines(plan: RepairPlan): string[] {
  const lines: string[] = [];
  const r = plan.repository;
  if (r) {
    lines.push(`rebuild the index from the segments (${plural(r.indexed, 'entry').replace(/entrys$/, 'entries')}), replacing ${plural(r.indexObjects, 'index object')}`);
    if (r.rewriteEntries > 0) lines.push(`copy ${plural(r.rewriteEntries, 'good entry').replace(/entrys$/, 'entries')} out of damaged segments`);
    for (const key of r.quarantine) lines.push(`move ${key} to quarantine/`);
  }
  const a = plan.archives;
  if (a) {
    for (const x of a.records) lines.push(`move the record of archive ${JSON.stringify(x.archive)} to quarantine/: it cannot be read (${x.reason})`);
    for (const x of a.itemStreams) lines.push(`move archive ${JSON.stringify(x.archive)} to quarantine/: its item stream cannot be read (${x.reason})`);
    for (const id of a.deleteChunks) lines.push(`delete corrupt chunk ${id} (a later backup of the same data stores it again)`);
    if (a.zeroChunks > 0) lines.push(`store ${plural(a.zeroChunks, 'chunk')} of zeros`);
    for (const w of a.rewrites) {
      lines.push(`rewrite archive ${JSON.stringify(w.archive)} (same name and times), ${plural(w.files.length, 'file')}:`);
      for (const f of w.files) lines.push(`  ${fileLine(f)}`);
    }
    for (const w of a.postponed) {
      lines.push(`not rewrite archive ${JSON.stringify(w.archive)} (${w.reason}): ${plural(w.files.length, 'file')} keep lost chunks, and extract fails them alone until a backup of the same data stores those chunks again:`);
      for (const f of w.files) lines.push(`  ${f.path}`);
    }
  }
  for (const f of plan.journal) lines.push(`journal archive ${JSON.stringify(f.archive ?? f.record ?? '')} (${f.kind}): ${f.reason}`);
  return lines;
}

function humanText(summary: CheckSummary, options: CheckCommandOptions): string {
  const lines = [
    ...(summary.repository?.damage ?? []).map((d) => `${d.kind} ${d.key}${d.offset === undefined ? '' : `@${d.offset}`}: ${d.reason}`),
    ...(summary.archives?.problems ?? []).map((p) => `${p.kind}${p.archive ? ` in ${p.archive}` : ''}${p.path === undefined ? '' : ` file ${p.path}`}${p.id ? ` chunk ${p.id}` : ''}: ${p.reason}`),
    ...(summary.journal?.rolledBack ?? []).map((name) => `rollback: ${name} was seen by this machine and is gone (deleted or rolled back without the key)${options.repair && !options.dryRun ? '; accepted' : ''}`),
    ...(summary.journal?.findings ?? []).filter((f) => TAMPER_KINDS.has(f.kind)).map((f) => `${f.kind}${f.archive === undefined ? '' : ` archive "${f.archive}"`}: ${f.reason}${summary.journal!.repaired.includes(f) ? ' (repaired)' : ''}`),
  ];
  if (summary.repair) {
    const steps = planLines(summary.repair.plan);
    if (!changes(summary.repair.plan, summary)) {
      const postponed = steps.filter((l) => !l.startsWith('rebuild the index'));
      const rebuilt = summary.repair.applied ? ' (the index was rebuilt from the segments)' : '';
      if (postponed.length === 0) lines.push(`${summary.errors > 0 ? 'nothing that repair can fix' : 'nothing needs repair'}${rebuilt}`);
      else lines.push(`check --repair ${summary.repair.applied ? 'did' : 'would do'} nothing but rebuild the index:`, ...postponed.map((l) => `  ${l}`));
    } else {
      lines.push(summary.repair.applied ? 'check --repair did:' : 'check --repair would (nothing was changed):');
      lines.push(...steps.map((l) => `  ${l}`));
    }
  }
  return lines.join('\n');
}

/**
 * `check` found damage. The advice is what repair really does: it rebuilds the index, quarantines damaged segments,
 * index objects and unreadable archives, and salvages files whose chunks are lost; what it leaves (an older archive
 * record put back under a journaled name) is the user's to delete.
 */
export class CheckFailedError extends Error {
  readonly code = 'ECHECK_FAILED';
  constructor(count: number, repaired: boolean, repairable: boolean, dryRun = false, postponed: readonly string[] = []) {
    const problems = plural(count, 'problem');
    super(dryRun
      ? `check found ${problems}; nothing was changed: run "cairn check --repair --yes" to carry out the repair shown`
      : postponed.length > 0
        ? `check --repair left ${problems}: the repository is append-only, so ${postponed.map((n) => JSON.stringify(n)).join(', ')} cannot be rewritten with zeros for lost chunks; `
          + 'back up the same data again to store those chunks (the archive then restores whole), or extract its other files now'
        : repairable && !repaired
        ? `check found ${problems}; "cairn check --repair" rebuilds the index, moves damaged segments, index objects and unreadable archives to quarantine/ and replaces lost chunks with zeros (add --dry-run to see what it would change)`
        : `check${repaired ? ' --repair left' : ' found'} ${problems} that repair cannot fix (an archive record replaced without the key): delete such an archive ("cairn delete NAME")`);
  }
}

export function registerCheck(program: Command, io: CliIO): void {
  const command = program.command('check').description('verify the consistency of the repository and its archives, and the archive journal '
    + '(archives deleted or put back without the key, rollbacks); files marked damaged by an earlier repair are a warning (exit 1). '
    + '--repair shows its plan, asks on a terminal (--yes otherwise), then repairs the repository (index, segments) and then the archives: '
    + 'lost chunks of a file are replaced by zeros of the same length and the file marked damaged, a file whose chunks a later backup stored again is healed, '
    + 'unreadable archives move to quarantine/; it also journals vanished archives as deleted and unjournaled ones as added, finishes interrupted deletions and accepts a rollback. '
    + 'When nothing but the index (a cache, rebuilt every time) would change, it asks nothing and says nothing needs repair. '
    + 'In an append-only repository archives are not rewritten: the plan says so before any change, the rest is done, and the command exits 2 naming them')
    .option('--repository-only', 'only check the log\'s structure (entry headers, COMMITs) and the index, with ranged reads')
    .option('--archives-only', 'only check the archives and item streams')
    .option('--verify-data', 'also read every segment whole and decrypt and authenticate every chunk (reads all data, once); with --repair, corrupt chunks are deleted and replaced by zeros')
    .option('--verify-data-subset <percent>', 'decrypt and authenticate a random sample of the chunks (the segments are checked as without it)', parsePercent)
    .option('--repair', 'rebuild the index from the segments without reading it; move damaged segments (their good entries are kept), index objects and unreadable archives to quarantine/; replace lost chunks of files by zeros and mark the files damaged; heal marked files whose chunks are back; takes the exclusive lock')
    .option('--dry-run', 'with --repair: show what it would change, change nothing (takes no lock)')
    .option('--yes', 'with --repair: do not ask (needed when not on a terminal)')
    .option('-a, --glob-archives <glob>', 'only check archives whose name matches the glob');
  addSelectionOptions(command, 'check')
    .action(async (opts: Omit<CheckCommandOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runCheck({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
