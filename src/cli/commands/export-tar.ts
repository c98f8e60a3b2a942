/**
 * `cairn export-tar NAME FILE|-`: an archive (or the paths matching patterns) as a pax tar file, gzip or zstd by the
 * file's extension (or --tar-filter), written under a temporary name and linked into place only when complete, so
 * FILE is never half-written and never replaces an existing file. "-" writes to standard output.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { access, link, open, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { collect, globalsOf, parseCount, repoUrl } from '../options.js';
import { checkTarFilter, compressingSink, dumpArchive, PathNotFoundError, tarEnd, tarFilterOf, type DumpSink, type TarFilter } from '../../index.js';
import { resolveArchiveName } from '../archive-name.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface ExportTarOptions extends RepoCommandOptions {
  name: string;
  /** A file path, or "-" for standard output. */
  file: string;
  patterns: string[];
  exclude?: string[];
  stripComponents?: number;
  /** Compression; default from FILE's extension (none for "-"). */
  tarFilter?: TarFilter;
}

export interface ExportTarSummary {
  archive: string;
  /** The file written (absolute), or "-". */
  file: string;
  filter: TarFilter;
  /** Members written, and bytes of file contents in them (before compression). */
  items: number;
  bytes: number;
}

/** Writes the tar; a failure leaves no FILE (the temporary file is removed). */
export async function runExportTar(options: ExportTarOptions, io: CliIO): Promise<ExportTarSummary> {
  const toStdout = options.file === '-';
  const filter = options.tarFilter ?? (toStdout ? 'none' : tarFilterOf(options.file));
  checkTarFilter(filter);
  const target = toStdout ? '-' : resolve(io.cwd, options.file);
  let handle: FileHandle | undefined;
  let temp: string | undefined;
  let out: DumpSink;
  if (toStdout) {
    if (!io.outBytes) throw new UsageError('this output cannot take bytes');
    out = io.outBytes.bind(io);
  } else {
    if (await access(target).then(() => true, () => false)) throw new UsageError(`${options.file} already exists: remove it or choose another file name`);
    temp = join(dirname(target), `.${basename(target)}.cairn-${randomBytes(6).toString('hex')}.tmp`);
    handle = await open(temp, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new UsageError(`cannot write ${options.file}: its folder ${dirname(target)} does not exist`);
      throw error;
    });
    const h = handle;
    out = async (bytes) => { await h.write(bytes); return true; };
  }
  try {
    const summary = await withRepository(options, io, { readOnly: true }, async (opened) => {
      const name = await resolveArchiveName(opened, options.name);
      const compressor = filter === 'none' ? undefined : compressingSink(out, filter);
      const sink = compressor?.sink ?? out;
      const result = await dumpArchive(opened, name, sink, {
        paths: options.patterns.length ? options.patterns : ['/'], tar: true, exclude: options.exclude, stripComponents: options.stripComponents,
        onWarning: (w) => io.warn(`${w.path}: ${w.message}`),
      });
      if (result.items === 0 && result.unmatched.length > 0) throw new PathNotFoundError(name, result.unmatched);
      for (const p of result.unmatched) io.warn(`pattern "${p}" matched nothing in archive ${name}`);
      // Nothing selected (an empty archive, or everything excluded): still a valid, empty tar.
      if (result.items === 0 && !result.stopped) await sink(tarEnd());
      await compressor?.close();
      return { archive: name, file: target, filter, items: result.items, bytes: result.bytes };
    });
    if (handle && temp) {
      await handle.sync();
      await handle.close();
      handle = undefined;
      // link() never replaces an existing FILE (rename would): the tar appears whole or not at all.
      try {
        await link(temp, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${options.file} already exists: remove it or choose another file name`);
        throw error;
      }
    }
    if (!toStdout) emit(io, options, summary, () => `archive ${summary.archive}: ${summary.items} items, ${formatBytes(summary.bytes)} of file contents written to ${options.file}${filter === 'none' ? '' : ` (${filter})`}`);
    return summary;
  } finally {
    await handle?.close().catch(() => undefined);
    if (temp) await unlink(temp).catch(() => undefined);
  }
}

export function registerExportTar(program: Command, io: CliIO): void {
  program.command('export-tar')
    .description('write archive NAME (or the paths matching PATTERNs) as a POSIX (pax) tar to FILE, or to standard output with "-": long names, nanosecond times, owners, xattrs, hard links, symlinks, devices and FIFOs; sparse files are written dense, sockets skipped (exit 1). FILE ending in .tar.gz/.tgz is gzip, .tar.zst/.tzst zstd (Node 22.15 or later); FILE must not exist and appears only when complete')
    .argument('<name>', 'archive name, "latest" (the newest archive) or with placeholders')
    .argument('<file>', 'the tar file to write, or "-" for standard output')
    .argument('[patterns...]', 'only paths matching these patterns (and what is below them), as extract takes them')
    .option('-e, --exclude <pattern>', 'leave out paths matching the pattern (repeatable)', collect)
    .option('--strip-components <n>', 'remove the first N path elements; items with fewer are left out', parseCount(0))
    .addOption(new Option('--tar-filter <filter>', 'gzip, zstd or none, whatever FILE\'s extension (default: by the extension; none for "-")').choices(['gzip', 'zstd', 'none']))
    .action(async (name: string, file: string, patterns: string[], opts: { exclude?: string[]; stripComponents?: number; tarFilter?: TarFilter }, cmd: Command) => {
      const g = globalsOf(cmd);
      await runExportTar({ ...opts, name, file, patterns, repo: repoUrl(g, io), json: g.json, progress: false }, io);
    });
}
