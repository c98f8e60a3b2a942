/**
 * The `cairn` command tree (commander): global options, every command, and the help text.
 * Building it has no side effects; `main.ts` parses process.argv with it, tests parse their own.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { CliIO } from './io.js';
import { configureRun } from './commands/context.js';
import { globalsOf, parseCount, parseDuration, parsePositiveDuration, parsePositiveRate, parseRate, storeLimitsOf } from './options.js';
import { loadPrices } from './prices.js';
import { registerRcreate } from './commands/rcreate.js';
import { registerRinfo } from './commands/rinfo.js';
import { registerRlist } from './commands/rlist.js';
import { registerRdelete } from './commands/rdelete.js';
import { registerCreate } from './commands/create.js';
import { registerList } from './commands/list.js';
import { registerExtract } from './commands/extract.js';
import { registerInfo } from './commands/info.js';
import { registerDiff } from './commands/diff.js';
import { registerDelete } from './commands/delete.js';
import { registerPrune } from './commands/prune.js';
import { registerCompact } from './commands/compact.js';
import { registerCheck } from './commands/check.js';
import { registerKey } from './commands/key.js';
import { registerBreakLock } from './commands/break-lock.js';
import { registerRename } from './commands/rename.js';
import { registerDump } from './commands/dump.js';
import { registerExportTar } from './commands/export-tar.js';
import { registerImportTar } from './commands/import-tar.js';
import { registerFind } from './commands/find.js';
import { registerStats } from './commands/stats.js';
import { registerTransfer } from './commands/transfer.js';
import { registerMount } from './commands/mount.js';
import { registerServe } from './commands/serve.js';
import { registerCompletion } from './commands/completion.js';

export const VERSION = '0.1.0';

export const EPILOG = `
Environment:
  CAIRN_REPO            repository, when -r/--repo is not given
  CAIRN_PASSPHRASE      passphrase of the key
  CAIRN_PASSCOMMAND     command that prints the passphrase (used when CAIRN_PASSPHRASE is unset;
                        run without a shell: use sh -c '...' for pipes)
  CAIRN_NEW_PASSPHRASE  new passphrase for "key change-passphrase"
  CAIRN_KEY_FILE        key file of a keyfile-mode repository (what --key-file sets)
  CAIRN_OTHER_PASSPHRASE, CAIRN_OTHER_PASSCOMMAND, CAIRN_OTHER_KEY_FILE
                        the same for the --other-repo of transfer and rcreate
  CAIRN_SECURITY_DIR    where this machine remembers each repository's key and journals
                        (default $XDG_CONFIG_HOME/cairn/security, i.e. ~/.config/cairn/security)
  CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
                        allow opening an unencrypted repository (none, authenticated) never used here
  XDG_CACHE_HOME        where the files cache and the index cache live (default ~/.cache/cairn)
  XDG_CONFIG_HOME       where key files (cairn/keys) and the security state live (default ~/.config)
  CAIRN_PRICES          JSON price table for the estimated cost line (as --prices)
  CAIRN_PROGRESS_FPS    progress updates per second (default 10 on a terminal, 1 otherwise)

Storage limits (global options; defaults per backend, from its connection capacity):
                        --upload-connections  --download-connections
  s3                    16                    64
  gs, az                8                     32
  fs (a path)           4                     16
  sftp                  2                     8
  Every request is retried on transient failures (timeouts, resets, 429, 5xx but 501) with
  exponential backoff and full jitter, honouring Retry-After, for up to --retry-budget (15m).
  One try may take --timeout (60s) plus its bytes at --min-throughput (64 KiB/s); a download
  fails once no byte arrived for --timeout; a HEAD or DELETE gets half of --timeout. Standard
  error shows a line when failures begin ("retrying for up to ..."), at most one reminder per
  5 minutes, and a line when the store answers again.
  --json results carry "backend": {requests by kind, retries, bytesUp, bytesDown}.

Repositories: a path or file:///path, sftp://user@host:port/path, s3://bucket/prefix,
gs://bucket/prefix, az://account/container/prefix (see docs/cli.md).
Cloud sign-in: gs:// uses Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS: a
service-account key or workload identity federation file; gcloud login; the metadata server).
az:// uses AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN; with
none of them, or with ?auth=entra, Microsoft Entra ID (DefaultAzureCredential: AZURE_TENANT_ID +
AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, managed identity, az login).
An sftp:// host is looked up in ~/.ssh/config (HostName, Port, User, IdentityFile,
UserKnownHostsFile, ProxyJump; the URL wins); CAIRN_SSH_CONFIG=PATH reads that file instead, =none none.

Archive names and globs expand {hostname}, {fqdn}, {user}, {pid}, {now}, {utcnow}, {now:%Y-%m-%d}.

Exit codes: 0 success, 1 success with warnings (e.g. a file vanished), 2 error, 130/143 stopped
by SIGINT/SIGTERM after cleaning up (create keeps what it stored as NAME.checkpoint; the lock is
released). A lock left by a cairn killed on this machine is removed by the next command; use
"cairn break-lock" for one left on another machine, or wait: a lock expires 30 minutes after its
last refresh by the storage's clock (machines' clocks do not matter).

Example:
  export CAIRN_REPO=/backup/repo CAIRN_PASSPHRASE=...
  cairn rcreate --encryption repokey
  cairn create '{hostname}-{now}' ~/Documents
  cairn rlist
  cairn extract '{hostname}-2026-01-01T10:00:00' --dry-run
  cairn prune --keep-daily 7 --keep-weekly 4 --list && cairn compact`;

/** The full command tree, writing through `io`; commander's own exits are turned into errors. */
export function createProgram(io: CliIO, options: { jsonErrors?: boolean } = {}): Command {
  const output = commanderOutput(options.jsonErrors === true);
  const program = new Command('cairn')
    .description('deduplicating, encrypting backups to a folder, SFTP, S3, Google Cloud Storage or Azure Blob')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-r, --repo <url>', 'repository (default: $CAIRN_REPO)')
    .option('--json', 'machine-readable output: JSON on standard output, no progress')
    .option('-v, --verbose', 'say more: create prints what the count of the sources found and each added, modified or unreadable file (as --list --filter AME)')
    .option('--key-file <path>', 'key file of a keyfile-mode repository (default: $CAIRN_KEY_FILE, else ~/.config/cairn/keys/<repository id>)')
    .addOption(new Option('--progress', 'show progress even when standard error is not a terminal (then a line per second, or $CAIRN_PROGRESS_FPS)'))
    .addOption(new Option('--no-progress', 'never show a progress bar'))
    .option('--upload-connections <n>', 'most uploads in flight (default: per backend, see below)', parseCount(1))
    .option('--download-connections <n>', 'most downloads, listings, HEADs and deletes in flight (default: per backend)', parseCount(1))
    .option('--limit-upload <rate>', 'average upload rate: KiB/s, or with a unit (5MiB, 800k, 2MB/s); default unlimited', parseRate)
    .option('--limit-download <rate>', 'average download rate, as --limit-upload; default unlimited', parseRate)
    .option('--retry-budget <duration>', 'how long a failing request is retried before the command fails (90s, 15m, 1h; 0 = no retries); default 15m', parseDuration)
    .option('--timeout <duration>', 'time limit of one request try, plus the time its bytes take at --min-throughput (HEAD/DELETE: half); default 60s', parsePositiveDuration)
    .option('--min-throughput <rate>', 'slowest transfer per request still counted as progress, as --limit-upload; raise it to find stalls sooner; default 64 (KiB/s)', parsePositiveRate)
    .option('--no-cache', 'neither read nor write the local index cache: load the whole index from the repository (the files cache has create --no-files-cache)')
    .option('--prices <file>', 'JSON price table for the estimated cost line (default: $CAIRN_PRICES, else list prices of S3, GCS, Azure)')
    .addHelpText('after', EPILOG)
    .configureOutput(output(io))
    .exitOverride()
    .hook('preAction', (_program, action) => {
      // --key-file reaches every command the way CAIRN_KEY_FILE does, as an absolute path.
      const keyFile = action.optsWithGlobals<{ keyFile?: string }>().keyFile;
      if (keyFile !== undefined) io.env.CAIRN_KEY_FILE = resolve(io.cwd, keyFile);
      const g = globalsOf(action);
      const prices = g.prices ?? io.env.CAIRN_PRICES;
      if (prices) loadPrices(prices, io.cwd); // a bad table fails before any work
      configureRun(io, { command: action.name(), json: g.json, limits: storeLimitsOf(g), prices, noCache: g.cache === false });
    });
  for (const register of [registerRcreate, registerRinfo, registerRlist, registerRdelete, registerCreate, registerList, registerExtract,
    registerInfo, registerDiff, registerDelete, registerPrune, registerCompact, registerCheck, registerKey, registerBreakLock,
    registerCompletion]) {
    register(program, io);
  }
  registerRename(program, io);
  registerDump(program, io);
  registerExportTar(program, io);
  registerImportTar(program, io);
  registerFind(program, io);
  registerStats(program, io);
  registerTransfer(program, io);
  registerMount(program, io);
  registerServe(program, io);
  for (const command of allCommands(program)) command.exitOverride().configureOutput(output(io));
  return program;
}

/**
 * Commander's output through `io`; its usage errors become one "cairn: ..." line like every other
 * error (with --json, the same JSON error line, code EUSAGE).
 */
function commanderOutput(json: boolean) {
  return (io: CliIO) => ({
    writeOut: (s: string) => io.out(s),
    writeErr: (s: string) => io.err(s),
    outputError: (s: string, write: (s: string) => void) => {
      const message = `${s.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see --help)`;
      write(json ? `${JSON.stringify({ error: { code: 'EUSAGE', message } })}\n` : `cairn: ${message}\n`);
    },
  });
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
