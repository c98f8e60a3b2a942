/**
 * What every repository command shares: opening the repository named on the command line with its
 * key (passphrase from the environment or a prompt), always closing it, progress, and output.
 */
import { openRepository, openStore, readPassphrase, type OpenedRepository } from '../../index.js';
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
}

/** Opens the repository, runs `work`, and closes repository and backend whatever happens. */
export async function withRepository<T>(options: RepoCommandOptions, io: CliIO, mode: OpenMode, work: (opened: OpenedRepository, progress: Progress) => Promise<T>): Promise<T> {
  const backend = await openStore(options.repo, { env: io.env });
  const progress = createProgress(io, options);
  try {
    const opened = await openRepository(backend, {
      passphrase: () => readPassphrase({ env: io.env }),
      exclusive: mode.exclusive,
      readOnly: mode.readOnly,
      compression: mode.compression,
      env: io.env,
    });
    try {
      return await work(opened, progress);
    } finally {
      await opened.close();
    }
  } finally {
    progress.stop();
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
