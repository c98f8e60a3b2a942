/**
 * `cairn serve [--listen HOST:PORT]`: a local web app to browse and download from the repository's archives. The
 * store is opened read-only (the `readOnly` wrapper refuses every write before it leaves the process) and no lock is
 * taken, so the server never writes to the repository and never holds up `compact`; see docs/adr/0058-serve.md.
 * It runs until SIGINT/SIGTERM, then closes its connections and the repository and exits 0.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Command } from 'commander';
import { openRepository, readPassphrase, redactUrl, type Store } from '../../index.js';
import { UsageError } from '../errors.js';
import { jsonLine } from '../format.js';
import type { CliIO } from '../io.js';
import { globalsOf, repoUrl } from '../options.js';
import type { ServeView } from '../serve/view.js';
import { noCacheOf, openCliStore, type RepoCommandOptions } from './context.js';

export interface ServeCommandOptions extends RepoCommandOptions {
  /** `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`; default `127.0.0.1:0` (a free port). */
  listen?: string;
}

/** A running server: its URL (with the token), the view, and `close()`. */
export interface RunningServe {
  url: string;
  view: ServeView;
  store: Store;
  close(): Promise<void>;
}

/** `HOST:PORT` → host and port; a usage error (exit 2) for anything else. */
export function parseListen(text: string | undefined): { host: string; port: number } {
  if (text === undefined || text === '') return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$|^(\d+)$/.exec(text);
  const port = Number(m?.[3] ?? m?.[4]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new UsageError(`--listen takes HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, :8080), not "${text}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Opens the repository read-only and starts the server; the caller stops it with `close()`. */
export async function startServe(options: ServeCommandOptions, io: CliIO): Promise<RunningServe> {
  const { host, port } = parseListen(options.listen);
  // Loaded here, not with the program: the pages and their assets cost every other command ~65 ms of start-up.
  const [{ createServeServer }, { ServeView }] = await Promise.all([import('../serve/server.js'), import('../serve/view.js')]);
  const store = await openCliStore(options.repo, io, { readOnly: true });
  let view: ServeView | undefined;
  let server: Server | undefined;
  try {
    // Asked once: the repository is opened again (same key) when it changes under the server.
    let passphrase: Promise<string> | undefined;
    view = await ServeView.create(store, () => openRepository(store, {
      passphrase: () => (passphrase ??= readPassphrase({ env: io.env })),
      readOnly: true,
      lock: false,
      keyFile: io.env.CAIRN_KEY_FILE || undefined,
      env: io.env,
      indexCache: !noCacheOf(io),
      warn: (message) => io.warn(message),
      workers: 0,
    }));
    const token = randomBytes(24).toString('base64url');
    server = createServeServer({ view, token, repo: redactUrl(options.repo), env: io.env });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE'
        ? new UsageError(`${host}:${port} is in use: choose another port with --listen HOST:PORT (port 0 picks a free one)`)
        : error));
      listening.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${shown}:${address.port}/?token=${token}`;
    const opened = view;
    return {
      url, view, store,
      async close() {
        listening.closeAllConnections();
        await new Promise<void>((resolve) => listening.close(() => resolve()));
        await opened.close();
        await store.close();
      },
    };
  } catch (error) {
    server?.close();
    await view?.close().catch(() => undefined);
    await store.close();
    throw error;
  }
}

/** Serves until SIGINT/SIGTERM (or, run in-process without signals, until `stop` resolves). */
export async function runServe(options: ServeCommandOptions, io: CliIO, stop?: Promise<void>): Promise<void> {
  const { host } = parseListen(options.listen);
  const running = await startServe(options, io);
  const released = io.interrupt?.hold();
  try {
    if (options.json) io.out(jsonLine({ url: running.url, readOnly: true }));
    else io.out(`${running.url}\n`);
    io.err(`cairn serve: ${redactUrl(options.repo)} read-only, no lock; open the URL above (it holds this run's access token). Ctrl-C stops.\n`);
    if (!LOOPBACK.test(host)) io.err(`cairn serve: listening on ${host}, beyond this machine, over plain HTTP: anyone who sees the URL can read every archive\n`);
    const signal = io.interrupt?.signal;
    await new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
      void stop?.then(resolve);
    });
  } finally {
    try {
      await running.close();
    } finally {
      released?.();
    }
  }
}

export function registerServe(program: Command, io: CliIO): void {
  program.command('serve')
    .description('browse the archives in a web browser (read-only): archive list and chart, folders, search across archives, downloads (files with HTTP ranges, folders as tar), previews, diffs, repository facts. Prints a URL with a one-time access token; Ctrl-C stops')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1 and a free port; e.g. 127.0.0.1:8080)')
    .addHelpText('after', '\nThe server never writes to the repository: it opens the store read-only and takes no lock, so backups, prune and compact\nmay run meanwhile (it reloads when the archives change). Every request needs the token of the printed URL (kept in a\ncookie once opened). See docs/serve.md.')
    .action(async (opts: { listen?: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      await runServe({ repo: repoUrl(g, io), json: g.json, progress: false, listen: opts.listen }, io);
    });
}
