/** `cairn prune`: delete the archives that no keep rule (Borg's semantics) retains. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { applyPrunePolicy, deleteArchives, isoTime, listArchives, type PruneDecision, type PruneRules } from '../../index.js';
import { jsonLine, localTime } from '../format.js';
import { globalsOf, parseCount, repoUrl } from '../options.js';
import { expandPlaceholders } from '../placeholders.js';
import { matchGlob, warnUnreadable, withRepository, type RepoCommandOptions } from './context.js';

export interface PruneOptions extends RepoCommandOptions {
  rules: PruneRules;
  globArchives?: string;
  dryRun?: boolean;
  list?: boolean;
}

interface Listed { name: string; time: Date; checkpoint: boolean }

/** Decides with `applyPrunePolicy`, prints the decision with --list, deletes unless --dry-run. */
export async function runPrune(options: PruneOptions, io: CliIO, now = new Date()): Promise<PruneDecision<Listed>> {
  applyPrunePolicy([], options.rules, { now }); // refuses missing or bad rules before the repository is opened
  const match = matchGlob(options.globArchives === undefined ? undefined : expandPlaceholders(options.globArchives));
  return withRepository(options, io, { exclusive: !options.dryRun, readOnly: options.dryRun }, async (opened) => {
    const archives = (await listArchives(opened, { onUnreadable: warnUnreadable(io) })).filter((r) => match(r.name))
      .map((r) => ({ name: r.name, time: new Date(Number(r.start / 1_000_000n)), checkpoint: r.checkpoint }));
    const decision = applyPrunePolicy(archives, options.rules, { now });
    if (options.list || options.json) {
      for (const k of decision.keep) print(io, options, { name: k.archive.name, action: 'keep', rule: k.rule, index: k.index, time: k.archive.time });
      for (const a of decision.prune) print(io, options, { name: a.name, action: options.dryRun ? 'would prune' : 'prune', time: a.time });
    }
    if (!options.dryRun && decision.prune.length > 0) await deleteArchives(opened, { names: decision.prune.map((a) => a.name) });
    return decision;
  });
}

function print(io: CliIO, options: { json?: boolean }, line: { name: string; action: string; rule?: string; index?: number; time: Date }): void {
  // JSON: the archive's start as every command gives it (ISO 8601 UTC, nanoseconds), as `start` and as Borg's `time`.
  const start = isoTime(BigInt(line.time.getTime()) * 1_000_000n);
  if (options.json) io.out(jsonLine({ ...line, time: start, start }));
  else io.out(`${line.action === 'keep' ? `Keeping archive (rule: ${line.rule} #${line.index}):` : line.action === 'prune' ? 'Pruning archive:' : 'Would prune:'.padEnd(16)} ${line.name.padEnd(36)} ${localTime(line.time)}\n`);
}

export function registerPrune(program: Command, io: CliIO): void {
  const count = parseCount(-1);
  program.command('prune').description('delete archives not kept by any --keep-* rule (Borg\'s rules; run compact afterwards)')
    .option('--keep-within <interval>', 'keep every archive newer than this (e.g. 7d; units S M H d w m y)')
    .option('--keep-last <n>', 'keep the last N archives (same as --keep-secondly)', count)
    .option('--keep-secondly <n>', 'keep the newest archive of each of the last N seconds', count)
    .option('--keep-minutely <n>', 'keep the newest archive of each of the last N minutes', count)
    .option('-H, --keep-hourly <n>', 'keep the newest archive of each of the last N hours', count)
    .option('-d, --keep-daily <n>', 'keep the newest archive of each of the last N days', count)
    .option('-w, --keep-weekly <n>', 'keep the newest archive of each of the last N ISO weeks', count)
    .option('-m, --keep-monthly <n>', 'keep the newest archive of each of the last N months', count)
    .option('-y, --keep-yearly <n>', 'keep the newest archive of each of the last N years (-1: every period)', count)
    .option('-a, --glob-archives <glob>', 'only consider archives whose name matches the glob, e.g. "{hostname}-*"')
    .option('-n, --dry-run', 'decide, print, delete nothing')
    .option('--list', 'print each archive with the rule that keeps it, or that it is pruned')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const g = globalsOf(cmd);
      const pick = (k: string) => opts[k] as number | undefined;
      await runPrune({
        rules: {
          within: opts.keepWithin as string | undefined, last: pick('keepLast'), secondly: pick('keepSecondly'), minutely: pick('keepMinutely'),
          hourly: pick('keepHourly'), daily: pick('keepDaily'), weekly: pick('keepWeekly'), monthly: pick('keepMonthly'), yearly: pick('keepYearly'),
        },
        globArchives: opts.globArchives as string | undefined, dryRun: opts.dryRun as boolean | undefined, list: opts.list as boolean | undefined,
        repo: repoUrl(g, io), json: g.json, progress: g.progress,
      }, io);
    });
}
