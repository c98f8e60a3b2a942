/**
 * `cairn -r DST transfer --other-repo SRC`: copy the archives of a related repository that this one lacks (Borg 2's
 * `transfer`). Both sides take shared locks only; the other repository is opened read-only with its own key and
 * accounting (`otherBackend` in --json).
 */
import type { Command } from 'commander';
import { redactUrl, transferArchives, type BackendUsage, type TransferResult } from '../../index.js';
import { formatBytes, formatUsageLine } from '../format.js';
import type { CliIO } from '../io.js';
import { globalsOf, parseCompression, repoUrl } from '../options.js';
import { expandPlaceholders } from '../placeholders.js';
import { emit, matchGlob, openOtherRepository, withRepository, type RepoCommandOptions } from './context.js';

export interface TransferCommandOptions extends RepoCommandOptions {
  otherRepo: string;
  globArchives?: string;
  dryRun?: boolean;
  includeCheckpoints?: boolean;
  compression?: string;
}

/** What `transfer --json` prints (plus `backend`, the destination's requests, added by `emit`). */
export interface TransferSummary extends TransferResult {
  /** The other repository's location (credentials removed). */
  otherRepo: string;
  /** The other (source) repository's requests, retries and bytes, as `backend` is for this one. */
  otherBackend: BackendUsage;
}

/** Copies the archives this repository lacks from the other one; see docs/cli.md ("transfer"). */
export async function runTransfer(options: TransferCommandOptions, io: CliIO): Promise<TransferSummary> {
  const dryRun = options.dryRun === true;
  // A dry run takes no lock on this side and opens it read-only: it is left byte for byte as it was.
  const mode = dryRun ? { readOnly: true, lock: false, handlesInterrupt: true } : { compression: options.compression, handlesInterrupt: true };
  return withRepository(options, io, mode, async (dst, progress) => {
    const other = await openOtherRepository(options.otherRepo, io);
    let result: TransferResult;
    try {
      result = await transferArchives(dst, other.opened, {
        match: options.globArchives === undefined ? undefined : matchGlob(expandPlaceholders(options.globArchives)),
        includeCheckpoints: options.includeCheckpoints === true,
        dryRun,
        signal: io.interrupt?.signal,
        onUnreadable: (name, error) => io.warn(`skipping archive ${JSON.stringify(name)} of the other repository: its record cannot be read (${error.message.split('\n')[0]}); "cairn -r SRC check" shows why`),
        onNameTaken: (name) => io.warn(`skipping archive ${JSON.stringify(name)}: this repository has another archive of that name (rename one with "cairn rename")`),
        onProgress: (p) => progress.update({ unit: 'chunks', count: p.chunks, bytes: p.bytes, current: `${p.archive} (${p.archivesDone + 1}/${p.archivesTotal})` }),
      });
    } finally {
      await other.close();
    }
    progress.stop();
    const summary: TransferSummary = { ...result, otherRepo: redactUrl(options.otherRepo), otherBackend: other.store.counter.usage() };
    emit(io, options, summary, () => humanSummary(summary, dryRun, other.store.name));
    return summary;
  });
}

function humanSummary(s: TransferSummary, dryRun: boolean, otherKind: string): string {
  const lines = s.archives.map((a) => {
    if (a.status === 'transferred') return `${dryRun ? 'would transfer' : 'transferred'} ${a.name}: ${a.chunks} chunks, ${formatBytes(a.bytes)}${dryRun ? '' : ` (stored as ${formatBytes(a.stored)})`}`;
    return `${a.status === 'present' ? 'already here' : a.status === 'checkpoint' ? 'skipped checkpoint' : 'skipped (name taken)'} ${a.name}`;
  });
  const verb = dryRun ? 'would copy' : 'copied';
  lines.push(`${s.transferred} archive(s), ${verb} ${s.chunks} chunks, ${formatBytes(s.bytes)}${dryRun ? '' : ` stored as ${formatBytes(s.stored)}`}; ${s.present} chunk references already here; ${(s.durationMs / 1000).toFixed(1)} s`);
  lines.push(`other repository, ${formatUsageLine(otherKind, s.otherBackend)}`);
  return lines.join('\n');
}

export function registerTransfer(program: Command, io: CliIO): void {
  program.command('transfer')
    .description('copy the archives of a related repository (--other-repo) that this one lacks: only missing chunks are sent, re-encrypted with this repository\'s key; a rerun continues where an interrupted one stopped')
    .requiredOption('--other-repo <url>', 'the repository to copy from (it must share this one\'s chunk-id key: made with "rcreate --other-repo"); its passphrase comes from $CAIRN_OTHER_PASSPHRASE or $CAIRN_OTHER_PASSCOMMAND, its key file from $CAIRN_OTHER_KEY_FILE')
    .option('-a, --glob-archives <glob>', 'only archives whose name matches the glob')
    .option('-n, --dry-run', 'count what would be copied (reads the item streams of the other repository), write nothing')
    .option('--include-checkpoints', 'copy checkpoint archives (NAME.checkpoint) too; skipped by default')
    .option('-C, --compression <spec>', 'compression of the chunks written here: none, lz4, zstd[,LEVEL], zlib[,LEVEL] or auto[,SPEC]', parseCompression, 'lz4')
    .addHelpText('after', `
Once: cairn -r DST rcreate --other-repo SRC --encryption repokey   (DST shares SRC's chunk-id key)
Then, e.g. nightly after the local backup:
  CAIRN_PASSPHRASE=<DST's> CAIRN_OTHER_PASSPHRASE=<SRC's> cairn -r s3://bucket/offsite transfer --other-repo /backup/local
Exit codes: 0 ok; 1 warnings (an archive name taken by another archive here, a source record that
cannot be read); 2 error (unrelated repositories: EUNRELATED_REPOSITORY); 130/143 stopped by
SIGINT/SIGTERM, what was copied is committed and a rerun continues. See docs/replication.md.`)
    .action(async (opts: Omit<TransferCommandOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runTransfer({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
