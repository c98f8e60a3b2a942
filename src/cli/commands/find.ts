/** `cairn find PATTERN... [-a GLOB]`: which archives hold matching paths, with size and time (restic's find). */
import type { Command } from 'commander';
import { findItems, formatItem, isoTime, itemJson } from '../../index.js';
import type { CliIO } from '../io.js';
import { localTime } from '../format.js';
import { globalsOf, repoUrl } from '../options.js';
import { addSelectionOptions, selectArchivesFor, type SelectionFlags } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface FindCommandOptions extends RepoCommandOptions, SelectionFlags {
  patterns: string[];
}

/** One archive's matches as printed with --json. */
export interface FoundArchive { archive: string; time: string; host: string; matches: Record<string, unknown>[] }

const LINE = '{mode} {user:<8} {group:<8} {size:>10} {mtime} {path}{extra}{NL}';

/** Searches the archives (oldest first, checkpoints left out); a pattern that matched nothing anywhere is a warning. */
export async function runFind(options: FindCommandOptions, io: CliIO): Promise<FoundArchive[]> {
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    // Oldest first, checkpoints left out, then -a/--host/--path/--tag/--first/--last (archive-name.ts).
    const records = (await selectArchivesFor(opened, options, io)).filter((r) => !r.checkpoint);
    const found = await findItems(opened, options.patterns, { records });
    for (const p of found.unmatched) io.warn(`pattern "${p}" matched nothing in the ${found.searched} archive(s) searched`);
    const view = found.hits.map((h) => ({ archive: h.archive.name, time: isoTime(h.archive.start), host: h.archive.host, matches: h.items.map(itemJson) }));
    emit(io, { json: options.json }, { archives: view, searched: found.searched, unmatched: found.unmatched }, () => found.hits.map((h) =>
      `archive ${h.archive.name} (${localTime(new Date(Number(h.archive.start / 1_000_000n)))}, ${h.archive.host}):\n${h.items.map((i) => `  ${formatItem(i, LINE)}`).join('')}`).join('\n'));
    return view;
  });
}

export function registerFind(program: Command, io: CliIO): void {
  const command = program.command('find').description('find the archives that hold paths matching PATTERNs (oldest first), with mode, owner, size and time of each match; a pattern that matches nothing is a warning (exit 1)')
    .argument('<patterns...>', 'patterns as extract takes them: "home/me/notes.txt", "fm:*.pdf" (any depth), "sh:**/notes.*", "re:\\\\.conf$", "pp:etc"')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob');
  addSelectionOptions(command, 'search')
    .action(async (patterns: string[], opts: SelectionFlags, cmd: Command) => {
      const g = globalsOf(cmd);
      await runFind({ ...opts, patterns, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
