/**
 * What every repository command shares: opening the repository named on the command line with its
 * key (passphrase from the environment or a prompt), always closing it, progress, and output.
 */
import { InterruptedError, openBackend, openRepository, readPassphrase, type OpenedRepository } from '../../index.js';
import type { CliIO } from '../io.js';
import { createProgress, type Progress } from '../progress.js';
import { jsonLine } from '../format.js';
import picomatch from 'picomatch';

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
  compression?: string;
  /** `work` watches `io.interrupt` itself and stops cleanly (create); otherwise a signal abandons it. */
  handlesInterrupt?: boolean;
}

/**
 * Opens the repository, runs `work`, and closes repository and backend whatever happens. On
 * SIGINT/SIGTERM a command that does not handle the interrupt itself is abandoned with
 * `InterruptedError`: the repository is closed (its lock released) and the progress bar stopped.
 */
export async function withRepository<T>(options: RepoCommandOptions, io: CliIO, mode: OpenMode, work: (opened: OpenedRepository, progress: Progress) => Promise<T>): Promise<T> {
  const backend = await openBackend(options.repo, { env: io.env });
  const progress = createProgress(io, options);
  const released = io.interrupt?.hold();
  try {
    const opened = await openRepository(backend, {
      passphrase: () => readPassphrase({ env: io.env }),
      exclusive: mode.exclusive,
      readOnly: mode.readOnly,
      compression: mode.compression,
      env: io.env,
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
  } finally {
    progress.stop();
    released?.();
    await backend.close();
  }
}

/** Prints `result` as one JSON document with --json, else the human text. */
export function emit(io: CliIO, options: { json?: boolean }, result: unknown, human: () => string): void {
  if (options.json) io.out(jsonLine(result));
  else {
    const text = human();
    if (text) io.out(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** The archives of the repository whose names match `glob` (all when undefined), oldest first. */
export function matchGlob(glob: string | undefined): (name: string) => boolean {
  return glob === undefined ? () => true : picomatch(glob, { dot: true });
}
