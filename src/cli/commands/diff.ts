/** `cairn diff A B [PATTERN...]`: what changed between two archives. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { compilePatterns, diffArchives, type DiffChange, type DiffEntry } from '../../index.js';
import { formatBytes, jsonLine } from '../format.js';
import { resolveArchiveName } from '../archive-name.js';
import { withRepository, type RepoCommandOptions } from './context.js';

export interface DiffOptions extends RepoCommandOptions {
  a: string;
  b: string;
  patterns: string[];
  contentOnly?: boolean;
  jsonLines?: boolean;
}

/** Compares by chunk lists, so unchanged files are not read; prints one line per changed path. */
export async function runDiff(options: DiffOptions, io: CliIO): Promise<DiffEntry[]> {
  const selected = options.patterns.length ? compilePatterns(options.patterns) : () => true;
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const all = await diffArchives(opened, await resolveArchiveName(opened, options.a), await resolveArchiveName(opened, options.b), { withTimes: false });
    const entries = all
      .map((e) => ({ ...e, changes: options.contentOnly ? e.changes.filter((c) => ['added', 'removed', 'content'].includes(c.kind)) : e.changes }))
      .filter((e) => e.changes.length > 0 && selected(e.path));
    if (options.json || options.jsonLines) for (const e of entries) io.out(jsonLine(e));
    else for (const e of entries) io.out(`${e.changes.map(describe).join(' ')} ${e.path}\n`);
    return entries;
  });
}

function describe(c: DiffChange): string {
  switch (c.kind) {
    case 'added': return `added ${formatBytes(c.size)}`;
    case 'removed': return `removed ${formatBytes(c.size)}`;
    case 'content': return `+${formatBytes(c.added)} -${formatBytes(c.removed)}`;
    case 'mode': return `[${c.from.toString(8)} -> ${c.to.toString(8)}]`;
    case 'mtime': return '[mtime]';
    default: return `[${c.kind}: ${c.from} -> ${c.to}]`;
  }
}

export function registerDiff(program: Command, io: CliIO): void {
  program.command('diff').description('show the differences between archives A and B')
    .argument('<a>', 'older archive (a name, "latest" or with placeholders)')
    .argument('<b>', 'newer archive')
    .argument('[patterns...]', 'only paths matching these patterns')
    .option('--content-only', 'only paths added, removed or with changed contents (hide mode, owner, type and link target changes)')
    .option('--json-lines', 'one JSON object per change')
    .action(async (a: string, b: string, patterns: string[], opts: Omit<DiffOptions, 'repo' | 'a' | 'b' | 'patterns'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runDiff({ ...opts, a, b, patterns, repo: repoUrl(g, io), json: g.json || opts.jsonLines, progress: g.progress }, io);
    });
}
