/**
 * `compact`: mark and sweep. Every chunk no archive references is deleted from the repository,
 * then the repository rewrites sparse segments. No reference counts exist that could drift.
 * Run it under the repository's exclusive lock, so no `create` is adding unreferenced chunks.
 */
import { markLive } from './mark.js';
import type { ArchiveContext } from './ports.js';

export interface CompactResult {
  archives: number;
  liveChunks: number;
  deletedChunks: number;
}

/** Deletes every chunk no archive references, and commits. */
export async function sweepUnreferenced(ctx: ArchiveContext, options: { dryRun?: boolean } = {}): Promise<CompactResult> {
  const live = await markLive(ctx);
  const dead: Uint8Array[] = [];
  for (const id of ctx.repository.ids()) if (!live.ids.has(Buffer.from(id).toString('hex'))) dead.push(id);
  if (!options.dryRun && dead.length > 0) {
    for (const id of dead) await ctx.repository.delete(id);
    await ctx.repository.commit();
  }
  return { archives: live.archives, liveChunks: live.ids.size, deletedChunks: dead.length };
}

/** Mark and sweep, then the repository's own compaction with `options` (e.g. its threshold); its report is passed through. */
export async function compactArchives<O, R>(
  ctx: ArchiveContext & { repository: { compact(options?: O): Promise<R> } }, options?: O,
): Promise<CompactResult & { repository: R }> {
  const swept = await sweepUnreferenced(ctx);
  return { ...swept, repository: await ctx.repository.compact(options) };
}
