/**
 * `delete`: remove archive records by name or glob. Space is freed later by `compact`
 * (mark and sweep), so a delete is one small, atomic operation per archive.
 */
import picomatch from 'picomatch';
import { listArchiveNames, recordId, recordName } from './archive-record.js';
import { ArchiveNotFoundError } from './errors.js';
import type { ArchiveContext } from './ports.js';
import { RetainedObjectError } from '../store/errors.js';

export interface DeleteOptions {
  /** Exact names; a missing one → `ArchiveNotFoundError` before anything is deleted. */
  names?: readonly string[];
  /** A shell glob over archive names (`*` does not cross "/", which names never contain). */
  glob?: string;
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean;
  /**
   * Told of each archive whose record the store still keeps under retention (a repository created
   * with --retention-mode): it stays, and a later delete or prune removes it once its retention has
   * ended. Without it, such an archive fails the call with `RetainedObjectError` (ERETAINED).
   */
  onPostponed?: (name: string, until: Date | undefined) => void;
}

/** Deletes the selected archives; returns the names deleted, in order (postponed ones excepted). Refused in append-only mode. */
export async function deleteArchives(ctx: ArchiveContext, options: DeleteOptions): Promise<string[]> {
  const existing = await listArchiveNames(ctx);
  const chosen = new Set<string>();
  for (const name of options.names ?? []) {
    if (!existing.includes(name)) throw new ArchiveNotFoundError(name);
    chosen.add(name);
  }
  if (options.glob !== undefined) {
    const match = picomatch(options.glob, { dot: true });
    for (const name of existing) if (match(name)) chosen.add(name);
  }
  const names = existing.filter((n) => chosen.has(n));
  if (options.dryRun) return names;
  // Journaled before the records go: an interruption in between leaves a record the journal calls deleted
  // ("undeleted", finished by deleting again), never an archive that vanished without a trace.
  if (ctx.journal && names.length > 0 && !ctx.repository.config.appendOnly) {
    const removed = [];
    for (const name of names) {
      const id = await recordId(ctx, name);
      if (id) removed.push({ name, id });
    }
    await ctx.journal.append({ removed });
  }
  const deleted: string[] = [];
  for (const name of names) {
    try {
      await ctx.repository.deleteRecord(recordName(name));
      deleted.push(name);
    } catch (err) {
      if (!(err instanceof RetainedObjectError) || !options.onPostponed) throw err;
      options.onPostponed(name, err.retainUntil);
    }
  }
  return deleted;
}
