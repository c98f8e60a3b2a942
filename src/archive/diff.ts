/**
 * `diff`: what changed between two archives, path by path, from their items alone (contents are
 * compared by chunk ids, so no file data is read). Holds the first archive's items in memory.
 */
import { readRecord } from './archive-record.js';
import { itemKind, pathText, type Item } from './item.js';
import { readItems } from './item-stream.js';
import type { ArchiveContext } from './ports.js';

/** One kind of difference of a path present in both archives, or its addition/removal. */
export type DiffChange =
  | { kind: 'added' | 'removed'; size: number }
  | { kind: 'content'; added: number; removed: number }
  | { kind: 'type'; from: string; to: string }
  | { kind: 'mode'; from: number; to: number }
  | { kind: 'owner'; from: string; to: string }
  | { kind: 'target'; from: string; to: string }
  | { kind: 'mtime'; from: bigint; to: bigint };

export interface DiffEntry {
  path: string;
  changes: DiffChange[];
}

const owner = (i: Item): string => `${i.user ?? i.uid}:${i.group ?? i.gid}`;

/** Content change in bytes: sizes of chunks only in b (added) and only in a (removed), like Borg. */
function contentChange(a: Item, b: Item): DiffChange | undefined {
  const count = (item: Item) => {
    const m = new Map<string, number>();
    for (const c of item.chunks ?? []) m.set(Buffer.from(c.id).toString('hex'), c.size);
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  let added = 0;
  let removed = 0;
  for (const [id, size] of cb) if (!ca.has(id)) added += size;
  for (const [id, size] of ca) if (!cb.has(id)) removed += size;
  const same = (a.chunks ?? []).length === (b.chunks ?? []).length && (a.chunks ?? []).every((c, i) => Buffer.compare(c.id, b.chunks![i].id) === 0);
  return same ? undefined : { kind: 'content', added, removed };
}

function compare(a: Item, b: Item, withTimes: boolean): DiffChange[] {
  const changes: DiffChange[] = [];
  const ka = itemKind(a.mode);
  const kb = itemKind(b.mode);
  if (ka !== kb) return [{ kind: 'type', from: ka, to: kb }];
  if (ka === 'file') {
    const c = contentChange(a, b);
    if (c) changes.push(c);
  }
  if (ka === 'symlink' && Buffer.compare(a.target ?? new Uint8Array(), b.target ?? new Uint8Array()) !== 0) {
    changes.push({ kind: 'target', from: pathText(a.target ?? new Uint8Array()), to: pathText(b.target ?? new Uint8Array()) });
  }
  if ((a.mode & 0o7777) !== (b.mode & 0o7777)) changes.push({ kind: 'mode', from: a.mode, to: b.mode });
  if (owner(a) !== owner(b)) changes.push({ kind: 'owner', from: owner(a), to: owner(b) });
  if (withTimes && a.mtime !== b.mtime) changes.push({ kind: 'mtime', from: a.mtime, to: b.mtime });
  return changes;
}

/** Differences from archive `a` to archive `b`, sorted by path; `withTimes` also reports mtime-only changes. */
export async function diffArchives(ctx: ArchiveContext, a: string, b: string, options: { withTimes?: boolean } = {}): Promise<DiffEntry[]> {
  const [ra, rb] = await Promise.all([readRecord(ctx, a), readRecord(ctx, b)]);
  const before = new Map<string, Item>();
  for await (const item of readItems(ctx, ra.items)) before.set(Buffer.from(item.path).toString('latin1'), item);
  const out: DiffEntry[] = [];
  for await (const item of readItems(ctx, rb.items)) {
    const key = Buffer.from(item.path).toString('latin1');
    const old = before.get(key);
    if (!old) {
      out.push({ path: pathText(item.path), changes: [{ kind: 'added', size: item.size ?? 0 }] });
      continue;
    }
    before.delete(key);
    const changes = compare(old, item, options.withTimes ?? false);
    if (changes.length > 0) out.push({ path: pathText(item.path), changes });
  }
  for (const item of before.values()) out.push({ path: pathText(item.path), changes: [{ kind: 'removed', size: item.size ?? 0 }] });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
