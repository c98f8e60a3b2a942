/** `cairn info [NAME]`: details and statistics of one archive, or of every archive. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { archiveInfo, hasSelection, isoTime, type ArchiveInfo } from '../../index.js';
import { UsageError } from '../errors.js';
import { formatBytes, localTime } from '../format.js';
import { addSelectionOptions, resolveArchiveName, selectArchivesFor, selectionOf, type SelectionFlags } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface InfoOptions extends RepoCommandOptions, SelectionFlags {
  name?: string;
}

/** Prints name, times, host, user, command line and the stats recorded by create. */
export async function runInfo(options: InfoOptions, io: CliIO): Promise<ArchiveInfo[]> {
  const selecting = hasSelection(selectionOf(options, io));
  if (options.name !== undefined && selecting) throw new UsageError('give an archive name or filters (-a, --host, --path, --tag, --first, --last), not both');
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    // One named archive fails as is; of the selection (all archives by default, oldest first as in
    // rlist), a record that cannot be read is skipped with a warning.
    const names = options.name !== undefined ? [await resolveArchiveName(opened, options.name)]
      : (await selectArchivesFor(opened, options, io)).map((a) => a.name);
    const infos: ArchiveInfo[] = [];
    for (const name of names) infos.push(await archiveInfo(opened, name));
    const view = infos.map((i) => ({
      name: i.name, start: isoTime(i.start), end: isoTime(i.end), durationMs: Math.round(i.duration * 1000), host: i.host, user: i.user,
      command: i.command.join(' '), paths: i.paths, tags: i.tags, comment: i.comment, checkpoint: i.checkpoint, items: i.itemCount, ...i.stats,
      uniqueChunks: i.uniqueChunks, uniqueSize: i.uniqueSize,
    }));
    emit(io, options, { archives: view }, () => infos.map(humanInfo).join('\n\n'));
    return infos;
  });
}

/** One archive for people: local times with their zone, sizes with units (exact bytes in --json). */
function humanInfo(i: ArchiveInfo): string {
  const s = i.stats;
  const rows: [string, string][] = [
    ['name', i.name], ['start', localTime(new Date(Number(i.start / 1_000_000n)))], ['end', localTime(new Date(Number(i.end / 1_000_000n)))],
    ['duration', `${i.duration.toFixed(1)} s`], ['host', i.host], ['user', i.user], ['command', i.command.join(' ')],
    ...(i.paths.length ? [['paths', i.paths.join(' ')] as [string, string]] : []), ...(i.tags.length ? [['tags', i.tags.join(',')] as [string, string]] : []),
    ...(i.comment ? [['comment', i.comment] as [string, string]] : []), ...(i.checkpoint ? [['checkpoint', 'yes (an interrupted backup)'] as [string, string]] : []),
    ['items', `${i.itemCount} (${s.files} files)`],
    ['files size', `${formatBytes(s.original)} (the files' contents)`],
    ['new data', `${formatBytes(s.deduplicated)} (added to the repository by this backup, before compression)`],
    ['stored as', `${formatBytes(s.compressed)} (that new data compressed and encrypted)`],
    ['unique data', `${formatBytes(i.uniqueSize)} in ${i.uniqueChunks} chunks (the archive's contents deduplicated within itself)`],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

export function registerInfo(program: Command, io: CliIO): void {
  const command = program.command('info').description('show details of archive NAME (or of all archives): times, host, user, command line, source paths, tags, comment, statistics')
    .argument('[name]', 'archive name, "latest" or with placeholders (default: every archive)')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob');
  addSelectionOptions(command, 'show')
    .action(async (name: string | undefined, opts: Omit<InfoOptions, 'repo' | 'name'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runInfo({ ...opts, name, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
