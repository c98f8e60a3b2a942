/**
 * `cairn rdelete`: delete the repository. Only objects cairn wrote are deleted (anything else in the
 * folder or prefix is left and named); it needs the key (proof of ownership), the exclusive lock, a
 * typed confirmation on a terminal or `--yes`, and it is refused in append-only mode.
 */
import type { Command } from 'commander';
import { rmdir } from 'node:fs/promises';
import { localRepositoryState, openBackend, redactUrl, removeLocalRepositoryState, type DestroyReport } from '../../index.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../errors.js';
import { globalsOf, repoUrl } from '../options.js';
import { emit, withRepository, type RepoCommandOptions } from './context.js';

export interface RdeleteOptions extends RepoCommandOptions {
  yes?: boolean;
  dryRun?: boolean;
}

/** What `rdelete --json` prints. */
export interface RdeleteResult {
  objects: number;
  deleted: boolean;
  /** Objects in the store that cairn did not write: never deleted. */
  kept: string[];
  /**
   * This machine's traces of the repository removed after it (with --dry-run: that would be): the
   * key file at its default place (keyfile modes) and its `.prev`, the security state folder, the files cache.
   */
  localRemoved: string[];
  dryRun: boolean;
}

/** Keys of other objects shown in the human message; the JSON result lists them all. */
const SHOWN = 5;

/** Deletes the repository after the checks above; `--dry-run` only counts. */
export async function runRdelete(options: RdeleteOptions, io: CliIO): Promise<RdeleteResult> {
  const typed = !options.yes && !options.dryRun;
  if (typed && !(io.isTTY && io.stdinIsTTY && io.readLine)) throw new UsageError('rdelete removes every archive and the key: add --yes to confirm (or run it on a terminal; --dry-run shows what it would delete)');
  const where = redactUrl(options.repo);
  let id = '';
  const report = await withRepository(options, io, { exclusive: true }, async (opened) => {
    id = opened.repository.config.id;
    const plan = await opened.repository.destroy({ dryRun: true });
    if (options.dryRun) return plan;
    if (typed) {
      const answer = await io.readLine!(`This deletes repository ${opened.repository.config.id} at ${where} (${plan.deleted} objects, every archive and the key).\nType the repository location (${where}) to confirm: `);
      if (answer === undefined) throw new UsageError('rdelete removes every archive and the key: add --yes to confirm (no terminal to ask on)');
      if (answer.trim() !== where) throw new UsageError('confirmation did not match the repository location: nothing was deleted');
    }
    return opened.repository.destroy();
  });
  if (!options.dryRun && report.kept.length === 0) await removeEmptyFolder(options, io);
  // The repository is gone: its key file, security state and files cache on this machine go too (as Borg's delete does).
  const local = options.dryRun ? await localRepositoryState(id, io.env) : await removeLocalRepositoryState(id, io.env);
  const result: RdeleteResult = { objects: report.deleted, deleted: !options.dryRun, kept: report.kept, localRemoved: local, dryRun: options.dryRun === true };
  emit(io, options, result, () => [
    `${options.dryRun ? 'would delete' : 'deleted'} the repository (${report.deleted} objects)`,
    ...local.map((p) => `${options.dryRun ? 'would remove' : 'removed'} ${p}`),
    ...(io.env.CAIRN_KEY_FILE ? [`kept the key file given with --key-file / CAIRN_KEY_FILE: ${io.env.CAIRN_KEY_FILE}`] : []),
  ].join('\n'));
  if (report.kept.length > 0) io.warn(keptMessage(report, options.dryRun === true));
  return result;
}

function keptMessage(report: DestroyReport, dryRun: boolean): string {
  const names = report.kept.slice(0, SHOWN).map((k) => JSON.stringify(k)).join(', ');
  const more = report.kept.length > SHOWN ? ` and ${report.kept.length - SHOWN} more` : '';
  return `${dryRun ? 'would keep' : 'kept'} ${report.kept.length} objects that cairn did not write: ${names}${more}`;
}

/** A folder repository left empty is removed too (rmdir removes only an empty folder, never files). */
async function removeEmptyFolder(options: RdeleteOptions, io: CliIO): Promise<void> {
  const backend = await openBackend(options.repo, { env: io.env });
  try {
    if (backend.name === 'fs') await rmdir(backend.location).catch(() => undefined);
  } finally {
    await backend.close();
  }
}

export function registerRdelete(program: Command, io: CliIO): void {
  program.command('rdelete').description('delete the repository: every archive, the key and the config (needs the passphrase; objects cairn did not write are kept), then this machine\'s key file, security state and files cache of it')
    .option('--yes', 'do not ask: needed when not on a terminal (on a terminal, rdelete asks you to type the repository location)')
    .option('-n, --dry-run', 'only show what would be deleted')
    .action(async (opts: Omit<RdeleteOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRdelete({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
