/**
 * What every repository command shares: opening the store (`openCliStore`: the limits of the global
 * options, request accounting) and the repository named on the command line with its key
 * (passphrase from the environment or a prompt), always closing them, progress, and output: a
 * command's result is printed once the store is closed, so the `backend` request counts it
 * carries (JSON) or the summary line (text) include the lock's release.
 */
import { InterruptedError, openRepository, openStore, readPassphrase, redactUrl, type OpenedRepository, type Store, type StoreLimits } from '../../index.js';
import type { CliIO } from '../io.js';
import { createProgress, type Progress } from '../progress.js';
import { formatCostLine, formatUsageLine, jsonLine } from '../format.js';
import { estimateCost, pricesFor } from '../prices.js';
import { retryNotices } from '../retry-notice.js';
import picomatch from 'picomatch';

/** What the command line says about this run, beyond a command's own options (set by program.ts). */
export interface RunSettings {
  /** The command's name (`create`, `list`…): decides the summary line and the streaming JSON tail. */
  command?: string;
  /** Global `--json`. */
  json?: boolean;
  /** The global store limits (`--limit-upload`…). */
  limits?: StoreLimits;
  /** `--prices FILE` (or `CAIRN_PRICES`). */
  prices?: string;
  /** Global `--no-cache`: the local index cache is not used. */
  noCache?: boolean;
}

/** Commands whose human summary ends with the request line (and the estimated cost line). */
const SUMMARY_COMMANDS = new Set(['create', 'extract', 'check', 'compact', 'prune', 'transfer']);
/**
 * Commands that print as they go (JSON lines with --json) instead of one result: when the store
 * closes they end with one more line, `{"backend": …}` with --json (and prune, in text, its request line).
 */
const STREAMING_COMMANDS = new Set(['list', 'diff', 'prune']);

const settings = new WeakMap<CliIO, RunSettings>();

/** Records the command line's settings for the run writing to `io` (program.ts, before the action). */
export function configureRun(io: CliIO, run: RunSettings): void {
  settings.set(io, run);
}

/** Whether the run on `io` was given the global `--no-cache` (for commands that open the repository themselves). */
export function noCacheOf(io: CliIO): boolean {
  return settings.get(io)?.noCache === true;
}

/** The store of the current run on `io`, and the result waiting for it to close. */
interface Session {
  store: Store;
  location: string;
  open: boolean;
  emitted: boolean;
  /** The command failed: a streaming command's tail line is not printed. */
  failed?: boolean;
  pending?: () => void;
}

const sessions = new WeakMap<CliIO, Session>();

/**
 * Opens the repository's store through `openStore`, with the global options' limits, and makes it
 * the run's store: results `emit`ted while it is open are printed when it closes, with its counts.
 * Every command opens its store here and nowhere else. `readOnly` wraps it in the store's `readOnly()` (every
 * write refused before it leaves the process): for commands that take no lock (`serve`).
 */
export async function openCliStore(location: string, io: CliIO, options: { readOnly?: boolean } = {}): Promise<Store> {
  const run = settings.get(io);
  const store = await openStore(location, { env: io.env, ...run?.limits, ...noticesOf(io), readOnly: options.readOnly });
  const session: Session = { store, location, open: true, emitted: false };
  sessions.set(io, session);
  const close = store.close.bind(store);
  return Object.assign(store, {
    close: async () => {
      try {
        await close();
      } finally {
        if (session.open) {
          session.open = false;
          const pending = session.pending;
          session.pending = undefined;
          if (pending) {
            sessions.delete(io);
            pending();
          } else if (!session.emitted && !session.failed && run?.command && STREAMING_COMMANDS.has(run.command)) {
            sessions.delete(io);
            if (run.json) io.out(jsonLine({ backend: store.counter.usage() }));
            else if (SUMMARY_COMMANDS.has(run.command)) io.out(`${summaryLines(session, run, io).join('\n')}\n`);
          }
        }
      }
    },
  });
}

/**
 * Opens another store the run needs besides its repository (rcreate's look at the enclosing
 * prefixes), with the same limits, counting into `counter` (the run's store's): a request sent
 * for the command is retried, timed and reported like the others.
 */
export function openSideStore(location: string, io: CliIO, counter: Store['counter']): Promise<Store> {
  return openStore(location, { env: io.env, ...settings.get(io)?.limits, counter, ...noticesOf(io) });
}

/**
 * Opens the other repository of `transfer` and `rcreate --other-repo` (read-only, shared lock) with its own store and
 * request counter (reported as `otherBackend`), the run's limits and retry lines, and its own key: passphrase from
 * CAIRN_OTHER_PASSPHRASE or CAIRN_OTHER_PASSCOMMAND (else a prompt naming it), key file from CAIRN_OTHER_KEY_FILE (else
 * the default location for its id). `close()` closes repository and store; `usage()` is its final accounting.
 */
export async function openOtherRepository(location: string, io: CliIO, options: { lock?: boolean } = {}): Promise<{ opened: OpenedRepository; store: Store; close(): Promise<void> }> {
  const run = settings.get(io);
  const store = await openStore(location, { env: io.env, ...run?.limits, ...noticesOf(io) });
  try {
    const opened = await openRepository(store, {
      passphrase: () => readPassphrase({ env: io.env, prompt: `Enter passphrase of the other repository (${redactUrl(location)}): `, variables: { passphrase: 'CAIRN_OTHER_PASSPHRASE', command: 'CAIRN_OTHER_PASSCOMMAND' } }),
      readOnly: true,
      lock: options.lock,
      keyFile: io.env.CAIRN_OTHER_KEY_FILE || undefined,
      env: io.env,
      indexCache: run?.noCache !== true,
      warn: (message) => io.warn(message),
      // Only chunk ids are read on this side: no pipeline workers.
      workers: 0,
    });
    return {
      opened, store,
      async close() {
        try {
          await opened.close();
        } finally {
          await store.close();
        }
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

const notices = new WeakMap<CliIO, ReturnType<typeof retryNotices>>();

/** The run's retry lines on stderr (retry-notice.ts), one set for every store of the run. */
function noticesOf(io: CliIO): ReturnType<typeof retryNotices> {
  let n = notices.get(io);
  if (!n) notices.set(io, n = retryNotices(io));
  return n;
}

/** The common inputs of every repository command. */
export interface RepoCommandOptions {
  repo: string;
  json?: boolean;
  progress?: boolean;
}

/** How a command needs the repository: lock kind and, for writers, the compression of new chunks. */
export interface OpenMode {
  exclusive?: boolean;
  readOnly?: boolean;
  /** False: take no lock (with readOnly; `create --dry-run`). */
  lock?: boolean;
  compression?: string;
  /** `work` watches `io.interrupt` itself and stops cleanly (create, transfer); otherwise a signal abandons it. */
  handlesInterrupt?: boolean;
  /** Do not read the index objects: `check --repair` rebuilds them from the segments. */
  skipIndex?: boolean;
  /** What a rollback found by the local security state does: refused unless `check` asks to see or accept it. */
  rollback?: 'refuse' | 'report' | 'accept';
}

/** The request line of the session's store, and the estimated cost line when prices are known. */
function summaryLines(session: Session, run: RunSettings, io: CliIO): string[] {
  const usage = session.store.counter.usage();
  const lines = [formatUsageLine(session.store.name, usage)];
  const table = pricesFor(session.store.name, session.location, run.prices, io.cwd);
  if (table) lines.push(formatCostLine(estimateCost(usage, table), table.currency));
  return lines;
}

/**
 * Opens the repository, runs `work`, and closes repository and backend whatever happens. On
 * SIGINT/SIGTERM a command that does not handle the interrupt itself is abandoned with
 * `InterruptedError`: the repository is closed (its lock released) and the progress bar stopped.
 */
export async function withRepository<T>(options: RepoCommandOptions, io: CliIO, mode: OpenMode, work: (opened: OpenedRepository, progress: Progress) => Promise<T>): Promise<T> {
  const backend = await openCliStore(options.repo, io);
  const progress = createProgress(io, options);
  const released = io.interrupt?.hold();
  try {
    const opened = await openRepository(backend, {
      passphrase: () => readPassphrase({ env: io.env }),
      exclusive: mode.exclusive,
      readOnly: mode.readOnly,
      lock: mode.lock,
      skipIndex: mode.skipIndex,
      compression: mode.compression,
      keyFile: io.env.CAIRN_KEY_FILE || undefined,
      rollback: mode.rollback,
      env: io.env,
      indexCache: settings.get(io)?.noCache !== true,
      warn: (message) => io.warn(message),
    });
    try {
      const signal = io.interrupt?.signal;
      if (signal?.aborted) throw new InterruptedError(String(signal.reason));
      if (!signal || mode.handlesInterrupt) return await work(opened, progress);
      let onAbort = (): void => undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new InterruptedError(String(signal.reason)));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([work(opened, progress), aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } finally {
      await opened.close();
    }
  } catch (err) {
    const session = sessions.get(io);
    if (session) session.failed = true;
    throw err;
  } finally {
    progress.stop();
    released?.();
    await backend.close();
  }
}

/** Warns about an archive record that cannot be read, or that the journal does not vouch for, and is skipped (exit code 1 then). */
export function warnUnreadable(io: CliIO): (name: string, error: Error) => void {
  return (name, error) => io.warn((error as { code?: string }).code === 'ESECURITY_REPLACED'
    ? `skipping ${error.message.split('\n')[0]}`
    : `skipping archive ${JSON.stringify(name)}: its record cannot be read (${error.message.split('\n')[0]}); "cairn check --repair" moves it to quarantine/`);
}

/**
 * Prints `result` as one JSON document with --json, else the human text. With a store opened by
 * `openCliStore`, the JSON result gets its request counts as a top-level `backend` object, the
 * summary of create, extract, check, compact and prune one request line (and an estimated cost
 * line when prices are known), and while the store is open, printing waits for it to close.
 */
export function emit(io: CliIO, options: { json?: boolean; stats?: boolean }, result: unknown, human: () => string): void {
  const session = sessions.get(io);
  const print = () => {
    const usage = session?.store.counter.usage();
    if (options.json) {
      io.out(jsonLine(usage && result !== null && typeof result === 'object' && !Array.isArray(result) ? { ...result, backend: usage } : result));
      return;
    }
    const lines = [human().replace(/\n$/, '')].filter((t) => t !== '');
    const run = settings.get(io);
    if (session && run?.command && SUMMARY_COMMANDS.has(run.command) && options.stats !== false) lines.push(...summaryLines(session, run, io));
    if (lines.length) io.out(`${lines.join('\n')}\n`);
  };
  if (session?.open) {
    session.emitted = true;
    session.pending = print;
    return;
  }
  print();
  if (session) sessions.delete(io);
}

/** The archives of the repository whose names match `glob` (all when undefined), oldest first. */
export function matchGlob(glob: string | undefined): (name: string) => boolean {
  return glob === undefined ? () => true : picomatch(glob, { dot: true });
}
