/** `cairn rinfo`: the repository's id, key mode, format, archive and chunk counts, and its totals (as `cairn stats`). */
import type { Command } from 'commander';
import { idKeyFingerprint, listArchiveNames, repositoryStats } from '../../index.js';
import { totalsText, totalsView } from './stats.js';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { emit, warnUnreadable, withRepository, type RepoCommandOptions } from './context.js';

export interface RepositoryInfo {
  id: string;
  version: number;
  encryption: string;
  appendOnly: boolean;
  segmentSize: number;
  /** The repository's retention policy (`null` when it has none): docs/adr/0056-object-retention.md. */
  retention: { mode: string; seconds: number } | null;
  archives: number;
  chunks: number;
  /** Names the chunk-id key: equal for related repositories (`rcreate --other-repo`), which `transfer` can copy between. */
  idKeyFingerprint: string;
  /** Size, original/deduplicated/compressed bytes, ratios: see `cairn stats`. */
  totals: Record<string, unknown>;
}

/** Prints facts about the repository; read-only. */
export async function runRinfo(options: RepoCommandOptions, io: CliIO): Promise<RepositoryInfo> {
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const { config } = opened.repository;
    const stats = await repositoryStats(opened, { onUnreadable: warnUnreadable(io) });
    const facts = {
      id: config.id, version: config.version, encryption: opened.key.mode, appendOnly: config.appendOnly,
      segmentSize: config.segmentSize, archives: (await listArchiveNames(opened)).length, chunks: opened.repository.count,
      idKeyFingerprint: idKeyFingerprint(opened.key),
    };
    const retention = config.retention ? { mode: config.retention.mode, seconds: config.retention.seconds } : null;
    const info: RepositoryInfo = { ...facts, retention, totals: totalsView(stats) };
    const lines = Object.entries(facts).map(([k, v]) => `${k.padEnd(17)} ${String(v)}`);
    lines.splice(5, 0, `${'retention'.padEnd(17)} ${retention ? `${retention.mode}, ${retention.seconds} s after each write` : 'none'}`);
    emit(io, options, info, () => `${lines.join('\n')}\n${totalsText(stats)}`);
    return info;
  });
}

export function registerRinfo(program: Command, io: CliIO): void {
  program.command('rinfo').description('show repository information (id, encryption, archives, chunks) and its totals: size, original, deduplicated and compressed bytes, ratios (as "cairn stats")')
    .action(async (_opts: object, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRinfo({ repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
