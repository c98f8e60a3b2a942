/**
 * Archive selection, the same for every command that works on several archives (rlist, prune,
 * check, delete, info, find): filters on name, host, source paths and tags, then the first or last
 * N by start time (Borg 2's `-a GLOB --first/--last`, restic's `--host/--path/--tag`), and the
 * groups of prune (restic's `--group-by`).
 */
import picomatch from 'picomatch';
import type { ArchiveRecord } from './archive-record.js';
import { listArchives, type ListArchivesOptions } from './list.js';
import type { ArchiveContext } from './ports.js';

/** What a selection looks at in an archive. */
export type SelectableArchive = Pick<ArchiveRecord, 'name' | 'start' | 'host' | 'paths' | 'tags' | 'checkpoint'>;

/** Which archives to work on; an absent field selects everything. */
export interface ArchiveSelection {
  /** A shell glob over names (`*` does not cross "/", which names never contain). */
  glob?: string;
  /** Archives made on any of these hosts (exact). */
  hosts?: readonly string[];
  /** Archives whose recorded sources include every one of these absolute paths (exact, as restic's `--path`). */
  paths?: readonly string[];
  /** Archives that carry every tag of at least one of these lists (restic's `--tag a,b --tag c`: a and b, or c). */
  tags?: readonly (readonly string[])[];
  /** Of what the filters above select, the N oldest (checkpoints left out). */
  first?: number;
  /** Of what the filters above select, the N newest (checkpoints left out). */
  last?: number;
}

/** True when the selection filters anything (false: every archive). */
export function hasSelection(s: ArchiveSelection): boolean {
  return s.glob !== undefined || !!s.hosts?.length || !!s.paths?.length || !!s.tags?.length || s.first !== undefined || s.last !== undefined;
}

const byStart = (a: SelectableArchive, b: SelectableArchive): number => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The archives a selection picks, oldest first. Filters combine with "and"; `first`/`last` apply
 * to what the filters left and then leave out checkpoints (as `latest` does), so `--last 3` is the
 * three newest finished archives. Giving both `first` and `last` is a caller error (`RangeError`).
 */
export function selectArchives<A extends SelectableArchive>(archives: readonly A[], s: ArchiveSelection): A[] {
  if (s.first !== undefined && s.last !== undefined) throw new RangeError('give first or last, not both');
  const glob = s.glob === undefined ? undefined : picomatch(s.glob, { dot: true });
  let out = archives.filter((a) => (!glob || glob(a.name))
    && (!s.hosts?.length || s.hosts.includes(a.host))
    && (!s.paths?.length || s.paths.every((p) => a.paths.includes(p)))
    && (!s.tags?.length || s.tags.some((all) => all.every((t) => a.tags.includes(t))))).sort(byStart);
  if (s.first !== undefined || s.last !== undefined) {
    out = out.filter((a) => !a.checkpoint);
    out = s.first !== undefined ? out.slice(0, s.first) : out.slice(Math.max(0, out.length - s.last!));
  }
  return out;
}

/** Every archive's record that `selection` picks, oldest first (see `listArchives` for unreadable records). */
export async function listSelectedArchives(ctx: ArchiveContext, selection: ArchiveSelection, options: ListArchivesOptions = {}): Promise<ArchiveRecord[]> {
  return selectArchives(await listArchives(ctx, options), selection);
}

/** What prune's groups are made of (restic's `--group-by`); empty: one group of every archive. */
export type GroupField = 'host' | 'paths' | 'tags';

/** The fields of one group, as shown by `prune --list` (only those grouped by are set). */
export interface ArchiveGroupKey {
  host?: string;
  paths?: string[];
  tags?: string[];
}

/** Archives split into groups with equal `fields` (paths and tags compared as sets), in order of each group's oldest archive. */
export function groupArchives<A extends SelectableArchive>(archives: readonly A[], fields: readonly GroupField[]): { key: ArchiveGroupKey; archives: A[] }[] {
  const groups = new Map<string, { key: ArchiveGroupKey; archives: A[] }>();
  for (const a of [...archives].sort(byStart)) {
    const key: ArchiveGroupKey = {};
    if (fields.includes('host')) key.host = a.host;
    if (fields.includes('paths')) key.paths = [...new Set(a.paths)].sort();
    if (fields.includes('tags')) key.tags = [...new Set(a.tags)].sort();
    const id = JSON.stringify(key);
    let group = groups.get(id);
    if (!group) groups.set(id, group = { key, archives: [] });
    group.archives.push(a);
  }
  return [...groups.values()];
}
