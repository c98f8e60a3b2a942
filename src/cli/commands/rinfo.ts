/** `cairn rinfo`: the repository's id, key mode, format, archive and chunk counts. */
import type { Command } from 'commander';
import { listArchiveNames } from '../../index.js';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface RepositoryInfo {
  id: string;
  version: number;
  encryption: string;
  appendOnly: boolean;
  segmentSize: number;
  archives: number;
  chunks: number;
}

/** Prints facts about the repository; read-only. */
export async function runRinfo(options: RepoCommandOptions, io: CliIO): Promise<RepositoryInfo> {
  return withRepository(options, io, { readOnly: true }, async (opened) => {
    const { config } = opened.repository;
    const info: RepositoryInfo = {
      id: config.id, version: config.version, encryption: opened.key.mode, appendOnly: config.appendOnly,
      segmentSize: config.segmentSize, archives: (await listArchiveNames(opened)).length, chunks: opened.repository.count,
    };
    emit(io, options, info, () => Object.entries(info).map(([k, v]) => `${k.padEnd(12)} ${String(v)}`).join('\n'));
    return info;
  });
}

export function registerRinfo(program: Command, io: CliIO): void {
  program.command('rinfo').description('show repository information (id, encryption, archives, chunks)')
    .action(async (_opts: object, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRinfo({ repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
