/**
 * Check and repair. Check reads every index object and reports each damaged spot precisely (key,
 * offset, reason, id when known), plus index entries that do not match the segments. How much of
 * the segments it reads depends on `readData`:
 * - without it (a plain check), only the structure: for every index entry its 49-byte PUT2 header
 *   (checksum, tag, id and size against the index), and the tail of every segment (the COMMIT entry
 *   that ends a transaction). These are ranged reads, neighbours coalesced into one request
 *   (`HEADER_GAP`), so the egress is a small fraction of the repository. Values are not read: a
 *   damaged value is found by `readData` (and by the archive check's `--verify-data`, which reads
 *   and authenticates each chunk);
 * - with it, and always for repair, every segment whole: every entry's header and value digest;
 *   `onValue` sees the value of each entry the index points at while the segment is held, so
 *   `check --verify-data` opens every chunk from this one read (src/archive/check-scan.ts).
 * Repair (exclusive lock) rebuilds the index from segment headers alone: committed
 * transactions (a COMMIT entry, or a transaction the readable index lists) in COMMIT-time order,
 * without damaged entries; damaged segments and index objects are copied whole to `quarantine/`
 * before their good entries are rewritten and the originals removed. Nothing is dropped silently.
 */
import { IntegrityError } from './errors.js';
import { ChunkIndex, IndexBuilder } from './index-table.js';
import { decodeIndex, type Txn } from './index-format.js';
import { deleteAll, mapLimit, SegmentTable, type LoadedIndex } from './index-load.js';
import { DATA_PREFIX, INDEX_PREFIX, newSessionId, parseSegment, QUARANTINE_PREFIX, segmentKey, segmentName } from './layout.js';
import { scanSegment, type ScannedEntry } from './segment-scan.js';
import { decodeCommit, encodeCommit, equalIds, MAX_COMMIT_SIZE, MIN_HEADER_SIZE, PUT_HEADER_SIZE, readHeader, TAG_COMMIT, TAG_DELETE, TAG_PUT2 } from './segment-format.js';
import { planRuns, type WantedEntry } from './read-plan.js';
import { NotFoundError } from '../store/errors.js';
import { SegmentWriter } from './segment-writer.js';
import { writeFullIndex } from './full-index.js';
import type { RepositoryContext } from './context.js';

export interface CheckOptions {
  /** Rebuild the index from the segments and quarantine damage (needs the exclusive lock). */
  repair?: boolean;
  /** Read every segment whole and verify every entry (implied by `repair`); default: structure only. */
  readData?: boolean;
  /**
   * With a whole read: called with the stored value of every good PUT2 entry the index points at
   * (the entry a `get` of its id would read), while its segment is held, and awaited before the
   * segment is let go. `check --verify-data` opens each chunk here, so every byte is read once.
   */
  onValue?(id: Uint8Array, value: Uint8Array): void | Promise<void>;
}

/**
 * A plain check reads the headers of two indexed entries with one request when at most this many
 * bytes lie between them. At cloud list prices a GET costs about as much as 4–5 KiB of egress, and
 * it costs a round trip: reading up to 8 KiB between headers is cheaper than another request.
 */
export const HEADER_GAP = 8 * 1024;
/** Ranged reads of a plain check in flight, and the most one of them spans: at most 32 MiB held. */
const HEADER_READS = 8;
/**
 * Whole segments read at once by `--verify-data` and repair. Each is a segment in memory (32 MiB by default) until
 * its values are handed over: 2 held 410–420 MiB of peak RSS against 500–510 with 4, in the same time (local
 * repository, docs/performance.md); two 32 MiB reads in flight still keep a remote store's link busy.
 */
const WHOLE_READS = 2;
const HEADER_SPAN = 4 * 1024 * 1024;

/** One damaged spot. `offset` is a byte offset in the object named by `key`. */
export interface Damage {
  kind: 'segment' | 'index-object' | 'index-entry' | 'missing-segment';
  key: string;
  offset?: number;
  /** Hex id of the entry concerned, when known. */
  id?: string;
  reason: string;
}

export interface CheckReport {
  /** No damage found (garbage of crashed sessions is not damage). */
  ok: boolean;
  segments: number;
  entries: number;
  indexObjects: number;
  damage: Damage[];
  /** Segments no committed transaction covers: left by crashed sessions, removed by compaction. */
  uncommitted: string[];
  /** How the segments were read: every byte (`data`, with `readData` or repair), or headers and tails (`structure`). */
  read: 'data' | 'structure';
  /** Set by repair: entries indexed by the rebuilt index and objects moved to quarantine/. */
  repaired?: { indexed: number; quarantined: string[]; rewrittenEntries: number };
}

interface SegmentScan { name: string; entries: ScannedEntry[]; damaged: boolean }

export async function checkRepository(ctx: RepositoryContext, options: CheckOptions): Promise<CheckReport> {
  const scanned = await scanRepository(ctx, options);
  if (options.repair) scanned.report.repaired = await applyRepair(ctx, planFrom(ctx, scanned));
  return scanned.report;
}

/**
 * What `check --repair` will change at the repository level, worked out before anything is written
 * (`planRepositoryRepair`): shown to the user, and with `--dry-run` all that happens.
 */
export interface RepositoryRepairPlan {
  /** Entries the rebuilt index will hold. */
  indexed: number;
  /** Index objects replaced by the one full index the repair writes. */
  indexObjects: number;
  /** Damaged segments and index objects that move to `quarantine/` (their keys now). */
  quarantine: string[];
  /** Good entries of damaged segments copied into a repair transaction before their segment moves. */
  rewriteEntries: number;
}

/** A planned repair: the check's report, the plan, the index as it will be, and `apply()` to carry it out. */
export interface PlannedRepair {
  report: CheckReport;
  plan: RepositoryRepairPlan;
  /** The rebuilt index (not stored until `apply`): reads can go through it to plan the archive repair. */
  preview: LoadedIndex;
  apply(): Promise<NonNullable<CheckReport['repaired']>>;
}

/** Checks as for a repair and plans it without writing a byte (see `PlannedRepair`). */
export async function planRepositoryRepair(ctx: RepositoryContext, options: Omit<CheckOptions, 'repair'>): Promise<PlannedRepair> {
  const scanned = await scanRepository(ctx, { ...options, repair: true });
  const prepared = planFrom(ctx, scanned);
  const { index, segments, txns } = prepared;
  const preview: LoadedIndex = { index, segments, txns: [...txns], deltaKeys: [], deltaInfo: new Map(), fullKey: undefined, fullSize: 0, generation: prepared.generation, covers: [], obsoleteKeys: [] };
  return {
    report: scanned.report, preview,
    plan: { indexed: index.count, indexObjects: scanned.indexKeys.length, quarantine: [...prepared.damagedSegments.map((s) => segmentKey(s.name)), ...scanned.badIndexKeys], rewriteEntries: prepared.moves.length },
    apply: async () => (scanned.report.repaired = await applyRepair(ctx, prepared)),
  };
}

interface Scanned {
  report: CheckReport;
  scans: Map<string, SegmentScan>;
  commits: Map<string, { txn: Txn; time: number }>;
  indexKeys: string[];
  badIndexKeys: string[];
}

async function scanRepository(ctx: RepositoryContext, options: CheckOptions): Promise<Scanned> {
  const { backend, state } = ctx;
  const damage: Damage[] = [];
  const hex = (id?: Uint8Array) => (id ? Buffer.from(id).toString('hex') : undefined);

  const indexKeys: string[] = [];
  for await (const { key } of backend.list(INDEX_PREFIX)) indexKeys.push(key);
  const badIndexKeys: string[] = [];
  const indexTxns: Txn[] = [];
  await mapLimit(indexKeys, 8, async (key) => {
    try {
      indexTxns.push(...decodeIndex(await backend.get(key), key).header.txns);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      badIndexKeys.push(key);
      damage.push({ kind: 'index-object', key, offset: err.offset, reason: err.message });
    }
  });

  const listed = new Map<string, number>();
  for await (const { key, size } of backend.list(DATA_PREFIX)) if (parseSegment(key)) listed.set(key.slice(DATA_PREFIX.length), size);
  const names = [...listed.keys()];
  const scans = new Map<string, SegmentScan>();
  let entryCount = 0;
  const whole = options.readData === true || options.repair === true;
  if (whole) {
    await mapLimit(names, WHOLE_READS, async (name) => {
      const key = segmentKey(name);
      const bytes = await backend.get(key);
      const { entries, damage: found } = scanSegment(bytes);
      for (const d of found) damage.push({ kind: 'segment', key, offset: d.offset, id: hex(d.id), reason: d.reason });
      entryCount += entries.length;
      scans.set(name, { name, entries, damaged: found.length > 0 });
      if (options.onValue) {
        for (const e of entries) {
          if (e.tag !== TAG_PUT2) continue;
          const at = state.index.get(e.id!);
          if (at === undefined || at.offset !== e.offset || at.size !== e.size || state.segments.names[at.segment] !== name) continue;
          await options.onValue(e.id!, bytes.subarray(e.offset + PUT_HEADER_SIZE, e.offset + e.size));
        }
      }
    });
  } else {
    for (const scan of await scanStructure(ctx, listed, damage)) {
      entryCount += scan.entries.length;
      scans.set(scan.name, scan);
    }
  }

  // Committed transactions: COMMIT entries found, plus those a readable index lists.
  const commits = new Map<string, { txn: Txn; time: number }>();
  for (const scan of scans.values()) for (const e of scan.entries) if (e.tag === TAG_COMMIT && e.commit) {
    const { session, first, last, time } = e.commit;
    const p = parseSegment(scan.name)!;
    if (p.session === session && p.seq === last) commits.set(segmentName(session, last), { txn: [session, first, last], time });
  }
  for (const txn of [...indexTxns, ...state.txns]) {
    const name = segmentName(txn[0], txn[2]);
    if (!commits.has(name)) commits.set(name, { txn, time: 0 });
  }
  const committed = new Set<string>();
  for (const { txn: [session, first, last] } of commits.values()) for (let s = first; s <= last; s++) committed.add(segmentName(session, s));
  const uncommitted = names.filter((n) => !committed.has(n)).sort();

  // Index entries must point at a good PUT2 of the same id and size.
  const at = new Map<string, Map<number, ScannedEntry>>();
  for (const scan of scans.values()) at.set(scan.name, new Map(scan.entries.map((e) => [e.offset, e])));
  for (const e of state.index.entries()) {
    const name = state.segments.name(e.segment);
    const entries = at.get(name);
    if (!entries) { damage.push({ kind: 'missing-segment', key: segmentKey(name), id: hex(e.id), reason: 'indexed segment is missing' }); continue; }
    const found = entries.get(e.offset);
    if (!found || found.tag !== TAG_PUT2 || found.size !== e.size || !equalIds(found.id!, e.id)) {
      damage.push({ kind: 'index-entry', key: segmentKey(name), offset: e.offset, id: hex(e.id), reason: 'index entry does not match a good PUT2 entry' });
    }
  }

  const report: CheckReport = { ok: damage.length === 0, segments: names.length, entries: entryCount, indexObjects: indexKeys.length, damage, uncommitted, read: whole ? 'data' : 'structure' };
  return { report, scans, commits, indexKeys, badIndexKeys };
}

/**
 * The plain check's reads: for every listed segment, the PUT2 header of each index entry in it and
 * its last `MAX_COMMIT_SIZE` bytes, coalesced (`planRuns`, `HEADER_GAP`) into ranged reads. Returns
 * per segment the entries found good (indexed PUT2s, and the COMMIT that ends it, if any); damaged
 * headers go to `damage`. Indexed entries of segments that are not listed are left to the caller.
 */
async function scanStructure(ctx: RepositoryContext, listed: Map<string, number>, damage: Damage[]): Promise<SegmentScan[]> {
  const { backend, state } = ctx;
  const wanted = new Map<string, { offset: number; size: number }[]>();
  for (const e of state.index.entries()) {
    const name = state.segments.name(e.segment);
    if (!listed.has(name)) continue;
    let list = wanted.get(name);
    if (!list) wanted.set(name, list = []);
    list.push({ offset: e.offset, size: e.size });
  }
  const reads: { name: string; run: WantedEntry[] }[] = [];
  const scans = new Map<string, SegmentScan>();
  for (const [name, segmentSize] of listed) {
    scans.set(name, { name, entries: [], damaged: false });
    const entries: WantedEntry[] = [];
    for (const { offset } of wanted.get(name) ?? []) {
      if (offset >= segmentSize) {
        damage.push({ kind: 'segment', key: segmentKey(name), offset, reason: `indexed entry starts beyond the segment's end (${segmentSize} bytes)` });
        continue;
      }
      entries.push({ index: offset, offset, size: Math.min(PUT_HEADER_SIZE, segmentSize - offset) });
    }
    const tail = Math.min(MAX_COMMIT_SIZE, segmentSize);
    if (tail > 0) entries.push({ index: -1, offset: segmentSize - tail, size: tail });
    for (const run of planRuns(entries, HEADER_GAP, HEADER_SPAN)) reads.push({ name, run });
  }
  await mapLimit(reads, HEADER_READS, async ({ name, run }) => {
    const key = segmentKey(name);
    const segmentSize = listed.get(name)!;
    const scan = scans.get(name)!;
    const from = run[0].offset;
    const end = Math.max(...run.map((e) => e.offset + e.size));
    let bytes: Uint8Array;
    try {
      bytes = await backend.get(key, { offset: from, length: end - from });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      damage.push({ kind: 'missing-segment', key, reason: 'segment vanished while being checked' });
      return;
    }
    for (const want of run) {
      const at = want.offset - from;
      if (want.index === -1) {
        const commit = findCommit(bytes.subarray(at, at + want.size), want.offset);
        if (commit) scan.entries.push(commit);
        continue;
      }
      const header = readHeader(bytes.subarray(0, at + want.size), at, segmentSize - want.offset);
      if (typeof header === 'string') {
        scan.damaged = true;
        damage.push({ kind: 'segment', key, offset: want.offset, reason: header });
      } else if (header.tag === TAG_PUT2) {
        scan.entries.push({ tag: TAG_PUT2, offset: want.offset, size: header.size, id: header.id });
      }
    }
  });
  return [...scans.values()];
}

/** The COMMIT entry that ends `tail` (the last bytes of a segment, starting at `base`), if any. */
function findCommit(tail: Uint8Array, base: number): ScannedEntry | undefined {
  for (let at = 0; at + MIN_HEADER_SIZE <= tail.length; at++) {
    if (tail[at + 8] !== TAG_COMMIT) continue;
    if (new DataView(tail.buffer, tail.byteOffset + at).getUint32(4, true) !== tail.length - at) continue;
    const header = readHeader(tail, at);
    if (typeof header === 'string') continue;
    const commit = decodeCommit(tail.subarray(at));
    if (commit) return { tag: TAG_COMMIT, offset: base + at, size: header.size, commit };
  }
  return undefined;
}

interface PreparedRepair {
  index: ChunkIndex;
  segments: SegmentTable;
  txns: Txn[];
  damagedSegments: SegmentScan[];
  /** Live entries of damaged segments, to be copied out before their segment moves. */
  moves: { scan: SegmentScan; entry: ScannedEntry }[];
  badIndexKeys: string[];
  indexKeys: string[];
  generation: number;
}

/** The index rebuilt from the scans (committed transactions in COMMIT-time order), and what repair must move. */
function planFrom(ctx: RepositoryContext, scanned: Scanned): PreparedRepair {
  const { scans, commits, indexKeys, badIndexKeys } = scanned;
  const segments = new SegmentTable();
  const builder = new IndexBuilder();
  const order = [...commits.values()].sort((a, b) => a.time - b.time || (a.txn[0] < b.txn[0] ? -1 : a.txn[0] > b.txn[0] ? 1 : a.txn[2] - b.txn[2]));
  const txns: Txn[] = [];
  const damagedSegments: SegmentScan[] = [];
  for (const { txn: [session, first, last] } of order) {
    let any = false;
    for (let seq = first; seq <= last; seq++) {
      const scan = scans.get(segmentName(session, seq));
      if (!scan) continue;
      any = true;
      if (scan.damaged) damagedSegments.push(scan);
      const ref = segments.ref(scan.name);
      for (const e of scan.entries) {
        if (e.tag === TAG_PUT2) builder.put(e.id!, ref, e.offset, e.size);
        else if (e.tag === TAG_DELETE) builder.delete(e.id!);
      }
    }
    if (any) txns.push([session, first, last]);
  }
  for (const scan of scans.values()) if (scan.damaged && !damagedSegments.includes(scan) && !txns.some(([se, f, l]) => covers(se, f, l, scan.name))) damagedSegments.push(scan);
  const index = ChunkIndex.from(builder);
  const moves: PreparedRepair['moves'] = [];
  for (const scan of damagedSegments) {
    const ref = segments.ref(scan.name);
    for (const e of scan.entries) {
      if (e.tag !== TAG_PUT2 || index.get(e.id!)?.segment !== ref || index.get(e.id!)?.offset !== e.offset) continue;
      moves.push({ scan, entry: e });
    }
  }
  const generation = Math.max(ctx.state.generation, ...indexKeys.map((k) => /full-([0-9a-f]{16})$/.exec(k)).map((m) => (m ? parseInt(m[1], 16) : 0))) + 1;
  return { index, segments, txns, damagedSegments, moves, badIndexKeys, indexKeys, generation };
}

/** Carries out a prepared repair: good entries of damaged segments rewritten, damage to quarantine/, one full index. */
async function applyRepair(ctx: RepositoryContext, prepared: PreparedRepair): Promise<NonNullable<CheckReport['repaired']>> {
  const { backend } = ctx;
  const { index, segments, txns, damagedSegments, moves, badIndexKeys, indexKeys, generation } = prepared;
  await ctx.lock?.check();
  const quarantined: string[] = [];
  // Good entries of damaged segments move to a repair transaction; the segments go to quarantine/.
  const session = newSessionId();
  const writer = new SegmentWriter(backend, session, { segmentSize: ctx.config.segmentSize });
  for (const scan of damagedSegments) {
    const mine = moves.filter((m) => m.scan === scan);
    if (mine.length === 0) continue;
    const bytes = await backend.get(segmentKey(scan.name));
    for (const { entry: e } of mine) {
      const to = writer.append([bytes.subarray(e.offset, e.offset + e.size)]);
      index.set(e.id!, segments.ref(to.name), to.offset, to.size);
    }
    await writer.backpressure();
  }
  if (moves.length > 0) {
    writer.ensureRoom(128);
    const last = writer.seq;
    writer.append([encodeCommit({ session, first: 0, last, entries: moves.length, time: Date.now() })]);
    await writer.finishTransaction();
    txns.push([session, 0, last]);
  }
  for (const scan of damagedSegments) {
    const key = QUARANTINE_PREFIX + 'data-' + scan.name.replace('/', '-');
    await backend.put(key, await backend.get(segmentKey(scan.name)));
    quarantined.push(key);
  }
  for (const k of badIndexKeys) {
    const key = QUARANTINE_PREFIX + k.replace('/', '-');
    await backend.put(key, await backend.get(k));
    quarantined.push(key);
  }
  await writeFullIndex(backend, index, segments, txns, generation, indexKeys);
  await deleteAll(backend, indexKeys);
  await deleteAll(backend, damagedSegments.map((scan) => segmentKey(scan.name)));
  return { indexed: index.count, quarantined, rewrittenEntries: moves.length };
}

function covers(session: string, first: number, last: number, name: string): boolean {
  const p = parseSegment(name)!;
  return p.session === session && p.seq >= first && p.seq <= last;
}
