/** `cairn list NAME [PATTERN...]`: the items of an archive, streaming. */
import type { Command } from 'commander';
import { compilePatterns, DEFAULT_ITEM_FORMAT, formatItem, itemJson, listItems, pathText } from '../../index.js';
import type { CliIO } from '../io.js';
import { jsonLine } from '../format.js';
import { collect, globalsOf, repoUrl } from '../options.js';
import { resolveArchiveName } from '../archive-name.js';
import { patternUse } from '../pattern-use.js';
import { withRepository, type RepoCommandOptions } from './context.js';

export interface ListOptions extends RepoCommandOptions {
  name: string;
  patterns: string[];
  format?: string;
  jsonLines?: boolean;
  exclude?: string[];
}

/** Lists the items of an archive (all or those matching the patterns); returns the count. */
export async function runList(options: ListOptions, io: CliIO): Promise<number> {
  const excluded = options.exclude?.length ? compilePatterns(options.exclude) : () => false;
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    let count = 0;
    const name = await resolveArchiveName(opened, options.name);
    const used = patternUse(options.patterns);
    for await (const item of listItems(opened, name, { patterns: options.patterns.length ? options.patterns : undefined })) {
      used.note(item);
      if (excluded(pathText(item.path))) continue;
      count++;
      io.out(options.jsonLines || options.json ? jsonLine(itemJson(item)) : formatItem(item, options.format ?? DEFAULT_ITEM_FORMAT));
    }
    used.warnUnmatched(io, name);
    return count;
  });
}

export function registerList(program: Command, io: CliIO): void {
  program.command('list')
    .description('list the contents of archive NAME; a file that check --repair salvaged with zeros is marked "[damaged]" (and "damaged": true with --json-lines)')
    .argument('<name>', 'archive name, "latest" (the newest archive) or with placeholders')
    .argument('[patterns...]', 'only paths matching these patterns (and what is below them)')
    .option('-e, --exclude <pattern>', 'leave out paths matching the pattern (repeatable)', collect)
    .option('--format <template>', `one line per item from {mode} {type} {user} {group} {uid} {gid} {size} {mtime} {path} {target} {health} {extra} {NL} {TAB}, {key:<N} / {key:>N} pad (default "${DEFAULT_ITEM_FORMAT.replace('{NL}', '\\n')}")`)
    .option('--json-lines', 'one JSON object per item')
    .action(async (name: string, patterns: string[], opts: Omit<ListOptions, 'repo' | 'name' | 'patterns'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runList({ ...opts, name, patterns, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
