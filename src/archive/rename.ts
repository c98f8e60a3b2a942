/**
 * `rename`: give an archive a new name without a moment when it has none. The record is written again under the new
 * name (its name is inside the sealed record), the journal records the change, and only then is the old record
 * deleted; a crash anywhere leaves the archive under the old name, the new one, or both, never neither.
 */
import { readRecord, recordExists, recordId, recordName, writeRecord, type ArchiveRecord } from './archive-record.js';
import { ArchiveExistsError, ArchiveNameError } from './errors.js';
import type { ArchiveContext } from './ports.js';
import { AppendOnlyError } from '../repository/index.js';

/** Names ending so are `create`'s checkpoints (not journaled): an archive cannot be renamed to one. */
const CHECKPOINT_SUFFIX = '.checkpoint';

export interface RenameHooks {
  /** Called once the new record and the journal entry are stored, before the old record is deleted (crash tests). */
  beforeDelete?(): Promise<void>;
}

/**
 * Renames archive `from` to `to`. Refused: a missing `from` (`ArchiveNotFoundError`), an existing `to`
 * (`ArchiveExistsError`), an unusable `to` or one ending in ".checkpoint" (`ArchiveNameError`), an append-only
 * repository (`AppendOnlyError`: the old record would be deleted). Running it again after an interruption finishes
 * it: a `to` that holds the same archive as `from` is taken as the first half done.
 */
export async function renameArchive(ctx: ArchiveContext, from: string, to: string, hooks: RenameHooks = {}): Promise<void> {
  recordName(to); // throws ArchiveNameError for an unusable name, before anything is read
  if (to.endsWith(CHECKPOINT_SUFFIX)) throw new ArchiveNameError(to, `names ending in "${CHECKPOINT_SUFFIX}" are kept for checkpoints`);
  if (ctx.repository.config.appendOnly) throw new AppendOnlyError(`the repository is append-only: archive ${from} cannot be renamed (its old record would be deleted)`);
  const record = await readRecord(ctx, from);
  if (from === to) return;
  const oldId = await recordId(ctx, from);
  let newId: Uint8Array;
  try {
    newId = await writeRecord(ctx, { ...record, name: to }, { ifAbsent: true });
  } catch (error) {
    if (!(error instanceof ArchiveExistsError)) throw error;
    const existing = await readRecord(ctx, to);
    if (!sameArchive(existing, record)) throw error;
    newId = (await recordId(ctx, to))!;
  }
  await ctx.journal?.append({ added: [{ name: to, id: newId }], removed: oldId ? [{ name: from, id: oldId }] : [] });
  await hooks.beforeDelete?.();
  if (await recordExists(ctx, from)) await ctx.repository.deleteRecord(recordName(from));
}

/** True when two records describe the same archive apart from the name (an interrupted rename's two halves). */
function sameArchive(a: ArchiveRecord, b: ArchiveRecord): boolean {
  return a.start === b.start && a.end === b.end && a.host === b.host && a.user === b.user && a.comment === b.comment
    && a.checkpoint === b.checkpoint && a.items.length === b.items.length
    && a.items.every((id, i) => Buffer.from(id).equals(b.items[i]!));
}
