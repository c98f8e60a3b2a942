/**
 * Compaction, under the exclusive lock. Order, safe if killed at any point:
 *   1. copy the live entries of segments below the live-fraction threshold into new segments,
 *      committed as one transaction of a fresh session (COMMIT segment last);
 *   2. write the new full index `index/full-<gen+1>`, which names every index object it replaces;
 *   3. delete the replaced index objects;
 *   4. delete the rewritten segments, segments with no live entry, and segments of dead sessions
 *      that no committed transaction covers.
 * Until 2 the old index is the truth and the new segments are unreferenced garbage; after 2 the
 * old objects are garbage that open ignores and the next compaction removes. A transaction's
 * COMMIT segment is kept (not rewritten) while any other segment of the transaction survives, so
 * `check --repair` can still tell those segments are committed.
 * In a repository with retention (docs/adr/0056-object-retention.md), an object of 3 or 4 whose
 * retention still runs is not deleted: it is counted in `postponed` and stays as garbage, which a
 * later compaction deletes once its retention has ended (an old index object stays named as replaced
 * by every later full index; an old segment is covered by no kept transaction).
 */
import { ChunkIndex } from './index-table.js';
import type { Txn } from './index-format.js';
import { deleteOrPostpone, type Postponed } from './index-load.js';
import { DATA_PREFIX, newSessionId, parseSegment, segmentKey, segmentName } from './layout.js';
import { liveSessions } from './locks.js';
import { SegmentWriter } from './segment-writer.js';
import { encodeCommit, openPut } from './segment-format.js';
import { writeFullIndex } from './full-index.js';
import type { RepositoryContext } from './context.js';

export interface CompactOptions {
  /** Segments whose live bytes are below this fraction of their size are rewritten. Default 0.5. */
  threshold?: number;
  /** Stale timeout used to decide that a session is dead. Default 30 minutes. */
  staleMs?: number;
}

export interface CompactReport {
  segmentsBefore: number;
  segmentsAfter: number;
  rewritten: number;
  /** Segments deleted: rewritten ones, empty ones and garbage of dead sessions. */
  deleted: number;
  /** Of `deleted`, segments no committed transaction covered. */
  garbage: number;
  entriesMoved: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Index objects merged into the new full index. */
  indexObjectsMerged: number;
  /** Objects (segments, index objects) to delete that the store still keeps under retention: left for a later compaction. */
  postponed: Postponed;
  /** Temporary files of writers killed mid-write, over an hour old, that the store removed (fs; 0 elsewhere). */
  staleTempFiles?: number;
}

export async function compactRepository(ctx: RepositoryContext, options: CompactOptions): Promise<CompactReport> {
  const { backend, state } = ctx;
  const threshold = options.threshold ?? 0.5;
  await ctx.lock?.check();
  const sizes = new Map<string, number>();
  for await (const { key, size } of backend.list(DATA_PREFIX)) if (parseSegment(key)) sizes.set(key.slice(DATA_PREFIX.length), size);
  const live = new Map<number, number>();
  state.index.forEachLocation((segment, _offset, size) => live.set(segment, (live.get(segment) ?? 0) + size));
  const liveOf = (name: string) => live.get(state.segments.ref(name)) ?? 0;

  const covered = new Set<string>();
  const keptTxns: Txn[] = [];
  const rewrite = new Set<string>();
  const remove = new Set<string>();
  for (const txn of state.txns) {
    const [session, first, last] = txn;
    const names: string[] = [];
    for (let seq = first; seq <= last; seq++) { const n = segmentName(session, seq); covered.add(n); if (sizes.has(n)) names.push(n); }
    const keep = names.filter((n) => liveOf(n) > 0 && liveOf(n) >= threshold * sizes.get(n)!);
    const commitName = segmentName(session, last);
    if (keep.length > 0 && sizes.has(commitName) && !keep.includes(commitName)) keep.push(commitName);
    if (keep.length > 0) keptTxns.push(txn);
    for (const n of names) {
      if (keep.includes(n)) continue;
      remove.add(n);
      if (liveOf(n) > 0) rewrite.add(n);
    }
  }
  const alive = await liveSessions(backend, options.staleMs, ctx.lock?.storeNow());
  let garbage = 0;
  for (const name of sizes.keys()) {
    if (!covered.has(name) && !alive.has(parseSegment(name)!.session)) { remove.add(name); garbage++; }
  }
  const oldIndexKeys = [...state.deltaKeys, ...(state.fullKey ? [state.fullKey] : []), ...state.obsoleteKeys];
  const report: CompactReport = {
    segmentsBefore: sizes.size, segmentsAfter: sizes.size - remove.size, rewritten: rewrite.size, deleted: remove.size, garbage,
    entriesMoved: 0, bytesBefore: sum(sizes.values()), bytesAfter: 0, indexObjectsMerged: oldIndexKeys.length, postponed: { objects: 0 },
  };
  if (remove.size === 0 && state.deltaKeys.length === 0) {
    // Nothing to merge: only index objects a full index already replaced (left by a crash or by retention) to delete.
    await deleteOrPostpone(backend, state.obsoleteKeys, report.postponed);
    report.indexObjectsMerged = 0;
    report.bytesAfter = report.bytesBefore;
    return report;
  }

  // 1. Copy live entries out of the segments being rewritten.
  const refs = new Set([...rewrite].map((n) => state.segments.ref(n)));
  const moving = new Map<number, { id: Uint8Array; offset: number; size: number }[]>();
  for (const e of state.index.entries()) if (refs.has(e.segment)) {
    let list = moving.get(e.segment);
    if (!list) moving.set(e.segment, list = []);
    list.push({ id: e.id, offset: e.offset, size: e.size });
  }
  const index = new ChunkIndex();
  for (const e of state.index.entries()) index.set(e.id, e.segment, e.offset, e.size);
  const session = newSessionId();
  const writer = new SegmentWriter(backend, session, { segmentSize: ctx.config.segmentSize });
  let entries = 0;
  for (const name of rewrite) {
    const key = segmentKey(name);
    const bytes = await backend.get(key);
    for (const e of moving.get(state.segments.ref(name)) ?? []) {
      const entry = bytes.subarray(e.offset, e.offset + e.size);
      openPut(entry, e.id, { key, offset: e.offset }); // never copy damage forward: check --repair first
      const at = writer.append([entry]);
      index.set(e.id, state.segments.ref(at.name), at.offset, at.size);
      entries++;
    }
    await writer.backpressure();
  }
  const txns = [...keptTxns];
  if (entries > 0) {
    writer.ensureRoom(128);
    const last = writer.seq;
    writer.append([encodeCommit({ session, first: 0, last, entries, time: Date.now() })]);
    await writer.finishTransaction();
    txns.push([session, 0, last]);
  }
  report.entriesMoved = entries;

  // 2. The new full index, naming what it replaces. 3. Old index objects. 4. Old segments.
  await ctx.lock?.check();
  await writeFullIndex(backend, index, state.segments, txns, state.generation + 1, oldIndexKeys);
  await deleteOrPostpone(backend, oldIndexKeys, report.postponed);
  await deleteOrPostpone(backend, [...remove].map(segmentKey), report.postponed);
  for await (const { size } of backend.list(DATA_PREFIX)) report.bytesAfter += size;
  report.segmentsAfter = sizes.size - remove.size + (entries > 0 ? writer.seq : 0);
  return report;
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}
