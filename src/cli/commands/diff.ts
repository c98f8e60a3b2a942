/** `cairn diff A B [PATTERN...]`: what changed between two archives. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { runOperation, type RepoCommandOptions } from './context.js';

export interface DiffOptions extends RepoCommandOptions {
  a: string;
  b: string;
  patterns: string[];
  contentOnly?: boolean;
  jsonLines?: boolean;
}

export interface DiffEntry { path: string; change: 'added' | 'removed' | 'modified' | 'mode' | 'owner' | 'type' | 'link'; detail?: string }

/** Compares by chunk lists, so unchanged files are not read; prints one line per changed path. */
export async function runDiff(options: DiffOptions, io: CliIO): Promise<void> {
  await runOperation<DiffOptions, { changes: DiffEntry[] }>('diff', options, io,
    (r) => r.changes.map((c) => `${c.change.padEnd(8)} ${c.path}${c.detail ? ` (${c.detail})` : ''}`).join('\n'));
}

export function registerDiff(program: Command, io: CliIO): void {
  program.command('diff').description('show the differences between archives A and B')
    .argument('<a>', 'older archive')
    .argument('<b>', 'newer archive')
    .argument('[patterns...]', 'only paths matching these patterns')
    .option('--content-only', 'ignore changes of mode, owner and times')
    .option('--json-lines', 'one JSON object per change')
    .action(async (a: string, b: string, patterns: string[], opts: Omit<DiffOptions, 'repo' | 'a' | 'b' | 'patterns'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runDiff({ ...opts, a, b, patterns, repo: repoUrl(g, io), json: g.json || opts.jsonLines, progress: g.progress }, io);
    });
}
