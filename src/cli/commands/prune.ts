/**
 * `cairn prune`: delete the archives that no keep rule (Borg's semantics) retains, the rules
 * applied to each group of archives with the same host and source paths (restic's `--group-by`).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { CliIO } from '../io.js';
import { applyPrunePolicy, deleteArchives, groupArchives, isoTime, type ArchiveGroupKey, type GroupField, type PruneDecision, type PruneRules } from '../../index.js';
import { jsonLine, localTime } from '../format.js';
import { globalsOf, parseCount, repoUrl } from '../options.js';
import { addSelectionOptions, selectArchivesFor, type SelectionFlags } from '../archive-name.js';
import { withRepository, type RepoCommandOptions } from './context.js';
import { postponedLine } from './delete.js';

export interface PruneOptions extends RepoCommandOptions, SelectionFlags {
  rules: PruneRules;
  /** Fields whose equal values make a group (default host and paths); empty: all archives form one group. */
  groupBy?: readonly GroupField[];
  dryRun?: boolean;
  list?: boolean;
}

interface Listed { name: string; time: Date; checkpoint: boolean }

/** The grouping prune uses unless told otherwise: restic's, so two machines' archives never count against each other. */
export const DEFAULT_GROUP_BY: readonly GroupField[] = ['host', 'paths'];

/** `host,paths`, `host`, `paths`, `tags` (any comma-separated combination) or `none`. */
export function parseGroupBy(text: string): GroupField[] {
  if (text === 'none' || text === '') return [];
  const fields = text.split(',');
  if (!fields.every((f) => f === 'host' || f === 'paths' || f === 'tags')) throw new InvalidArgumentError('use host, paths, tags or a comma-separated combination (e.g. host,paths), or none');
  return [...new Set(fields as GroupField[])];
}

/** The decisions of every group, in order of each group's oldest archive. */
export interface PruneResult {
  groups: { key: ArchiveGroupKey; decision: PruneDecision<Listed> }[];
  /** Archives pruned by the rules whose records the store still keeps under retention: left for a later prune. */
  postponed: { name: string; until: string | null }[];
}

/** Decides with `applyPrunePolicy` per group, prints the decision with --list, deletes unless --dry-run. */
export async function runPrune(options: PruneOptions, io: CliIO, now = new Date()): Promise<PruneResult> {
  applyPrunePolicy([], options.rules, { now }); // refuses missing or bad rules before the repository is opened
  const groupBy = options.groupBy ?? DEFAULT_GROUP_BY;
  return withRepository(options, io, { exclusive: !options.dryRun, readOnly: options.dryRun }, async (opened) => {
    const groups = groupArchives(await selectArchivesFor(opened, options, io), groupBy).map(({ key, archives }) => ({
      key,
      decision: applyPrunePolicy(archives.map((r) => ({ name: r.name, time: new Date(Number(r.start / 1_000_000n)), checkpoint: r.checkpoint })), options.rules, { now }),
    }));
    if (options.list || options.json) {
      for (const { key, decision } of groups) {
        if (!options.json && groupBy.length > 0) io.out(`${groupLine(key)}\n`);
        const group = groupBy.length > 0 ? key : undefined;
        for (const k of decision.keep) print(io, options, { name: k.archive.name, action: 'keep', rule: k.rule, index: k.index, time: k.archive.time, group });
        for (const a of decision.prune) print(io, options, { name: a.name, action: options.dryRun ? 'would prune' : 'prune', time: a.time, group });
      }
    }
    const doomed = groups.flatMap((g) => g.decision.prune.map((a) => a.name));
    const postponed: PruneResult['postponed'] = [];
    if (!options.dryRun && doomed.length > 0) {
      await deleteArchives(opened, { names: doomed, onPostponed: (name, until) => postponed.push({ name, until: until?.toISOString() ?? null }) });
    }
    // One line each (a JSON line with action "postponed"): the archive stays until its retention ends.
    for (const p of postponed) {
      if (options.json) io.out(jsonLine({ name: p.name, action: 'postponed', until: p.until }));
      else io.out(`${postponedLine(p.name, p.until)}\n`);
    }
    return { groups, postponed };
  });
}

/** `Archives of host "h", paths /a /b:` (the fields grouped by). */
function groupLine(key: ArchiveGroupKey): string {
  const parts: string[] = [];
  if (key.host !== undefined) parts.push(`host ${JSON.stringify(key.host)}`);
  if (key.paths !== undefined) parts.push(key.paths.length ? `paths ${key.paths.join(' ')}` : 'no recorded paths');
  if (key.tags !== undefined) parts.push(key.tags.length ? `tags ${key.tags.join(',')}` : 'no tags');
  return `Archives of ${parts.join(', ')}:`;
}

function print(io: CliIO, options: { json?: boolean }, line: { name: string; action: string; rule?: string; index?: number; time: Date; group?: ArchiveGroupKey }): void {
  // JSON: the archive's start as every command gives it (ISO 8601 UTC, nanoseconds), as `start` and as Borg's `time`.
  const start = isoTime(BigInt(line.time.getTime()) * 1_000_000n);
  if (options.json) io.out(jsonLine({ ...line, time: start, start }));
  else io.out(`${line.group ? '  ' : ''}${line.action === 'keep' ? `Keeping archive (rule: ${line.rule} #${line.index}):` : line.action === 'prune' ? 'Pruning archive:' : 'Would prune:'.padEnd(16)} ${line.name.padEnd(36)} ${localTime(line.time)}\n`);
}

export function registerPrune(program: Command, io: CliIO): void {
  const count = parseCount(-1);
  const command = program.command('prune').description('delete archives not kept by any --keep-* rule (Borg\'s rules), applied to each group of archives with the same host and paths (--group-by); run compact afterwards')
    .option('--keep-within <interval>', 'keep every archive newer than this (e.g. 7d; units S M H d w m y)')
    .option('--keep-last <n>', 'keep the last N archives (same as --keep-secondly)', count)
    .option('--keep-secondly <n>', 'keep the newest archive of each of the last N seconds', count)
    .option('--keep-minutely <n>', 'keep the newest archive of each of the last N minutes', count)
    .option('-H, --keep-hourly <n>', 'keep the newest archive of each of the last N hours', count)
    .option('-d, --keep-daily <n>', 'keep the newest archive of each of the last N days', count)
    .option('-w, --keep-weekly <n>', 'keep the newest archive of each of the last N ISO weeks', count)
    .option('-m, --keep-monthly <n>', 'keep the newest archive of each of the last N months', count)
    .option('-y, --keep-yearly <n>', 'keep the newest archive of each of the last N years (-1: every period)', count)
    .option('--group-by <fields>', 'apply the rules to each group of archives with equal fields: host,paths (default), host, paths, tags, a combination, or none (all archives together, as Borg)', parseGroupBy)
    .option('-a, --glob-archives <glob>', 'only consider archives whose name matches the glob, e.g. "{hostname}-*"');
  addSelectionOptions(command, 'consider')
    .option('-n, --dry-run', 'decide, print, delete nothing')
    .option('--list', 'print each group, then each archive with the rule that keeps it, or that it is pruned')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const g = globalsOf(cmd);
      const pick = (k: string) => opts[k] as number | undefined;
      await runPrune({
        rules: {
          within: opts.keepWithin as string | undefined, last: pick('keepLast'), secondly: pick('keepSecondly'), minutely: pick('keepMinutely'),
          hourly: pick('keepHourly'), daily: pick('keepDaily'), weekly: pick('keepWeekly'), monthly: pick('keepMonthly'), yearly: pick('keepYearly'),
        },
        groupBy: opts.groupBy as GroupField[] | undefined,
        globArchives: opts.globArchives as string | undefined, host: opts.host as string[] | undefined, path: opts.path as string[] | undefined,
        tag: opts.tag as string[] | undefined, first: opts.first as number | undefined, last: opts.last as number | undefined,
        dryRun: opts.dryRun as boolean | undefined, list: opts.list as boolean | undefined,
        repo: repoUrl(g, io), json: g.json, progress: g.progress,
      }, io);
    });
}
