/** `cairn rlist`: the archives of the repository, oldest first. */
import type { Command } from 'commander';
import { auditArchiveSet, isoTime, listArchives, type ArchiveSetFinding } from '../../index.js';
import type { CliIO } from '../io.js';
import { formatTemplate, localTime } from '../format.js';
import { globalsOf, repoUrl } from '../options.js';
import { expandPlaceholders } from '../placeholders.js';
import { emit, matchGlob, warnUnreadable, withRepository, type RepoCommandOptions } from './context.js';

export interface RlistOptions extends RepoCommandOptions {
  /** Glob on archive names (`*` does not cross "/"); placeholders are expanded. */
  globArchives?: string;
  format?: string;
  short?: boolean;
}

/** An archive as listed. */
export interface ListedArchive { name: string; time: string; end: string; host: string; user: string; checkpoint: boolean; comment: string }

/** A journal finding as `rlist` warns of it (exit 1): an archive whose record went away or back without the key. */
export function findingLine(f: ArchiveSetFinding): string {
  return `${f.archive === undefined ? 'archive journal' : `archive "${f.archive}"`}: ${f.reason} (${f.kind}); run "cairn check"`;
}

/**
 * Lists archives (one line each, `--format` template, or JSON `{ archives: [...], warnings: [...] }`). Archives that
 * vanished or were put back without the key (see `auditArchiveSet`) are warnings: exit code 1.
 */
export async function runRlist(options: RlistOptions, io: CliIO): Promise<ListedArchive[]> {
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const warnings = (await auditArchiveSet(opened)).findings.filter((f) => f.kind !== 'unjournaled');
    for (const f of warnings) io.warn(findingLine(f));
    const match = matchGlob(options.globArchives === undefined ? undefined : expandPlaceholders(options.globArchives));
    const archives = (await listArchives(opened, { onUnreadable: warnUnreadable(io) }))
      .filter((r) => match(r.name))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
      .map((r) => ({ name: r.name, time: isoTime(r.start), start: isoTime(r.start), end: isoTime(r.end), host: r.host, user: r.user, checkpoint: r.checkpoint, comment: r.comment }));
    const template = options.short ? '{name}{NL}' : options.format;
    emit(io, options, { archives, warnings: warnings.map((f) => ({ kind: f.kind, archive: f.archive, reason: f.reason })) }, () => archives.map((a) => (template
      ? formatTemplate(template, { ...a })
      : `${a.name.padEnd(36)} ${localTime(new Date(a.time))}  ${a.host}${a.checkpoint ? ' (checkpoint)' : ''}\n`)).join(''));
    return archives;
  });
}

export function registerRlist(program: Command, io: CliIO): void {
  program.command('rlist').description('list the archives in the repository, oldest first')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob (e.g. "{hostname}-*")')
    .option('--short', 'only the names')
    .option('--format <template>', 'one line per archive from {name} {time} {end} {host} {user} {checkpoint} {comment} {NL} {TAB}')
    .action(async (opts: Omit<RlistOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRlist({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
