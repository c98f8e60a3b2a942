/**
 * The archive journal: a sealed, append-only log of archive additions and deletions, one small record per write by
 * each client session, so that `check` and `rlist` can tell an archive deleted with the key (delete, prune, by any
 * client) from one whose record vanished without it, and the local security state can notice a rollback. Archive
 * records stay one object per archive; the journal only names them.
 *
 * Record name: "journal-" + writer id (16 hex digits, random per session) + "-" + sequence (8 hex digits, from 0,
 * one more for each entry of that writer); written with `ifAbsent`, never rewritten, never deleted except by `rdelete`
 * (compaction leaves records alone). Record bytes, like an archive record:
 *
 *   id [32] | sealed envelope (bound to id) of the msgpack map
 *   { "v": 1, "writer": str, "seq": uint, "time": uint (ms), "added": [[name str, record id bin(32)]...],
 *     "removed": [[name str, record id bin(32)]...] }
 *
 * where id = chunkId(plaintext), checked after opening, and writer/seq must equal the record's name.
 */
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { RECORD_PREFIX, nameOfRecord, recordName } from './archive-record.js';
import { recordCodec } from './item.js';
import { decodeBounded } from '../repository/index.js';
import type { ArchiveContext, ChunkRepository } from './ports.js';

export const JOURNAL_PREFIX = 'journal-';
const NAME = /^journal-([0-9a-f]{16})-([0-9a-f]{8})$/;

/** One archive as the journal names it: its name and the id of its record (first 32 bytes of the record object). */
export interface JournalArchive { name: string; id: Uint8Array }

/** Appends journal entries for one client session; `ArchiveContext.journal` of an opened repository. */
export interface ArchiveJournal {
  /** Seals and stores one entry (`ifAbsent`); resolves once it is stored and the local state knows it. */
  append(change: { added?: readonly JournalArchive[]; removed?: readonly JournalArchive[] }): Promise<void>;
}

/** The record name of a journal entry. */
export function journalRecordName(writer: string, seq: number): string {
  return `${JOURNAL_PREFIX}${writer}-${seq.toString(16).padStart(8, '0')}`;
}

/** Writer and sequence of a journal record name, or undefined when the name is not one. */
export function parseJournalName(name: string): { writer: string; seq: number } | undefined {
  const m = NAME.exec(name);
  return m ? { writer: m[1]!, seq: parseInt(m[2]!, 16) } : undefined;
}

/** A journal for a new writer (random id); `onStored` hears of each entry once it is stored. */
export function createArchiveJournal(ctx: Omit<ArchiveContext, 'journal'>, onStored?: (writer: string, seq: number) => Promise<void>): ArchiveJournal {
  const writer = randomBytes(8).toString('hex');
  let seq = 0;
  let queue: Promise<void> = Promise.resolve();
  return {
    append(change) {
      // Entries of one writer are numbered in order, one at a time.
      const run = queue.then(async () => {
        await storeJournal(ctx, writer, seq, change, { ifAbsent: true });
        // Counted only once stored, so a failed write leaves no gap in the writer's sequence.
        const stored = seq++;
        await onStored?.(writer, stored);
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

async function storeJournal(ctx: Omit<ArchiveContext, 'journal'>, writer: string, seq: number, change: { added?: readonly JournalArchive[]; removed?: readonly JournalArchive[] }, options: { ifAbsent: boolean }): Promise<void> {
  const pairs = (list: readonly JournalArchive[] = []) => list.map((a) => [a.name, a.id]);
  const plaintext = recordCodec.encoder.encode({ v: 1, writer, seq, time: Date.now(), added: pairs(change.added), removed: pairs(change.removed) });
  const id = ctx.codec.chunkId(plaintext);
  const sealed = await ctx.codec.seal(id, plaintext);
  const bytes = new Uint8Array(32 + sealed.length);
  bytes.set(id, 0);
  bytes.set(sealed, 32);
  await ctx.repository.putRecord(journalRecordName(writer, seq), bytes, options);
}

/**
 * The journals as the local security state keeps them: for each writer, the highest sequence n such that entries
 * 0..n are all present (entries past a gap are not counted, so a gap never becomes a permanent false alarm).
 */
export function journalView(present: Map<string, Set<number>>): Record<string, number> {
  const view: Record<string, number> = {};
  for (const [writer, seqs] of present) {
    let n = -1;
    while (seqs.has(n + 1)) n++;
    if (n >= 0) view[writer] = n;
  }
  return view;
}

/** Every journal record name in the store (names only; nothing authenticated). */
export async function listJournalNames(repository: ChunkRepository): Promise<string[]> {
  const names: string[] = [];
  for await (const name of repository.listRecords(JOURNAL_PREFIX)) if (parseJournalName(name)) names.push(name);
  return names;
}

/** The journal records `names` holds: writer → sequences present. */
export function journalPresence(names: readonly string[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const name of names) {
    const parsed = parseJournalName(name)!;
    if (!out.has(parsed.writer)) out.set(parsed.writer, new Set());
    out.get(parsed.writer)!.add(parsed.seq);
  }
  return out;
}

/** Journal objects that `known` (writer → highest sequence seen) says existed and that the store no longer has. */
export function missingJournals(known: Record<string, number>, present: Map<string, Set<number>>): string[] {
  const missing: string[] = [];
  for (const [writer, highest] of Object.entries(known)) {
    const seqs = present.get(writer);
    for (let seq = 0; seq <= highest; seq++) if (!seqs?.has(seq)) missing.push(journalRecordName(writer, seq));
  }
  return missing;
}

/** What the audit of the archive set found; see `auditArchiveSet`. */
export interface ArchiveSetFinding {
  /**
   * `vanished`: journaled as added, never journaled as deleted, and its record is gone (deleted without the key);
   * `replaced`: the record under a journaled name is another, unjournaled one (an older record put back);
   * `journal`: a journal record does not authenticate or is malformed;
   * `undeleted`: journaled as deleted, yet its record is there (an interrupted delete, or a deleted record put back);
   * `unjournaled`: a record no journal names (written by a client interrupted before its journal entry).
   */
  kind: 'vanished' | 'replaced' | 'journal' | 'undeleted' | 'unjournaled';
  archive?: string;
  /** The record id (hex) concerned, when there is one. */
  id?: string;
  /** The record name (`journal` findings). */
  record?: string;
  reason: string;
}

/** The result of `auditArchiveSet`. */
export interface ArchiveSetAudit {
  journals: number;
  findings: ArchiveSetFinding[];
}

/** Findings that only a writer without the key (or damage) explains: `check` fails on them, `rlist` warns. */
export const TAMPER_KINDS: ReadonlySet<ArchiveSetFinding['kind']> = new Set(['vanished', 'replaced', 'journal']);

/**
 * Compares the archive records in the store with the journal. Reads and authenticates every journal record and the
 * first 32 bytes (the id) of every archive record; the records themselves are authenticated where they are read
 * (`readArchive`, `check`). Checkpoint records (`<name>.checkpoint`) are not journaled and not audited.
 */
export async function auditArchiveSet(ctx: Omit<ArchiveContext, 'journal'>): Promise<ArchiveSetAudit> {
  const findings: ArchiveSetFinding[] = [];
  const entries: JournalEntry[] = [];
  let journals = 0;
  for await (const recordName of ctx.repository.listRecords(JOURNAL_PREFIX)) {
    journals += 1;
    try {
      entries.push(await readJournal(ctx, recordName));
    } catch (error) {
      findings.push({ kind: 'journal', record: recordName, reason: `${recordName} ${(error as Error).message}` });
    }
  }
  const { added, removed, liveByName } = replay(entries);
  const present = new Map<string, string>();
  for await (const recordName of ctx.repository.listRecords(RECORD_PREFIX)) {
    const name = nameOfRecord(recordName);
    if (name.endsWith('.checkpoint')) continue;
    const bytes = await ctx.repository.getRecord(recordName);
    if (bytes && bytes.length >= 32) present.set(name, Buffer.from(bytes.subarray(0, 32)).toString('hex'));
  }
  for (const [name, id] of present) {
    // A deleted record put back over a live archive of the same name hides that archive: `replaced`, not `undeleted`
    // (whose repair, deleting the record, would lose the live archive without a word).
    const hidesLive = liveByName.has(name) && liveByName.get(name) !== id;
    if (removed.has(id) && !hidesLive) findings.push({ kind: 'undeleted', archive: name, id, reason: 'deleted with the key, but its record is still or again there' });
    else if (added.has(id) && !removed.has(id)) continue;
    else if (hidesLive) findings.push({ kind: 'replaced', archive: name, id, reason: 'its record is not the one the journal names: an older record was put back' });
    else findings.push({ kind: 'unjournaled', archive: name, id, reason: 'no journal names this archive (its writer stopped before journaling it)' });
  }
  for (const [name, id] of liveByName) {
    if (present.has(name)) continue; // the same record, or `replaced` above
    findings.push({ kind: 'vanished', archive: name, id, reason: 'its record is gone but no client deleted it with the key' });
  }
  return { journals, findings };
}

/** What one journal record says: [archive name, record id (hex)] pairs added and removed. */
export interface JournalEntry { added: [string, string][]; removed: [string, string][] }

/** Replays journal entries (in any order: ids are unique): ids added (→ name), ids removed, and each live name's id. */
function replay(entries: Iterable<JournalEntry>): { added: Map<string, string>; removed: Set<string>; liveByName: Map<string, string> } {
  const added = new Map<string, string>();
  const removed = new Set<string>();
  for (const entry of entries) {
    for (const [name, id] of entry.added) added.set(id, name);
    for (const [, id] of entry.removed) removed.add(id);
  }
  const liveByName = new Map<string, string>();
  for (const [id, name] of added) if (!removed.has(id)) liveByName.set(name, id);
  return { added, removed, liveByName };
}

/**
 * The live archives the journal names (name → record id, hex), from the journal records `names`. Entries in `known`
 * (authenticated earlier, kept on this machine) are not read again; the others are read and authenticated, at most
 * eight at a time, and added to `known`. A record that does not authenticate is left out and counted in `unreadable`
 * (`check` reports it). Resolves to how many records were read.
 */
export async function journaledArchives(ctx: Omit<ArchiveContext, 'journal'>, names: readonly string[], known: Map<string, JournalEntry>): Promise<{ live: Map<string, string>; read: number; unreadable: number }> {
  const missing = names.filter((name) => !known.has(name));
  let unreadable = 0;
  await pLimit(8).map(missing, async (name) => {
    try {
      known.set(name, await readJournal(ctx, name));
    } catch (error) {
      if ((error as { code?: string }).code !== undefined) throw error; // the store failed: not a verdict on the record
      unreadable += 1;
    }
  });
  const present = names.map((name) => known.get(name)).filter((e): e is JournalEntry => e !== undefined);
  return { live: replay(present).liveByName, read: missing.length - unreadable, unreadable };
}

async function readJournal(ctx: Omit<ArchiveContext, 'journal'>, recordName: string): Promise<JournalEntry> {
  const parsed = parseJournalName(recordName);
  const bytes = await ctx.repository.getRecord(recordName);
  if (!parsed || !bytes || bytes.length < 32) throw new Error('not a journal record');
  let w: Record<string, unknown>;
  try {
    const id = bytes.subarray(0, 32);
    const plaintext = await ctx.codec.open(id, bytes.subarray(32));
    if (!Buffer.from(ctx.codec.chunkId(plaintext)).equals(id)) throw new Error('id mismatch');
    w = decodeBounded(plaintext, recordCodec.decoder()) as Record<string, unknown>;
    if (w === null || typeof w !== 'object' || Array.isArray(w)) throw new Error('not a map');
  } catch {
    throw new Error('does not authenticate');
  }
  // Exactly the layout above: [name, id] pairs of two, a time in ms (anything else was written by no client).
  const pairs = (v: unknown): [string, string][] => {
    if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && p[1] instanceof Uint8Array && p[1].length === 32)) throw new Error('malformed');
    return v.map((p: [string, Uint8Array]) => [p[0], Buffer.from(p[1]).toString('hex')]);
  };
  if (w.v !== 1 || w.writer !== parsed.writer || w.seq !== parsed.seq) throw new Error('its content does not match its name');
  if (typeof w.time !== 'number' || !Number.isSafeInteger(w.time) || w.time < 0) throw new Error('malformed');
  return { added: pairs(w.added), removed: pairs(w.removed) };
}

/**
 * What `check --repair` does with an audit: journals vanished archives as deleted (their loss is acknowledged) and
 * unjournaled ones as added (adopted), finishes deletions whose record is still there, and rewrites journal records
 * that do not authenticate as empty ones. `replaced` archives are left for the user to delete. Resolves to the findings handled.
 */
export async function repairArchiveSet(ctx: ArchiveContext, audit: ArchiveSetAudit): Promise<ArchiveSetFinding[]> {
  if (!ctx.journal) throw new Error('repairing the archive set needs a journal (open the repository with openRepository)');
  const done: ArchiveSetFinding[] = [];
  const pick = (kind: ArchiveSetFinding['kind']) => audit.findings.filter((f) => f.kind === kind && f.archive !== undefined && f.id !== undefined);
  const entry = (f: ArchiveSetFinding): JournalArchive => ({ name: f.archive!, id: new Uint8Array(Buffer.from(f.id!, 'hex')) });
  const removed = pick('vanished');
  const added = pick('unjournaled');
  if (removed.length + added.length > 0) await ctx.journal.append({ added: added.map(entry), removed: removed.map(entry) });
  done.push(...removed, ...added);
  for (const f of pick('undeleted')) {
    await ctx.repository.deleteRecord(recordName(f.archive!));
    done.push(f);
  }
  for (const f of audit.findings) {
    const parsed = f.kind === 'journal' && f.record !== undefined ? parseJournalName(f.record) : undefined;
    if (!parsed) continue;
    // Rewritten as an empty entry of the same writer and sequence: the sequence stays whole, what it said is lost
    // (the archives it named are reported, and adopted, as unjournaled).
    await storeJournal(ctx, parsed.writer, parsed.seq, {}, { ifAbsent: false });
    done.push(f);
  }
  return done;
}
