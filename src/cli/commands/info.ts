/** `cairn info [NAME]`: details and statistics of one archive, or of every archive. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { archiveInfo, hasSelection, isUnreadableRecord, isoTime, readArchive, listArchiveNames, type ArchiveInfo } from '../../index.js';
import { UsageError } from '../errors.js';
import { addSelectionOptions, resolveArchiveName, selectArchivesFor, selectionOf, type SelectionFlags } from '../archive-name.js';
import { emit, warnUnreadable, withRepository, type RepoCommandOptions } from './context.js';

export interface InfoOptions extends RepoCommandOptions, SelectionFlags {
  name?: string;
}

/** Prints name, times, host, user, command line and the stats recorded by create. */
export async function runInfo(options: InfoOptions, io: CliIO): Promise<ArchiveInfo[]> {
  const selecting = hasSelection(selectionOf(options, io));
  if (options.name !== undefined && selecting) throw new UsageError('give an archive name or filters (-a, --host, --path, --tag, --first, --last), not both');
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const names = options.name !== undefined ? [await resolveArchiveName(opened, options.name)]
      : selecting ? (await selectArchivesFor(opened, options, io)).map((a) => a.name) : await listArchiveNames(opened);
    const infos: ArchiveInfo[] = [];
    const skip = warnUnreadable(io);
    for (const name of names) {
      // One named archive fails as is; of all archives, a record that cannot be read is skipped with a warning.
      if (options.name === undefined) {
        const readable = await readArchive(opened, name).then(() => true, (error: unknown) => {
          if (!isUnreadableRecord(error)) throw error;
          skip(name, error);
          return false;
        });
        if (!readable) continue;
      }
      infos.push(await archiveInfo(opened, name));
    }
    const view = infos.map((i) => ({
      name: i.name, start: isoTime(i.start), end: isoTime(i.end), duration: i.duration, host: i.host, user: i.user,
      command: i.command.join(' '), paths: i.paths, tags: i.tags, comment: i.comment, checkpoint: i.checkpoint, items: i.itemCount, ...i.stats,
      uniqueChunks: i.uniqueChunks, uniqueSize: i.uniqueSize,
    }));
    emit(io, options, { archives: view }, () => view.map((v) => Object.entries(v).map(([k, x]) => `${k.padEnd(14)} ${Array.isArray(x) ? x.join(' ') : String(x)}`).join('\n')).join('\n\n'));
    return infos;
  });
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
