/**
 * What the damage campaign can damage, and how: the objects of a repository by kind (segment entry
 * headers and values and item-stream chunks located by parsing the segments, whole objects for the
 * rest), and one damage applied to a copy of the repository. Segment layout: docs/format/repository.md.
 */
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fixture } from './fixture.js';

export const OBJECT_KINDS = ['segment-header', 'segment-value', 'index', 'key', 'config', 'archive-record', 'settings', 'item-chunk', 'lock'] as const;
export type ObjectKind = typeof OBJECT_KINDS[number];
export const DAMAGE_KINDS = ['bit-flip', 'overwrite', 'truncate', 'delete', 'older'] as const;
export type DamageKind = typeof DAMAGE_KINDS[number];

/** One segment entry, as parsed from a pristine segment. */
export interface SegmentEntry { key: string; offset: number; size: number; tag: number; id?: string }

/** A thing to damage: a whole object, or a byte range of a segment (an entry's header, value or all of it). */
export interface Target {
  kind: ObjectKind;
  key: string;
  /** For segment kinds: the damaged range within the segment, and its entry. */
  range?: { start: number; end: number };
  entry?: SegmentEntry;
}

/** The damage done in one trial, in words, and which chunk ids it may have made unreadable. */
export interface Applied { target: Target; damage: DamageKind; what: string; lostIds: Set<string> }

const TAG_PUT2 = 3;
const PUT_HEADER = 49;

/** Every entry of every segment under `repo` (pristine, so sizes chain from 0 to the end). */
export async function parseSegments(repo: string): Promise<SegmentEntry[]> {
  const out: SegmentEntry[] = [];
  for (const session of (await readdir(join(repo, 'data'))).sort()) {
    for (const seq of (await readdir(join(repo, 'data', session))).sort()) {
      const key = `data/${session}/${seq}`;
      const bytes = await readFile(join(repo, key));
      for (let offset = 0; offset + 9 <= bytes.length;) {
        const size = bytes.readUInt32LE(offset + 4);
        const tag = bytes[offset + 8]!;
        if (size < 9 || offset + size > bytes.length) throw new Error(`${key}@${offset}: not a pristine segment`);
        out.push({ key, offset, size, tag, id: tag === TAG_PUT2 || tag === 1 ? bytes.subarray(offset + 9, offset + 41).toString('hex') : undefined });
        offset += size;
      }
    }
  }
  return out;
}

/** The objects of `kind` in the pristine repository. */
export async function targetsOf(kind: ObjectKind, fixture: Fixture, entries: SegmentEntry[]): Promise<Target[]> {
  const keys = async (dir: string) => (await readdir(join(fixture.repo, dir)).catch(() => [] as string[])).map((n) => `${dir}/${n}`).sort();
  switch (kind) {
    case 'segment-header':
      return entries.map((e) => ({ kind, key: e.key, entry: e, range: { start: e.offset, end: e.offset + (e.tag === TAG_PUT2 ? PUT_HEADER : e.size) } }));
    case 'segment-value':
      return entries.filter((e) => e.tag === TAG_PUT2 && e.size > PUT_HEADER).map((e) => ({ kind, key: e.key, entry: e, range: { start: e.offset + PUT_HEADER, end: e.offset + e.size } }));
    case 'item-chunk':
      return entries.filter((e) => e.tag === TAG_PUT2 && fixture.itemChunks.has(e.id!)).map((e) => ({ kind, key: e.key, entry: e, range: { start: e.offset, end: e.offset + e.size } }));
    case 'index': return (await keys('index')).map((key) => ({ kind, key }));
    case 'key': return [{ kind, key: 'keys/repokey' }];
    case 'config': return [{ kind, key: 'config' }];
    case 'settings': return [{ kind, key: 'records/settings' }];
    case 'archive-record': return (await keys('records')).filter((k) => k.startsWith('records/archive-')).map((key) => ({ kind, key }));
    case 'lock': return (await keys('locks')).map((key) => ({ kind, key }));
  }
}

/** The damage kinds that apply to `target` ("older" needs an earlier version of its key). */
export function damagesFor(target: Target, fixture: Fixture): DamageKind[] {
  return DAMAGE_KINDS.filter((d) => d !== 'older' || (!target.range && fixture.older.has(target.key)));
}

/** Applies `damage` to `target` in the copy `repo`; `random()` in [0, 1) picks positions and bytes. */
export async function applyDamage(repo: string, target: Target, damage: DamageKind, fixture: Fixture, entries: SegmentEntry[], random: () => number): Promise<Applied> {
  const path = join(repo, target.key);
  const bytes = await readFile(path);
  const { start, end } = target.range ?? { start: 0, end: bytes.length };
  const pick = (n: number) => Math.floor(random() * n);
  const where = target.entry ? `${target.key}@${target.entry.offset}` : target.key;
  let what: string;
  switch (damage) {
    case 'bit-flip': {
      const at = start + pick(end - start);
      const bit = pick(8);
      bytes[at]! ^= 1 << bit;
      await writeFile(path, bytes);
      what = `bit ${bit} of byte ${at} flipped`;
      break;
    }
    case 'overwrite': {
      const length = 1 + pick(Math.min(64, end - start));
      const at = start + pick(end - start - length + 1);
      for (let i = 0; i < length; i++) bytes[at + i] = pick(256);
      if (bytes.subarray(at, at + length).equals((await readFile(join(fixture.repo, target.key))).subarray(at, at + length))) bytes[at]! ^= 0xff;
      await writeFile(path, bytes);
      what = `${length} bytes at ${at} overwritten`;
      break;
    }
    case 'truncate': {
      const at = start + pick(end - start);
      await truncate(path, at);
      what = `truncated to ${at} bytes`;
      break;
    }
    case 'delete':
      if (target.range) {
        await writeFile(path, Buffer.concat([bytes.subarray(0, start), bytes.subarray(end)]));
        what = `bytes ${start}..${end} cut out`;
      } else {
        await rm(path);
        what = 'deleted';
      }
      break;
    case 'older': {
      const versions = fixture.older.get(target.key)!;
      const index = pick(versions.length);
      await writeFile(path, versions[index]!);
      what = `replaced by its older version ${index + 1} of ${versions.length}`;
      break;
    }
  }
  return { target, damage, what: `${where}: ${what}`, lostIds: lostIds(target, damage, entries, end - start, bytes.length, what) };
}

/** Chunk ids whose entries the damage touched (for segment kinds): the entry itself, or for a cut every entry from the cut on. */
function lostIds(target: Target, damage: DamageKind, entries: SegmentEntry[], _length: number, _size: number, what: string): Set<string> {
  const ids = new Set<string>();
  if (!target.entry) return ids;
  if (damage === 'truncate') {
    const at = Number(/truncated to (\d+)/.exec(what)![1]);
    for (const e of entries) if (e.key === target.key && e.offset + e.size > at && e.tag === TAG_PUT2) ids.add(e.id!);
  } else if (target.entry.tag === TAG_PUT2) ids.add(target.entry.id!);
  return ids;
}

/** The archives that may be lost with the damaged object: none for index objects and locks (a repair rebuilds or ignores them). */
export function dependents(applied: Applied, fixture: Fixture): Set<string> {
  const all = [...fixture.archives.keys()];
  switch (applied.target.kind) {
    case 'key': case 'config': case 'settings': return new Set(all);
    case 'index': case 'lock': return new Set();
    case 'archive-record': return new Set(all.filter((a) => applied.target.key === `records/archive-${a}`));
    default: return new Set(all.filter((a) => [...applied.lostIds].some((id) => fixture.chunks.get(a)!.has(id))));
  }
}
