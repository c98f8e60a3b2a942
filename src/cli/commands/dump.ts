/**
 * `cairn dump NAME PATH...` (restic's name) and `cairn extract --stdout NAME PATH...` (Borg's): one file's bytes, or a
 * folder (or several paths) as a tar stream, on standard output. A reader that stops early (`| head -c 10`) ends the
 * command quietly, as `list` does.
 */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, repoUrl } from '../options.js';
import { dumpArchive, PathNotFoundError, type DumpResult } from '../../index.js';
import { resolveArchiveName } from '../archive-name.js';
import { withRepository, type RepoCommandOptions } from './context.js';

export interface DumpCommandOptions extends RepoCommandOptions {
  name: string;
  paths: string[];
  /** A tar stream even for a single file. */
  tar?: boolean;
}

/** Writes the selection to standard output; the result goes to standard error only as warnings. */
export async function runDump(options: DumpCommandOptions, io: CliIO): Promise<DumpResult> {
  if (options.paths.length === 0) throw new UsageError('name the file or folder to write out (PATH; "/" for the whole archive)');
  const write = io.outBytes?.bind(io);
  if (!write) throw new UsageError('this output cannot take bytes');
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const name = await resolveArchiveName(opened, options.name);
    const result = await dumpArchive(opened, name, write, {
      paths: options.paths, tar: options.tar, onWarning: (w) => io.warn(`${w.path}: ${w.message}`),
    });
    if (result.items === 0 && result.unmatched.length > 0) throw new PathNotFoundError(name, result.unmatched);
    for (const p of result.unmatched) io.warn(`pattern "${p}" matched nothing in archive ${name}`);
    return result;
  });
}

/** What `dump` and `extract --stdout` write, for both help texts. */
export function dumpDescription(): string {
  return 'a regular file is written as its bytes; a folder, several paths or "/" (the whole archive) as a POSIX (pax) tar stream';
}

export function registerDump(program: Command, io: CliIO): void {
  program.command('dump')
    .description(`write files of archive NAME to standard output: ${dumpDescription()} (as "extract --stdout")`)
    .argument('<name>', 'archive name, "latest" (the newest archive) or with placeholders')
    .argument('<paths...>', 'archive paths or patterns, as extract takes them ("docs/a.txt", "./docs", "/home/me/docs"; "/" = everything)')
    .option('--tar', 'write a tar stream even for a single file')
    .action(async (name: string, paths: string[], opts: { tar?: boolean }, cmd: Command) => {
      const g = globalsOf(cmd);
      await runDump({ name, paths, tar: opts.tar, repo: repoUrl(g, io), json: g.json, progress: false }, io);
    });
}
