/**
 * Listing: the archives of a repository, the items of one archive, and the two output forms the
 * CLI prints (a Borg-like `--format` template and one JSON object per line).
 */
import { isUnreadableRecord, listArchiveNames, readRecord, type ArchiveRecord } from './archive-record.js';
import type { ArchiveError } from './errors.js';
import { itemKind, pathText, type Item } from './item.js';
import { readItems } from './item-stream.js';
import { compilePatterns } from './patterns.js';
import type { ArchiveContext } from './ports.js';

export interface ListArchivesOptions {
  /**
   * Called for each record that cannot be read (does not authenticate or decode, or has a name no
   * archive can have), which is then left out. Without it, such a record rejects the whole list.
   */
  onUnreadable?(name: string, error: ArchiveError): void;
}

/** Every archive's record (checkpoints included, marked), oldest first. */
export async function listArchives(ctx: ArchiveContext, options: ListArchivesOptions = {}): Promise<ArchiveRecord[]> {
  const records: ArchiveRecord[] = [];
  for (const name of await listArchiveNames(ctx)) {
    try {
      records.push(await readRecord(ctx, name));
    } catch (error) {
      // A record the journal does not vouch for is skipped like an unreadable one: the rest of the list stays usable.
      if (!options.onUnreadable || !(isUnreadableRecord(error) || (error as ArchiveError).code === 'ESECURITY_REPLACED')) throw error;
      options.onUnreadable(name, error as ArchiveError);
    }
  }
  return records.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.name < b.name ? -1 : 1));
}

/** The items of an archive in stream order, only those matching `patterns` when given. */
export async function* listItems(ctx: ArchiveContext, name: string, options: { patterns?: readonly string[] } = {}): AsyncGenerator<Item> {
  const record = await readRecord(ctx, name);
  const match = options.patterns?.length ? compilePatterns(options.patterns) : undefined;
  for await (const item of readItems(ctx, record.items)) if (!match || match(pathText(item.path))) yield item;
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', chardev: 'c', blockdev: 'b', socket: 's' };

/** `ls -l` style mode text, e.g. `-rw-r--r--`, `drwsr-x---`. */
export function modeText(mode: number): string {
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (mode & (1 << (8 - i)) ? c : '-'));
  if (mode & 0o4000) bits[2] = bits[2] === 'x' ? 's' : 'S';
  if (mode & 0o2000) bits[5] = bits[5] === 'x' ? 's' : 'S';
  if (mode & 0o1000) bits[8] = bits[8] === 'x' ? 't' : 'T';
  return TYPE_CHAR[itemKind(mode)] + bits.join('');
}

/** Nanoseconds since the epoch as ISO 8601 UTC with nanoseconds. */
export function isoTime(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, `.${frac.toString().padStart(9, '0')}Z`);
}

/** The fields of an item as `--json-lines` prints them (paths as text; `path_bytes` hex when not UTF-8). */
export function itemJson(item: Item): Record<string, unknown> {
  const path = pathText(item.path);
  const json: Record<string, unknown> = {
    type: itemKind(item.mode), mode: modeText(item.mode), path, user: item.user ?? null, group: item.group ?? null,
    uid: item.uid, gid: item.gid, size: item.size ?? 0, mtime: isoTime(item.mtime),
  };
  if (Buffer.compare(Buffer.from(path), Buffer.from(item.path)) !== 0) json.path_bytes = Buffer.from(item.path).toString('hex');
  if (item.target) json.target = pathText(item.target);
  if (item.hlid) json.hlid = Buffer.from(item.hlid).toString('hex');
  if (item.rdev !== undefined) json.rdev = item.rdev;
  // A file salvaged by `check --repair`: zeros stand in for lost chunks (see salvage.ts).
  if (item.healthy) json.damaged = true;
  return json;
}

/** Default `--format`, as Borg's `list`. */
export const DEFAULT_ITEM_FORMAT = '{mode} {user:<8} {group:<8} {size:>10} {mtime} {path}{extra}{NL}';

/**
 * Fills a Borg-style template: `{key}` or `{key:<N}` / `{key:>N}` (pad to N), keys: mode, type, user,
 * group, uid, gid, size, mtime, path, target, health ("healthy" or "damaged"), extra (" -> target", and
 * " [damaged]" for a file salvaged with zeros), NL, TAB. Unknown keys stay as written.
 */
export function formatItem(item: Item, template: string = DEFAULT_ITEM_FORMAT): string {
  const j = itemJson(item);
  const values: Record<string, string> = {
    mode: String(j.mode), type: String(j.type), user: String(item.user ?? item.uid), group: String(item.group ?? item.gid),
    uid: String(item.uid), gid: String(item.gid), size: String(item.size ?? 0), mtime: String(j.mtime), path: String(j.path),
    target: item.target ? pathText(item.target) : '', extra: `${item.target ? ` -> ${pathText(item.target)}` : ''}${item.healthy ? ' [damaged]' : ''}`,
    health: item.healthy ? 'damaged' : 'healthy', NL: '\n', TAB: '\t',
  };
  return template.replace(/\{(\w+)(?::([<>])(\d+))?\}/g, (whole, key: string, align?: string, width?: string) => {
    const v = values[key];
    if (v === undefined) return whole;
    if (!align || !width) return v;
    return align === '<' ? v.padEnd(Number(width)) : v.padStart(Number(width));
  });
}
