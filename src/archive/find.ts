/**
 * `find`: which archives hold paths matching patterns. Each archive's item stream is read once, whatever the number
 * of patterns; the archive records are read (and authenticated) first, so archives are searched oldest first.
 */
import { listArchives, type ListArchivesOptions } from './list.js';
import type { ArchiveRecord } from './archive-record.js';
import { pathText, type Item } from './item.js';
import { readItems } from './item-stream.js';
import { compilePattern } from './patterns.js';
import type { ArchiveContext } from './ports.js';

export interface FindOptions extends ListArchivesOptions {
  /**
   * The archives to search, already read and selected (e.g. by `listSelectedArchives`), searched as
   * given. Default: every archive of the repository but checkpoints.
   */
  records?: readonly ArchiveRecord[];
}

/** The items of one archive that matched. */
export interface FindHits {
  archive: ArchiveRecord;
  items: Item[];
}

/** What a search found: hits per archive (oldest first, archives without hits left out) and the patterns that matched. */
export interface FindResult {
  hits: FindHits[];
  /** Archives searched. */
  searched: number;
  /** Patterns that matched nothing in any archive searched. */
  unmatched: string[];
}

/** Searches every selected archive for items matching any of `patterns` (extract's patterns: fm: sh: re: pp:). */
export async function findItems(ctx: ArchiveContext, patterns: readonly string[], options: FindOptions = {}): Promise<FindResult> {
  const matchers = patterns.map((pattern) => ({ pattern, matches: compilePattern(pattern), used: false }));
  const result: FindResult = { hits: [], searched: 0, unmatched: [] };
  const archives = options.records ?? (await listArchives(ctx, options)).filter((r) => !r.checkpoint);
  for (const archive of archives) {
    result.searched += 1;
    const items: Item[] = [];
    for await (const item of readItems(ctx, archive.items)) {
      const path = pathText(item.path);
      let hit = false;
      for (const m of matchers) if (m.matches(path)) { m.used = true; hit = true; }
      if (hit) items.push(item);
    }
    if (items.length > 0) result.hits.push({ archive, items });
  }
  result.unmatched = matchers.filter((m) => !m.used).map((m) => m.pattern);
  return result;
}
