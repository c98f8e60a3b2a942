/** `cairn rcreate`: create a new, empty repository with a key of the chosen mode. */
import type { Command } from 'commander';
import { idKeyFingerprint, initRepository, keyFilePath, parseRetentionPeriod, readPassphrase, type BackendUsage, type RetentionPolicy } from '../../index.js';
import type { CliIO } from '../io.js';
import { globalsOf, parseEncryption, repoUrl } from '../options.js';
import { emit, openCliStore, openOtherRepository, openSideStore, type RepoCommandOptions } from './context.js';
import { UsageError } from '../errors.js';
import { enclosingRepository } from '../nesting.js';
import { redactUrl } from '../../index.js';

export interface RcreateOptions extends RepoCommandOptions {
  encryption: string;
  appendOnly?: boolean;
  /** Create missing folders above a folder repository (else refused: ENO_PARENT_FOLDER). */
  makeParentDirs?: boolean;
  /** Make the new repository related to this one (shared chunk-id key and chunker), for `transfer`. */
  otherRepo?: string;
  /** `governance` or `compliance`: keep every object but the locks under retention (with `retentionPeriod`). */
  retentionMode?: string;
  /** How long each object stays retained after it is written: `30d`, `1y`. */
  retentionPeriod?: string;
}

/**
 * The retention the options ask for, or undefined; `UsageError` for half of it or a bad value.
 * A period in seconds (`5s`) is accepted only with `CAIRN_TEST_SHORT_RETENTION=1`, for tests.
 */
export function retentionOf(options: Pick<RcreateOptions, 'retentionMode' | 'retentionPeriod'>, env: NodeJS.ProcessEnv): RetentionPolicy | undefined {
  const { retentionMode: mode, retentionPeriod: period } = options;
  if (mode === undefined && period === undefined) return undefined;
  if (mode === undefined || period === undefined) throw new UsageError('give --retention-mode and --retention-period together, e.g. --retention-mode governance --retention-period 30d');
  if (mode !== 'governance' && mode !== 'compliance') throw new UsageError(`--retention-mode must be governance or compliance, not ${JSON.stringify(mode)}`);
  try {
    return { mode, seconds: parseRetentionPeriod(period, env.CAIRN_TEST_SHORT_RETENTION === '1') };
  } catch (err) {
    throw new UsageError(`--retention-period ${JSON.stringify(period)}: ${(err as Error).message}`);
  }
}

/**
 * Creates the repository; refuses (EREPOSITORY_EXISTS) when one is already there, and (EUSAGE) a
 * location inside another repository, leaving everything unchanged.
 */
export async function runRcreate(options: RcreateOptions, io: CliIO): Promise<RcreateResult> {
  const retention = retentionOf(options, io.env);
  const backend = await openCliStore(options.repo, io);
  let other: Awaited<ReturnType<typeof openOtherRepository>> | undefined;
  try {
    const outer = await enclosingRepository(options.repo, (ancestor) => openSideStore(ancestor, io, backend.counter));
    if (outer !== undefined) throw new UsageError(`${redactUrl(options.repo)} lies inside the repository ${redactUrl(outer)}: choose a location outside it`);
    // The other repository first (its passphrase before the new one's): a refusal there leaves nothing behind.
    if (options.otherRepo !== undefined) other = await openOtherRepository(options.otherRepo, io);
    const opened = await initRepository(backend, {
      relatedTo: other?.opened,
      encryption: options.encryption,
      passphrase: () => readPassphrase({ env: io.env, confirm: true }),
      appendOnly: options.appendOnly,
      makeParentDirs: options.makeParentDirs === true,
      keyFile: io.env.CAIRN_KEY_FILE || undefined,
      env: io.env,
      retention,
    });
    const id = opened.repository.config.id;
    const keyFile = opened.key.mode.startsWith('keyfile-') ? io.env.CAIRN_KEY_FILE || keyFilePath(id, io.env) : undefined;
    await opened.close();
    const done = other;
    other = undefined;
    await done?.close();
    const result: RcreateResult = {
      id, encryption: opened.key.mode, ...(keyFile ? { keyFile } : {}), ...(retention ? { retention } : {}),
      ...(done ? { relatedTo: done.opened.repository.config.id, idKeyFingerprint: idKeyFingerprint(opened.key), otherBackend: done.store.counter.usage() } : {}),
    };
    const related = result.relatedTo ? `\nrelated to repository ${result.relatedTo} (they share the chunk-id key: "cairn transfer --other-repo" copies archives between them)` : '';
    const retained = retention ? `\nEvery object but the locks is kept under ${retention.mode} retention for ${describePeriod(retention.seconds)} after it is written: compact and prune postpone deleting it until then.` : '';
    emit(io, options, result, () => `created repository ${id} (${result.encryption})${related}${retained}\n${backupAdvice(result.encryption, keyFile)}`);
    return result;
  } finally {
    await other?.close();
    await backend.close();
  }
}

/** What `rcreate --json` prints (plus `backend`). */
export interface RcreateResult {
  id: string;
  encryption: string;
  keyFile?: string;
  /** With --other-repo: the other repository's id, the shared id key's fingerprint, and its requests. */
  relatedTo?: string;
  idKeyFingerprint?: string;
  otherBackend?: BackendUsage;
  retention?: RetentionPolicy;
}

function describePeriod(seconds: number): string {
  return seconds % 86_400 === 0 ? `${seconds / 86_400} day(s)` : `${seconds} second(s)`;
}

/** What to keep safe, as Borg and restic say after creating a repository. */
function backupAdvice(mode: string, keyFile: string | undefined): string {
  if (keyFile) return `key file: ${keyFile}\nBack up this key file and keep the passphrase: without both the backups cannot be read. "cairn key export FILE" (or --paper) makes a copy.`;
  if (mode.startsWith('repokey-')) return 'The key is stored in the repository, sealed by your passphrase. Keep the passphrase, and keep a copy of the key elsewhere ("cairn key export FILE", or --paper to print it): if the repository\'s key object is damaged, the backups cannot be read without it.';
  return mode === 'none' ? 'This repository is not encrypted: anyone who can read the store can read the backups.' : 'This repository is authenticated, not encrypted: anyone who can read the store can read the backups. Keep the passphrase.';
}

export function registerRcreate(program: Command, io: CliIO): void {
  program.command('rcreate')
    .description('create a new, empty repository')
    .requiredOption('-e, --encryption <mode>', 'key mode: repokey-aes-ocb, repokey-chacha20-poly1305, keyfile-aes-ocb, keyfile-chacha20-poly1305, authenticated, none (repokey = repokey-aes-ocb, keyfile = keyfile-aes-ocb)', parseEncryption)
    .option('--other-repo <url>', 'make the new repository related to this existing one: it shares its chunk-id key and chunker (equal data, equal chunks), so "transfer --other-repo" can copy archives between them; its own key, passphrase and mode. The other passphrase comes from $CAIRN_OTHER_PASSPHRASE or $CAIRN_OTHER_PASSCOMMAND')
    .option('--append-only', 'refuse every operation that removes data')
    .option('--retention-mode <mode>', 'governance or compliance: the store keeps every object cairn writes (locks excepted) undeletable for --retention-period after it is written (S3 Object Lock; the bucket must have it)')
    .option('--retention-period <duration>', 'how long each object stays retained: whole days or years, e.g. 30d, 1y (at least 1d)')
    .option('--make-parent-dirs', 'create missing folders above a folder (path or sftp) repository; without it rcreate refuses, so a backup drive that is not mounted is not replaced by the disk below it')
    .action(async (opts: Omit<RcreateOptions, 'repo'>, cmd: Command) => {
      const g = globalsOf(cmd);
      await runRcreate({ ...opts, repo: repoUrl(g, io), json: g.json, progress: g.progress }, io);
    });
}
