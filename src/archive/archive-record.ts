/**
 * Archive records: one repository record per archive (`records/archive-<escaped name>`), so
 * concurrent `create` runs never write the same object; the set of these records is the manifest.
 *
 * Record name: "archive-" + the UTF-8 name with every byte outside [A-Za-z0-9_-] (and a leading
 * ".") written as "=HH" (two upper-case hex digits); at most 120 characters after escaping.
 *
 * Record bytes:
 *
 *   id [32] | sealed chunk (the engine's envelope over the msgpack map below, bound to id)
 *
 * where id = chunkId(plaintext), checked again after opening. The msgpack map:
 *
 *   "v" 1, "name" str, "start" timestamp, "end" timestamp, "host" str, "user" str,
 *   "command" [str...], "comment" str, "checkpoint" bool,
 *   "items" [ id bin(32) ... ]   the item stream's chunks, in order
 *   "stats" { "files" uint, "original" uint, "compressed" uint, "deduplicated" uint, "chunks" uint }
 *   "paths" [str...]   the sources backed up (absolute; "stdin:NAME" for standard input); optional
 *   "tags" [str...]    the tags given to create; optional (records written before tags have neither key)
 *   "repaired" timestamp   when `check --repair` last rewrote the archive (lost chunks zeroed or healed); optional
 *
 * The name inside must equal the record's name, so records cannot be swapped undetected.
 */
import { ArchiveCorruptError, ArchiveExistsError, ArchiveNameError, ArchiveNotFoundError } from './errors.js';
import { isShowableTime, recordCodec } from './item.js';
import type { ArchiveContext } from './ports.js';
import { decodeBounded } from '../repository/index.js';

export const RECORD_PREFIX = 'archive-';
const MAX_ESCAPED = 120;

/** Totals of one `create` run; sizes in bytes (see docs/library.md for their exact meaning). */
export interface ArchiveStats {
  /** Regular files stored (hard links count once per link). */
  files: number;
  /** Plaintext size of every file's contents. */
  original: number;
  /** Stored size (compressed and encrypted) of the chunks this run added to the repository. */
  compressed: number;
  /** Plaintext size of the chunks this run added (what deduplication could not avoid). */
  deduplicated: number;
  /** Number of chunks this run added. */
  chunks: number;
}

/** The archive record as stored (times in nanoseconds since the epoch). */
export interface ArchiveRecord {
  name: string;
  start: bigint;
  end: bigint;
  host: string;
  user: string;
  command: string[];
  comment: string;
  /** Written by a `create` still running or interrupted: a checkpoint, not a finished archive. */
  checkpoint: boolean;
  items: Uint8Array[];
  stats: ArchiveStats;
  /** The sources of the backup as absolute paths (`stdin:NAME` for standard input); `[]` in records older than this field. */
  paths: string[];
  /** Tags given to `create --tag`; `[]` when none (and in older records). */
  tags: string[];
  /**
   * When `check --repair` last rewrote the archive's item stream (ns since the epoch); absent if never. It also makes
   * each rewritten record new: a healed archive never has the id of a record the journal names as removed.
   */
  repaired?: bigint;
}

/** The record name of an archive; throws `ArchiveNameError` for unusable names. */
export function recordName(name: string): string {
  if (name.length === 0) throw new ArchiveNameError(name, 'it is empty');
  if ([...name].some((c) => c === '/' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) throw new ArchiveNameError(name, 'it contains "/" or a control character');
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) || (c === '.' && out.length > 0) ? c : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length > MAX_ESCAPED) throw new ArchiveNameError(name, 'it is too long');
  return RECORD_PREFIX + out;
}

/** The archive name of a record name (inverse of `recordName`). */
export function nameOfRecord(record: string): string {
  const escaped = record.slice(RECORD_PREFIX.length);
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === '=') { bytes.push(parseInt(escaped.slice(i + 1, i + 3), 16)); i += 2; } else bytes.push(escaped.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A record to write: `paths` and `tags` may be left out (as in records written before they existed). */
export type NewArchiveRecord = Omit<ArchiveRecord, 'paths' | 'tags'> & Partial<Pick<ArchiveRecord, 'paths' | 'tags'>>;

/**
 * Seals and stores a record; `ifAbsent` turns a name collision into `ArchiveExistsError`; `beforePut` hears the record's
 * id before it is stored (repair journals it first). Resolves to the record id.
 */
export async function writeRecord(ctx: ArchiveContext, record: NewArchiveRecord, options: { ifAbsent: boolean; beforePut?(id: Uint8Array): Promise<void> }): Promise<Uint8Array> {
  const { encoder, timestamp } = recordCodec;
  const plaintext = encoder.encode({
    v: 1, name: record.name, start: timestamp(record.start), end: timestamp(record.end), host: record.host, user: record.user,
    command: record.command, comment: record.comment, checkpoint: record.checkpoint, items: record.items, stats: { ...record.stats },
    // Absent keys read as []: older readers ignore the new keys, newer readers accept records without them.
    ...(record.paths === undefined ? {} : { paths: record.paths }),
    ...(record.tags === undefined || record.tags.length === 0 ? {} : { tags: record.tags }),
    ...(record.repaired === undefined ? {} : { repaired: timestamp(record.repaired) }),
  });
  const id = ctx.codec.chunkId(plaintext);
  const sealed = await ctx.codec.seal(id, plaintext);
  const bytes = new Uint8Array(32 + sealed.length);
  bytes.set(id, 0);
  bytes.set(sealed, 32);
  await options.beforePut?.(id);
  try {
    await ctx.repository.putRecord(recordName(record.name), bytes, { ifAbsent: options.ifAbsent });
  } catch (error) {
    if ((error as { code?: string })?.code === 'EALREADY_EXISTS') throw new ArchiveExistsError(record.name);
    throw error;
  }
  return id;
}

/** The id of an archive's record (its first 32 bytes, not authenticated here), or undefined when there is none. */
export async function recordId(ctx: ArchiveContext, name: string): Promise<Uint8Array | undefined> {
  const bytes = await ctx.repository.getRecord(recordName(name));
  return bytes && bytes.length >= 32 ? bytes.slice(0, 32) : undefined;
}

/** True when an archive of that name exists. */
export async function recordExists(ctx: ArchiveContext, name: string): Promise<boolean> {
  return (await ctx.repository.getRecord(recordName(name))) !== undefined;
}

/**
 * True when every field has the type and range of the layout above (optional text, counts and flags may be
 * absent): an authenticated record still comes from any key holder, and in mode `none` from anyone.
 */
function wellTyped(w: Record<string, unknown>): boolean {
  const text = (v: unknown) => v === undefined || typeof v === 'string';
  const count = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
  const texts = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((c) => typeof c === 'string'));
  const stats = w.stats ?? {};
  return isShowableTime(w.start) && isShowableTime(w.end) && text(w.host) && text(w.user) && text(w.comment)
    && texts(w.command) && texts(w.paths) && texts(w.tags)
    && (w.checkpoint === undefined || typeof w.checkpoint === 'boolean') && (w.repaired === undefined || isShowableTime(w.repaired))
    && Array.isArray(w.items) && w.items.every((id) => id instanceof Uint8Array && id.length === 32)
    && typeof stats === 'object' && stats !== null && !Array.isArray(stats)
    && ['files', 'original', 'compressed', 'deduplicated', 'chunks'].every((k) => count((stats as Record<string, unknown>)[k]));
}

/** Reads, authenticates and decodes an archive record; missing → `ArchiveNotFoundError`. */
export async function readRecord(ctx: ArchiveContext, name: string): Promise<ArchiveRecord> {
  return (await readRecordWhole(ctx, name)).record;
}

/**
 * `readRecord`, with the record's id and its authenticated plaintext: `transfer` seals that same plaintext under the
 * same id in a related repository, so the copy is byte for byte the same record (and the journals name the same id).
 */
export async function readRecordWhole(ctx: ArchiveContext, name: string): Promise<{ record: ArchiveRecord; id: Uint8Array; plaintext: Uint8Array }> {
  const bytes = await ctx.repository.getRecord(recordName(name));
  if (bytes === undefined) throw new ArchiveNotFoundError(name);
  let w: Record<string, unknown>;
  const id = bytes.slice(0, 32);
  let plaintext: Uint8Array;
  try {
    plaintext = await ctx.codec.open(id, bytes.subarray(32));
    if (!Buffer.from(ctx.codec.chunkId(plaintext)).equals(id)) throw new Error('record id mismatch');
    w = decodeBounded(plaintext, recordCodec.decoder()) as Record<string, unknown>;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new Error('record is not a map');
  } catch (cause) {
    throw new ArchiveCorruptError(`record of archive "${name}" does not authenticate`, { cause });
  }
  if (w.v !== 1 || w.name !== name || !wellTyped(w)) throw new ArchiveCorruptError(`record of archive "${name}" is not a valid archive record`);
  await ctx.vouchRecord?.(name, id);
  const s = (w.stats ?? {}) as Record<string, number>;
  const record: ArchiveRecord = {
    name, start: w.start as bigint, end: w.end as bigint, host: String(w.host ?? ''), user: String(w.user ?? ''),
    command: (w.command as string[]) ?? [], comment: String(w.comment ?? ''), checkpoint: w.checkpoint === true,
    items: w.items as Uint8Array[],
    stats: { files: s.files ?? 0, original: s.original ?? 0, compressed: s.compressed ?? 0, deduplicated: s.deduplicated ?? 0, chunks: s.chunks ?? 0 },
    paths: (w.paths as string[] | undefined) ?? [], tags: (w.tags as string[] | undefined) ?? [],
  };
  if (w.repaired !== undefined) record.repaired = w.repaired as bigint;
  return { record, id, plaintext };
}

/**
 * Stores a record already sealed for this repository under `id` (`ifAbsent`: a name collision is `ArchiveExistsError`).
 * The caller vouches that `sealed` is the record of `name`, e.g. `transfer` after authenticating it in the other repository.
 */
export async function putSealedRecord(ctx: ArchiveContext, name: string, id: Uint8Array, sealed: Uint8Array): Promise<void> {
  const bytes = new Uint8Array(32 + sealed.length);
  bytes.set(id, 0);
  bytes.set(sealed, 32);
  try {
    await ctx.repository.putRecord(recordName(name), bytes, { ifAbsent: true });
  } catch (error) {
    if ((error as { code?: string })?.code === 'EALREADY_EXISTS') throw new ArchiveExistsError(name);
    throw error;
  }
}

/** Names of every archive (finished and checkpoints), sorted by name. */
export async function listArchiveNames(ctx: ArchiveContext): Promise<string[]> {
  return (await listArchiveRecords(ctx)).map((a) => a.name);
}

/** Every archive's name with the repository record that holds it (`archive-…`), sorted by name. */
export async function listArchiveRecords(ctx: ArchiveContext): Promise<{ name: string; record: string }[]> {
  const out: { name: string; record: string }[] = [];
  for await (const record of ctx.repository.listRecords(RECORD_PREFIX)) out.push({ name: nameOfRecord(record), record });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * True for the errors of `readRecord` that mean the record itself is bad (does not authenticate or
 * decode, or its name is not an archive name), as opposed to a storage failure worth retrying.
 */
export function isUnreadableRecord(error: unknown): error is ArchiveCorruptError | ArchiveNameError {
  return error instanceof ArchiveCorruptError || error instanceof ArchiveNameError;
}
