/**
 * The read path: values by id, digest-verified. One value is one ranged read of its entry (or a
 * copy from the writer's memory while its segment is not stored yet); several values are grouped by
 * segment into runs (read-plan.ts), each covered by one ranged read.
 */
import type { Backend } from '../store/backend.js';
import { NotFoundError } from '../store/errors.js';
import { IdNotFoundError, IntegrityError } from './errors.js';
import type { Location } from './index-table.js';
import type { SegmentTable } from './index-load.js';
import { segmentKey } from './layout.js';
import { planRuns, type WantedEntry } from './read-plan.js';
import { openPut } from './segment-format.js';

/** What an open repository sees beyond the store's objects (its `Transaction`). */
export interface EntryView {
  /** Where `id` lies, or undefined when it is not visible. */
  locate(id: Uint8Array): Location | undefined;
  /** The bytes of an entry whose segment is still in memory, or undefined. */
  held(name: string, offset: number, size: number): Uint8Array | undefined;
}

/** Where values are read from: the store, the segment names of the index in use, and the view. */
export interface ValueSource {
  backend: Backend;
  segments: SegmentTable;
  view: EntryView;
}

/** `Repository.get`: the value under `id`, a fresh copy. `IdNotFoundError` if absent, `IntegrityError` if damaged. */
export async function readValue(source: ValueSource, id: Uint8Array): Promise<Uint8Array> {
  const loc = source.view.locate(id);
  if (!loc) throw new IdNotFoundError(`no object with id ${Buffer.from(id).toString('hex')}`);
  return valueAt(source, id, loc, source.view.held(source.segments.name(loc.segment), loc.offset, loc.size));
}

/** The value of `id` at `loc`, a fresh copy: from `held` (the entry still in the writer's memory) or one ranged read. */
async function valueAt(source: ValueSource, id: Uint8Array, loc: Location, held: Uint8Array | undefined): Promise<Uint8Array> {
  const key = segmentKey(source.segments.name(loc.segment));
  const entry = held ?? await getRange(source.backend, key, loc.offset, loc.size);
  if (entry.length !== loc.size) throw new IntegrityError(`${key} at ${loc.offset}: truncated entry`, { key, offset: loc.offset });
  // A copy, not `slice` (a view when the backend returned a Buffer).
  return new Uint8Array(openPut(entry, id, { key, offset: loc.offset }));
}

/** `Repository.getMany`: the values of `ids` in that order; neighbouring entries of a segment share a read. */
export async function readValues(source: ValueSource, ids: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const { view, segments } = source;
  const out: Uint8Array[] = new Array<Uint8Array>(ids.length);
  const bySegment = new Map<number, WantedEntry[]>();
  const single: Promise<void>[] = [];
  for (let index = 0; index < ids.length; index++) {
    const id = ids[index];
    const loc = view.locate(id);
    // Unknown ids and entries still in the writer's memory are read alone (with readValue's errors).
    const held = loc && view.held(segments.name(loc.segment), loc.offset, loc.size);
    if (!loc || held) {
      single.push((loc ? valueAt(source, id, loc, held) : readValue(source, id)).then((v) => { out[index] = v; }));
      continue;
    }
    let list = bySegment.get(loc.segment);
    if (!list) bySegment.set(loc.segment, list = []);
    list.push({ index, offset: loc.offset, size: loc.size });
  }
  const reads: Promise<void>[] = [];
  for (const [segment, list] of bySegment) {
    const key = segmentKey(segments.name(segment));
    for (const run of planRuns(list)) reads.push(readRun(source.backend, key, run, ids, out));
  }
  await Promise.all([...single, ...reads]);
  return out;
}

/** One ranged read covering `run` (sorted by offset); each entry is checked and sliced out. */
async function readRun(backend: Backend, key: string, run: WantedEntry[], ids: readonly Uint8Array[], out: Uint8Array[]): Promise<void> {
  const from = run[0].offset;
  const last = run[run.length - 1];
  const bytes = await getRange(backend, key, from, last.offset + last.size - from);
  for (const { index, offset, size } of run) {
    const entry = bytes.subarray(offset - from, offset - from + size);
    if (entry.length !== size) throw new IntegrityError(`${key} at ${offset}: truncated entry`, { key, offset });
    // A view, not a copy: the caller decrypts it into a new buffer at once.
    out[index] = openPut(entry, ids[index], { key, offset });
  }
}

/** A ranged read of segment `key`; a missing segment is damage (`IntegrityError`), as the index names it. */
async function getRange(backend: Backend, key: string, offset: number, length: number): Promise<Uint8Array> {
  try {
    return await backend.get(key, { offset, length });
  } catch (err) {
    if (err instanceof NotFoundError) throw new IntegrityError(`segment ${key} is missing`, { key, cause: err });
    throw err;
  }
}
