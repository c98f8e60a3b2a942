/** `cairn rlist`: the archives of the repository, oldest first. */
import type { Command } from 'commander';
import { auditArchiveSet, isoTime, type ArchiveSetFinding } from '../../index.js';
import type { CliIO } from '../io.js';
import { formatTemplate, localTime } from '../format.js';
import { globalsOf, repoUrl } from '../options.js';
import { addSelectionOptions, selectArchivesFor, type SelectionFlags } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface RlistOptions extends RepoCommandOptions, SelectionFlags {
  format?: string;
  short?: boolean;
}

/** An archive as listed. */
export interface ListedArchive {
  name: string; time: string; start: string; end: string; host: string; user: string; checkpoint: boolean; comment: string;
  /** The sources backed up (absolute; `stdin:NAME` for standard input); empty for archives made before cairn recorded them. */
  paths: string[];
  tags: string[];
}

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
    const archives: ListedArchive[] = (await selectArchivesFor(opened, options, io)).map((r) => ({
      name: r.name, time: isoTime(r.start), start: isoTime(r.start), end: isoTime(r.end), host: r.host, user: r.user, checkpoint: r.checkpoint, comment: r.comment,
      paths: r.paths, tags: r.tags,
    }));
    const template = options.short ? '{name}{NL}' : options.format;
    emit(io, options, { archives, warnings: warnings.map((f) => ({ kind: f.kind, archive: f.archive, reason: f.reason })) }, () => archives.map((a) => (template
      ? formatTemplate(template, { ...a, paths: a.paths.join(' '), tags: a.tags.join(',') })
      : `${row(a)}\n`)).join(''));
    return archives;
  });
}

/** A table row: name, local time, host, tags in brackets, the source paths; `(checkpoint)` marks checkpoints. */
function row(a: ListedArchive): string {
  const tags = a.tags.length ? ` [${a.tags.join(',')}]` : '';
  return `${a.name.padEnd(36)} ${localTime(new Date(a.time))}  ${a.host}${tags}  ${a.paths.join(' ')}${a.checkpoint ? ' (checkpoint)' : ''}`.trimEnd();
}

export function registerRlist(program: Command, io: CliIO): void {
  const command = program.command('rlist').description('list the archives in the repository, oldest first: name, time, host, [tags], source paths')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob (e.g. "{hostname}-*")');
  addSelectionOptions(command)
    .option('--short', 'only the names')
    .option('--format <template>', 'one line per archive from {name} {time} {end} {host} {user} {paths} {tags} {checkpoint} {comment} {NL} {TAB} ({paths} space-separated, {tags} comma-separated)')
    .action(async (opts: Omit<RlistOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRlist({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
