/**
 * The segment format: a segment (`data/<session>/<seq>`) is a plain sequence of entries, no file
 * header. All integers are little-endian.
 *
 *   PUT2:    crc32 u32 | size u32 | tag u8 = 3 | id [32] | xxh64 u64 | value [size - 49]
 *   DELETE:  crc32 u32 | size u32 | tag u8 = 1 | id [32]                       (size = 41)
 *   COMMIT:  crc32 u32 | size u32 | tag u8 = 2 | msgpack map { session, first, last, entries, time }
 *
 * `size` is the whole entry, crc32 field included. PUT2: xxh64 = XXH64(size|tag|id|value) and
 * crc32 = CRC32(size|tag|id|xxh64), so a header (49 bytes) is checked without reading its value.
 * DELETE and COMMIT: crc32 = CRC32(every byte after the crc32 field).
 */
import { encode } from '@msgpack/msgpack';
import { decodeBounded } from './msgpack-bounds.js';
import { crc32, xxh64 } from './digests.js';
import { IntegrityError } from './errors.js';

export const TAG_DELETE = 1;
export const TAG_COMMIT = 2;
export const TAG_PUT2 = 3;
export const ID_SIZE = 32;
export const PUT_HEADER_SIZE = 49;
export const DELETE_SIZE = 41;
/** Smallest header that tells size and tag. */
export const MIN_HEADER_SIZE = 9;
/** Largest entry accepted: a size field beyond this is damage, not data. */
export const MAX_ENTRY_SIZE = 0xffff_ffff;
/**
 * Largest COMMIT entry accepted (its map takes under 100 bytes): without this bound, resynchronizing after damage
 * checksummed up to the rest of the segment at every candidate offset, quadratic in a crafted segment's size.
 */
export const MAX_COMMIT_SIZE = 1024;

/** What a COMMIT entry says: the transaction covers `data/<session>/<first..last>`. */
export interface CommitInfo {
  /** 16 lowercase hex digits. */
  session: string;
  first: number;
  last: number;
  /** Number of PUT2 and DELETE entries in the transaction. */
  entries: number;
  /** Milliseconds since the epoch, from the writer's clock. */
  time: number;
}

/** The 49-byte header of a PUT2 entry for `value`; the entry is `header` followed by `value`. */
export function encodePutHeader(id: Uint8Array, value: Uint8Array): Uint8Array {
  checkId(id);
  const size = PUT_HEADER_SIZE + value.length;
  if (size > MAX_ENTRY_SIZE) throw new RangeError(`value of ${value.length} bytes is too large for one entry`);
  const header = new Uint8Array(PUT_HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint32(4, size, true);
  header[8] = TAG_PUT2;
  header.set(id, 9);
  view.setBigUint64(41, xxh64(header.subarray(4, 41), value), true);
  view.setUint32(0, crc32(header.subarray(4, 49)), true);
  return header;
}

/** A whole DELETE entry. */
export function encodeDelete(id: Uint8Array): Uint8Array {
  checkId(id);
  const entry = new Uint8Array(DELETE_SIZE);
  const view = new DataView(entry.buffer);
  view.setUint32(4, DELETE_SIZE, true);
  entry[8] = TAG_DELETE;
  entry.set(id, 9);
  view.setUint32(0, crc32(entry.subarray(4)), true);
  return entry;
}

/** A whole COMMIT entry. */
export function encodeCommit(info: CommitInfo): Uint8Array {
  const body = encode({ session: info.session, first: info.first, last: info.last, entries: info.entries, time: info.time });
  const entry = new Uint8Array(MIN_HEADER_SIZE + body.length);
  const view = new DataView(entry.buffer);
  view.setUint32(4, entry.length, true);
  entry[8] = TAG_COMMIT;
  entry.set(body, 9);
  view.setUint32(0, crc32(entry.subarray(4)), true);
  return entry;
}

/** A header that passed its checks. For PUT2, `digest` is the stored xxh64 of the value. */
export interface EntryHeader {
  tag: number;
  size: number;
  id?: Uint8Array;
  digest?: bigint;
}

/**
 * Checks the header at `offset` of `bytes` (which may hold only part of the segment) and returns
 * it, or a reason string when it is damaged. `available` is how many bytes of the segment exist
 * from `offset` on (so a size running past the end is caught as truncation).
 */
export function readHeader(bytes: Uint8Array, offset: number, available = bytes.length - offset): EntryHeader | string {
  if (available < MIN_HEADER_SIZE || bytes.length - offset < MIN_HEADER_SIZE) return 'truncated header';
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  const stored = view.getUint32(0, true);
  const size = view.getUint32(4, true);
  const tag = bytes[offset + 8];
  if (tag === TAG_PUT2) {
    if (bytes.length - offset < PUT_HEADER_SIZE) return 'truncated header';
    if (crc32(bytes.subarray(offset + 4, offset + PUT_HEADER_SIZE)) !== stored) return 'header checksum mismatch';
    if (size < PUT_HEADER_SIZE) return 'bad entry size';
    if (size > available) return 'truncated entry';
    // A copy, never `slice`: on a Buffer (what the SFTP backend returned) `slice` is a view, and each id
    // would keep its whole segment alive (a --verify-data check over SFTP held every segment it had read).
    return { tag, size, id: new Uint8Array(bytes.subarray(offset + 9, offset + 41)), digest: view.getBigUint64(41, true) };
  }
  if (tag === TAG_DELETE || tag === TAG_COMMIT) {
    if (tag === TAG_DELETE ? size !== DELETE_SIZE : size < MIN_HEADER_SIZE || size > MAX_COMMIT_SIZE) return 'bad entry size';
    if (size > available || size > bytes.length - offset) return 'truncated entry';
    if (crc32(bytes.subarray(offset + 4, offset + size)) !== stored) return 'checksum mismatch';
    return tag === TAG_DELETE ? { tag, size, id: new Uint8Array(bytes.subarray(offset + 9, offset + 41)) } : { tag, size };
  }
  return 'unknown tag';
}

/**
 * The value of the PUT2 entry `entry` (exactly one whole entry), after checking its header, its id
 * against `id` and its digest. Any mismatch throws `IntegrityError`: bad data is never returned.
 */
export function openPut(entry: Uint8Array, id: Uint8Array, where: { key: string; offset: number }): Uint8Array {
  const header = readHeader(entry, 0, entry.length);
  if (typeof header === 'string') throw new IntegrityError(`${where.key} at ${where.offset}: ${header}`, where);
  if (header.tag !== TAG_PUT2 || header.size !== entry.length) throw new IntegrityError(`${where.key} at ${where.offset}: not the expected entry`, where);
  if (!equalIds(header.id!, id)) throw new IntegrityError(`${where.key} at ${where.offset}: entry holds another id`, where);
  const value = entry.subarray(PUT_HEADER_SIZE);
  if (xxh64(entry.subarray(4, 41), value) !== header.digest) throw new IntegrityError(`${where.key} at ${where.offset}: value digest mismatch`, where);
  return value;
}

/** Decodes the body of a COMMIT entry whose header already passed `readHeader`. */
export function decodeCommit(entry: Uint8Array): CommitInfo | undefined {
  try {
    const m = decodeBounded(entry.subarray(MIN_HEADER_SIZE)) as Partial<CommitInfo> | null;
    if (typeof m !== 'object' || m === null) return undefined;
    const ok = typeof m.session === 'string' && /^[0-9a-f]{16}$/.test(m.session)
      && [m.first, m.last, m.entries, m.time].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
    return ok ? (m as CommitInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** True when two 32-byte ids are equal. */
export function equalIds(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkId(id: Uint8Array): void {
  if (!(id instanceof Uint8Array) || id.length !== ID_SIZE) throw new TypeError(`an id is ${ID_SIZE} bytes`);
}
