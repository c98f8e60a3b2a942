/**
 * The one place where the command meets the library: every operation a command needs, typed.
 * Operations whose library part has landed call it; the others reject with `NotAvailableError`
 * (code ENOT_AVAILABLE) until src/index.ts exports them, so the CLI never pretends to work.
 */
export { applyPrunePolicy, hasRules, PruneRulesError, type PruneRules, type PruneDecision } from '../archive/prune-policy.js';

/** An operation the library does not provide yet. */
export class NotAvailableError extends Error {
  readonly code = 'ENOT_AVAILABLE';
  constructor(what: string) {
    super(`${what} is not available in this build of cairn`);
    this.name = 'NotAvailableError';
  }
}

/** Summary of an archive as the listing commands show it. */
export interface ArchiveSummary {
  name: string;
  time: Date;
  checkpoint: boolean;
  host: string;
  user: string;
}

/** A repository opened for a command, with its key. */
export interface OpenedRepository {
  id: string;
  listArchives(): Promise<ArchiveSummary[]>;
  close(): Promise<void>;
}

export interface OpenOptions {
  url: string;
  env: NodeJS.ProcessEnv;
  lock: 'shared' | 'exclusive' | 'none';
}

/** Opens the repository at `url` with the passphrase from the environment or a prompt. */
export async function openRepository(_options: OpenOptions): Promise<OpenedRepository> {
  throw new NotAvailableError('opening a repository (src/index.ts)');
}

/** What a command hands to a library operation besides its own options. */
export interface OperationContext {
  url: string;
  env: NodeJS.ProcessEnv;
  /** Called with running totals for the progress bar. */
  onProgress?(progress: { files: number; bytes: number; totalBytes?: number }): void;
  /** Called for every non-fatal problem (exit code 1). */
  onWarning?(message: string): void;
}

/** A library operation: options in, a JSON-able result out. */
export type Operation<O, R> = (options: O, context: OperationContext) => Promise<R>;

/** Looks up an operation of the library by name; unknown ones reject with NotAvailableError. */
export function operation<O, R>(name: string): Operation<O, R> {
  return async () => { throw new NotAvailableError(`"${name}"`); };
}
