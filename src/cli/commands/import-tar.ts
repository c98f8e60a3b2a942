/**
 * `cairn import-tar NAME FILE|-`: a tar file (pax, GNU or ustar; plain, gzip or zstd, told by its first bytes) or
 * standard input stored as a new archive, deduplicated against the repository like `create`. A tar cairn refuses
 * (damaged, truncated, out-of-range numbers, absolute or ".." names) stores no archive.
 */
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { redactSecrets, UsageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { collect, globalsOf, parseCompression, repoUrl } from '../options.js';
import { parseTags } from '../archive-name.js';
import { expandPlaceholders } from '../placeholders.js';
import { importTar, isoTime, pathText, type CreateStats } from '../../index.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface ImportTarCommandOptions extends RepoCommandOptions {
  name: string;
  /** A tar file, or "-" for standard input. */
  file: string;
  compression?: string;
  tag?: string[];
  comment?: string;
  command?: string[];
}

export interface ImportTarSummary {
  archive: { name: string; start: string; end: string };
  stats: CreateStats;
}

/** Imports; the archive exists once this resolves, and not at all when it throws. */
export async function runImportTar(options: ImportTarCommandOptions, io: CliIO): Promise<ImportTarSummary> {
  const name = expandPlaceholders(options.name);
  const fromStdin = options.file === '-';
  let source: AsyncIterable<Uint8Array>;
  let label: string;
  if (fromStdin) {
    if (io.stdinIsTTY) throw new UsageError('"-" reads the tar from standard input, but it is a terminal: pipe it in, e.g. tar -cf - docs | cairn import-tar docs -');
    if (!io.stdin) throw new UsageError('"-" (standard input) is not available here');
    source = io.stdin();
    label = 'tar:stdin';
  } else {
    const path = resolve(io.cwd, options.file);
    // Before the repository is opened: a wrong file name costs no lock.
    if (!(await stat(path)).isFile()) throw new UsageError(`${options.file} is not a file: name a tar file, or "-" for standard input`);
    source = createReadStream(path);
    label = `tar:${path}`;
  }
  const tags = (options.tag ?? []).flatMap(parseTags);
  return withRepository(options, io, { compression: options.compression, handlesInterrupt: true }, async (opened, progress) => {
    const result = await importTar(opened, {
      name, source, label, tags, comment: options.comment, command: options.command, signal: io.interrupt?.signal,
      onProgress: (p) => progress.update({ unit: 'files', count: p.items, bytes: p.bytes, current: pathText(p.path) }),
    });
    progress.stop();
    const summary: ImportTarSummary = {
      archive: { name: result.archive.name, start: isoTime(result.archive.start), end: isoTime(result.archive.end) },
      stats: result.stats,
    };
    const s = result.stats;
    emit(io, options, summary, () => [
      `archive ${name}: ${s.items} items, ${s.files} files imported from ${options.file}, ${(s.durationMs / 1000).toFixed(1)} s`,
      `  files ${formatBytes(s.original)}; new data ${formatBytes(s.deduplicated)} (after deduplication, metadata included), stored as ${formatBytes(s.compressed)}`,
    ].join('\n'));
    return summary;
  });
}

export function registerImportTar(program: Command, io: CliIO): void {
  program.command('import-tar')
    .description('store a tar (pax, GNU or ustar; plain, gzip or zstd, told by its first bytes) as a new archive NAME, deduplicated like create; "-" reads standard input. Names are made relative ("./a" is "a"); a tar with absolute or ".." names, a damaged or truncated one, stores nothing (exit 2)')
    .argument('<name>', 'the new archive\'s name ({hostname}, {now}, {user} are expanded)')
    .argument('<file>', 'the tar file to read, or "-" for standard input')
    .option('-C, --compression <spec>', 'compression of the stored chunks: none, lz4, zstd[,LEVEL], zlib[,LEVEL] or auto[,SPEC]', parseCompression, 'lz4')
    .option('--tag <tag[,tag...]>', 'tag the archive (repeatable; a,b gives two tags), as create does', collect)
    .option('--comment <text>', 'a comment stored with the archive')
    .action(async (name: string, file: string, opts: Omit<ImportTarCommandOptions, 'repo' | 'name' | 'file'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runImportTar({ ...opts, name, file, command: ['cairn', ...process.argv.slice(2).map(redactSecrets)], repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
