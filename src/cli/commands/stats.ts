/**
 * `cairn stats [NAME]`: the repository's size and what the archives hold (original, deduplicated and compressed
 * bytes, ratios, chunk counts) and what each archive added; `rinfo` prints the same repository totals.
 */
import type { Command } from 'commander';
import { ArchiveNotFoundError, isoTime, repositoryStats, type ArchiveUsage, type RepositoryStats } from '../../index.js';
import type { CliIO } from '../io.js';
import { formatBytes, localTime } from '../format.js';
import { globalsOf, repoUrl } from '../options.js';
import { resolveArchiveName } from '../archive-name.js';
import { emit, warnUnreadable, withRepository, type RepoCommandOptions } from './context.js';

export interface StatsCommandOptions extends RepoCommandOptions {
  name?: string;
}

/** The repository totals as JSON and `rinfo` print them. */
export function totalsView(s: RepositoryStats): Record<string, unknown> {
  return {
    size: s.size, segments: s.segments, chunks: s.chunks, stored: s.stored, archives: s.archives, files: s.files,
    original: s.original, deduplicated: s.unique.size, compressed: s.unique.stored, uniqueChunks: s.unique.chunks,
    dedupRatio: round(s.dedupRatio), compressionRatio: round(s.compressionRatio),
    metadataChunks: s.metadata.chunks, metadataStored: s.metadata.stored, missingChunks: s.missing,
  };
}

/** One archive's figures as JSON prints them. */
export function archiveView(a: ArchiveUsage): Record<string, unknown> {
  return {
    name: a.name, time: isoTime(a.start), checkpoint: a.checkpoint, files: a.files, original: a.original,
    deduplicated: a.referenced.size, compressed: a.referenced.stored, chunks: a.referenced.chunks,
    added: { chunks: a.added.chunks, size: a.added.size, stored: a.added.stored },
  };
}

/** The repository totals for people, one line each (shared with `rinfo`). */
export function totalsText(s: RepositoryStats): string {
  const ratio = (r: number | null) => (r === null ? '-' : `${r.toFixed(2)}×`);
  return [
    `repository size   ${formatBytes(s.size)} in ${s.segments} segment(s) (everything stored, garbage until "compact" included)`,
    `chunks            ${s.chunks} (${formatBytes(s.stored)} stored)`,
    `archives          ${s.archives} (${s.files} files)`,
    `original          ${formatBytes(s.original)}  every file of every archive, counted in each`,
    `deduplicated      ${formatBytes(s.unique.size)}  the distinct data chunks, each counted once (${s.unique.chunks} chunks; dedup ratio ${ratio(s.dedupRatio)})`,
    `compressed        ${formatBytes(s.unique.stored)}  their stored size, compressed and encrypted (compression ratio ${ratio(s.compressionRatio)})`,
    `metadata          ${s.metadata.chunks} chunks, ${formatBytes(s.metadata.stored)} stored`,
    ...(s.missing > 0 ? [`missing chunks    ${s.missing} (referenced but not in the index: run "cairn check")`] : []),
  ].join('\n');
}

function round(r: number | null): number | null {
  return r === null ? null : Math.round(r * 1000) / 1000;
}

/** Counts the repository and every archive (or the archives up to NAME, reporting NAME alone). */
export async function runStats(options: StatsCommandOptions, io: CliIO): Promise<RepositoryStats> {
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const name = options.name === undefined ? undefined : await resolveArchiveName(opened, options.name);
    const stats = await repositoryStats(opened, { onUnreadable: warnUnreadable(io) });
    const rows = name === undefined ? stats.perArchive : stats.perArchive.filter((a) => a.name === name);
    if (name !== undefined && rows.length === 0) {
      throw new ArchiveNotFoundError(name);
    }
    const table = [
      `${'archive'.padEnd(30)} ${'time'.padEnd(25)} ${'original'.padStart(11)} ${'dedup.'.padStart(11)} ${'added'.padStart(11)} ${'added stored'.padStart(12)}`,
      ...rows.map((a) => `${a.name.padEnd(30)} ${localTime(new Date(Number(a.start / 1_000_000n))).padEnd(25)} ${formatBytes(a.original).padStart(11)} ${formatBytes(a.referenced.size).padStart(11)} ${formatBytes(a.added.size).padStart(11)} ${formatBytes(a.added.stored).padStart(12)}`),
    ].join('\n');
    emit(io, options, { repository: totalsView(stats), archives: rows.map(archiveView) }, () => (name === undefined ? `${totalsText(stats)}\n\n${table}` : table));
    return stats;
  });
}

export function registerStats(program: Command, io: CliIO): void {
  program.command('stats').description('repository size and what the archives hold: original, deduplicated and compressed bytes, ratios, chunks, and what each archive added (see docs/cli.md for each number)')
    .argument('[name]', 'only this archive\'s row ("latest" and placeholders are expanded)')
    .action(async (name: string | undefined, _opts: object, cmd: Command) => {
      const g = globalsOf(cmd);
      await runStats({ name, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
