/**
 * Archive repair that salvages (`check --repair`, after the repository's own repair): in Borg's model, a file whose
 * chunks are lost (missing, or found corrupt by `--verify-data`) keeps its place in the archive with each lost chunk
 * replaced by a chunk of zeros of the same size (one stored chunk per size: deduplicated like any other), and is
 * marked damaged by keeping its own chunk list in the item (`healthy`, see item.ts). A later repair that finds those
 * chunks present again (a `create` stored the same data) puts them back and removes the mark: chunk healing. An
 * archive whose record or item stream cannot be read is moved aside to `quarantine/`; every other archive is left as
 * it is. Planning reads and writes nothing but reads; `applyArchiveRepair` carries a plan out. In an append-only
 * repository a record cannot be replaced, so the rewrites are decided against in the plan (`postponed`), before
 * anything is written, and the rest of the repair goes ahead (docs/adr/0057-repair-that-salvages.md).
 */
import { isUnreadableRecord, listArchiveRecords, readRecord, recordName, writeRecord, type ArchiveRecord } from './archive-record.js';
import { ChunkWriter } from './chunk-writer.js';
import { ArchiveCorruptError } from './errors.js';
import { pathText, type ChunkRef, type Item } from './item.js';
import { ItemStreamWriter, readItems } from './item-stream.js';
import type { ArchiveContext } from './ports.js';
import { AppendOnlyError, IdNotFoundError, IntegrityError } from '../repository/index.js';
import { ChunkIntegrityError, UnsupportedFormatError } from '../engine/index.js';

/** One file of an archive that the repair changes. */
export interface SalvagedFile {
  path: string;
  /** Chunks this repair replaces with zeros (lost since the last repair). */
  zeroed: number;
  /** Chunks this repair puts back: present again, so their zeros go (chunk healing). */
  healed: number;
  /** Bytes of the file that are zeros in place of lost data once the repair is done (0: whole again). */
  zeroBytes: number;
}

/** What the archive repair will change; `applyArchiveRepair` does exactly this. */
export interface ArchiveRepairPlan {
  /** Archive records that cannot be read (do not authenticate or decode): moved to `quarantine/`. */
  records: { archive: string; record: string; reason: string }[];
  /** Archives whose item stream cannot be read: their record is moved to `quarantine/`. */
  itemStreams: { archive: string; record: string; reason: string }[];
  /** Archives rewritten (same name, time and everything else; a new item stream), with the files that change. */
  rewrites: { archive: string; files: SalvagedFile[] }[];
  /**
   * Rewrites the repository refuses (append-only: a record cannot be replaced): not carried out, the files keep their
   * lost chunks (`extract` fails them alone) until a backup of the same data stores the chunks again.
   */
  postponed: { archive: string; files: SalvagedFile[]; reason: string }[];
  /** Chunks found corrupt (hex ids): deleted, so that a later `create` stores them again. */
  deleteChunks: string[];
  /** Chunks of zeros to store: one per size of lost chunk not stored yet. */
  zeroChunks: number;
  /** Damaged files left after the repair (marked, with zeros where data was lost), over all archives checked. */
  damagedFiles: number;
}

export interface ArchiveRepairOptions {
  /** Only these archives (default: all). */
  archives?: readonly string[];
  /** Chunks known corrupt (hex ids, from `checkArchives` with `verifyData`): treated as lost and deleted. */
  corrupt?: Iterable<string>;
}

/** The warning of `extract` and `dump` for a file repair marked damaged (code `EDAMAGED_FILE`). */
export const DAMAGED_FILE = 'restored with zeros where its data was lost (check --repair marked it damaged); back up the same data again and run "cairn check --repair" to restore it';

const hexOf = (id: Uint8Array): string => Buffer.from(id).toString('hex');
const reason = (e: unknown): string => `${(e as { code?: string })?.code ?? 'ERROR'}: ${(e as Error)?.message ?? String(e)}`;

/** Errors that mean the stored item stream is damaged, as opposed to a storage failure worth retrying. */
export function isDamage(error: unknown): boolean {
  return error instanceof ArchiveCorruptError || error instanceof IntegrityError || error instanceof IdNotFoundError
    || error instanceof ChunkIntegrityError || error instanceof UnsupportedFormatError;
}

/** The lost-chunk test and zero-chunk ids one repair shares between planning and applying. */
class Salvager {
  readonly #ctx: ArchiveContext;
  readonly #corrupt: Set<string>;
  readonly #zeros = new Map<number, Uint8Array>();

  constructor(ctx: ArchiveContext, corrupt: Iterable<string>) {
    this.#ctx = ctx;
    this.#corrupt = new Set(corrupt);
  }

  lost(id: Uint8Array): boolean {
    return !this.#ctx.repository.has(id) || this.#corrupt.has(hexOf(id));
  }

  /** The id of `size` zero bytes (the same for every file and archive: stored once). */
  zeroId(size: number): Uint8Array {
    let id = this.#zeros.get(size);
    if (!id) this.#zeros.set(size, id = this.#ctx.codec.chunkId(new Uint8Array(size)));
    return id;
  }

  /** Sizes of the zero chunks the repaired items use. */
  get zeroSizes(): number[] {
    return [...this.#zeros.keys()];
  }

  /**
   * The item as the repair leaves it, and what changed; undefined when it stays as it is. For each chunk of the
   * file's own list (`healthy` when marked, else `chunks`): present → that chunk; lost → the zeros already standing
   * in for it if they are present, else zeros of its size. Marked while any chunk stands in for a lost one.
   */
  salvage(item: Item): { item: Item; file: SalvagedFile } | undefined {
    const current = item.chunks;
    if (!current || current.length === 0) return undefined;
    const own = item.healthy ?? current;
    let zeroed = 0;
    let healed = 0;
    let zeroBytes = 0;
    const chunks: ChunkRef[] = own.map((c, i) => {
      const now = current[i]!;
      if (!this.lost(c.id)) {
        if (!Buffer.from(now.id).equals(c.id)) healed += 1;
        return c;
      }
      zeroBytes += c.size;
      if (!Buffer.from(now.id).equals(c.id) && !this.lost(now.id)) return now;
      zeroed += 1;
      return { id: this.zeroId(c.size), size: c.size };
    });
    const damaged = zeroBytes > 0;
    if (zeroed === 0 && healed === 0 && damaged === (item.healthy !== undefined)) return undefined;
    const repaired: Item = { ...item, chunks };
    if (damaged) repaired.healthy = own;
    else delete repaired.healthy;
    return { item: repaired, file: { path: pathText(item.path), zeroed, healed, zeroBytes } };
  }
}

/** Plans the archive repair (reads records and item streams; writes nothing). See the module header. */
export async function planArchiveRepair(ctx: ArchiveContext, options: ArchiveRepairOptions = {}): Promise<ArchiveRepairPlan> {
  const salvager = new Salvager(ctx, options.corrupt ?? []);
  const plan: ArchiveRepairPlan = { records: [], itemStreams: [], rewrites: [], postponed: [], deleteChunks: [], zeroChunks: 0, damagedFiles: 0 };
  const appendOnly = ctx.repository.config.appendOnly;
  const deleted = new Set<string>();
  for (const { name, record } of await selected(ctx, options.archives)) {
    let archive: ArchiveRecord;
    try {
      archive = await readRecord(ctx, name);
    } catch (error) {
      if (!isUnreadableRecord(error)) throw error;
      plan.records.push({ archive: name, record, reason: reason(error) });
      continue;
    }
    const files: SalvagedFile[] = [];
    const corrupt = new Set<string>();
    let marked = 0;
    let markedAfter = 0;
    try {
      for await (const item of readItems(ctx, archive.items)) {
        const done = salvager.salvage(item);
        if (item.healthy) marked += 1;
        if ((done?.item ?? item).healthy) markedAfter += 1;
        if (!done) continue;
        files.push(done.file);
        for (const c of item.healthy ?? item.chunks ?? []) if (salvager.lost(c.id) && ctx.repository.has(c.id)) corrupt.add(hexOf(c.id));
      }
    } catch (error) {
      if (!isDamage(error)) throw error;
      plan.itemStreams.push({ archive: name, record, reason: reason(error) });
      continue;
    }
    if (files.length > 0 && appendOnly) {
      plan.postponed.push({ archive: name, files, reason: 'the repository is append-only: an archive record cannot be replaced' });
      plan.damagedFiles += marked;
      continue;
    }
    plan.damagedFiles += markedAfter;
    if (files.length > 0) plan.rewrites.push({ archive: name, files });
    for (const hex of corrupt) deleted.add(hex);
  }
  plan.deleteChunks = [...deleted].sort();
  plan.zeroChunks = plan.rewrites.length === 0 ? 0 : salvager.zeroSizes.filter((size) => salvager.lost(salvager.zeroId(size))).length;
  return plan;
}

/** Every archive (or those named) with the record holding it. */
async function selected(ctx: ArchiveContext, names: readonly string[] | undefined): Promise<{ name: string; record: string }[]> {
  const stored = await listArchiveRecords(ctx);
  return names ? names.map((name) => stored.find((a) => a.name === name) ?? { name, record: recordName(name) }) : stored;
}

/** What `applyArchiveRepair` did: where each record moved. */
export interface ArchiveRepairResult {
  /** Archive name → the `quarantine/` key its record moved to. */
  quarantined: Map<string, string>;
  /** Archives rewritten. */
  rewritten: string[];
}

/**
 * Carries out `plan` (exclusive lock). Corrupt chunks are deleted, chunks of zeros stored, the new item streams
 * committed, and only then each archive's record replaced; the journal names the new record before the record is
 * replaced and drops the old one after, so an interruption leaves either record, journaled. Unreadable records move
 * to `quarantine/`, journaled as removed.
 */
export async function applyArchiveRepair(ctx: ArchiveContext, plan: ArchiveRepairPlan): Promise<ArchiveRepairResult> {
  const result: ArchiveRepairResult = { quarantined: new Map(), rewritten: [] };
  const repository = ctx.repository;
  if (!repository.quarantineRecord) throw new Error('this repository cannot quarantine records');
  // planArchiveRepair postpones rewrites in an append-only repository; a plan that still has some fails before any change.
  if (repository.config.appendOnly && (plan.rewrites.length > 0 || plan.deleteChunks.length > 0)) {
    throw new AppendOnlyError('the repository is append-only: archives with lost chunks cannot be rewritten');
  }
  for (const { archive, record } of [...plan.records, ...plan.itemStreams]) {
    const bytes = await repository.getRecord(record);
    result.quarantined.set(archive, await repository.quarantineRecord(record));
    if (bytes && bytes.length >= 32) await ctx.journal?.append({ removed: [{ name: archive, id: bytes.slice(0, 32) }] });
  }
  if (plan.rewrites.length === 0) return result;
  const salvager = new Salvager(ctx, plan.deleteChunks);
  for (const hex of plan.deleteChunks) await repository.delete(new Uint8Array(Buffer.from(hex, 'hex')));
  const stats = { files: 0, original: 0, compressed: 0, deduplicated: 0, chunks: 0 };
  const chunks = new ChunkWriter(ctx, stats);
  const rewritten: { archive: ArchiveRecord; items: Uint8Array[]; oldId: Uint8Array | undefined }[] = [];
  for (const { archive: name } of plan.rewrites) {
    const archive = await readRecord(ctx, name);
    const writer = new ItemStreamWriter(ctx, chunks);
    for await (const item of readItems(ctx, archive.items)) {
      const done = salvager.salvage(item);
      for (const c of done?.item.chunks ?? []) if (salvager.lost(c.id)) await chunks.store(new Uint8Array(c.size));
      await writer.add(done?.item ?? item);
    }
    const oldBytes = await repository.getRecord(recordName(name));
    rewritten.push({ archive, items: await writer.finish(), oldId: oldBytes && oldBytes.length >= 32 ? oldBytes.slice(0, 32) : undefined });
  }
  // The new item streams and zeros are durable before any record names them.
  await repository.commit();
  for (const { archive, items, oldId } of rewritten) {
    await replaceRecord(ctx, { ...archive, items, repaired: BigInt(Date.now()) * 1_000_000n }, oldId);
    result.rewritten.push(archive.name);
  }
  return result;
}

/**
 * Replaces an archive's record: journal the new record as added, replace the record, journal the old one as removed.
 * Interrupted after the first step, the journal names both and the old record stands; after the second, the new one.
 */
async function replaceRecord(ctx: ArchiveContext, record: ArchiveRecord, oldId: Uint8Array | undefined): Promise<void> {
  // Checkpoints (`NAME.checkpoint`) are never journaled: theirs is only replaced.
  const journal = record.name.endsWith('.checkpoint') ? undefined : ctx.journal;
  const id = await writeRecord(ctx, record, { ifAbsent: false, beforePut: async (newId) => { await journal?.append({ added: [{ name: record.name, id: newId }] }); } });
  if (oldId && !Buffer.from(oldId).equals(id)) await journal?.append({ removed: [{ name: record.name, id: oldId }] });
}
