/**
 * The format of index objects (`index/<session>-<seq>` deltas and `index/full-<gen>` full indexes).
 * All integers little-endian.
 *
 *   magic "CAIRNIX1" [8] | kind u8 (1 = delta, 2 = full) | 0 [3] | header length H u32
 *   header: msgpack map [H] (see IndexHeader)
 *   puts:    header.puts × ( id [32] | segment u32 (into header.segments) | offset u32 | size u32 )
 *   deletes: header.deletes × id [32]
 *   xxh64 u64 of every byte before it
 */
import { encode } from '@msgpack/msgpack';
import { decodeBounded } from './msgpack-bounds.js';
import { xxh64 } from './digests.js';
import { IntegrityError } from './errors.js';
import { ID_SIZE } from './segment-format.js';

const MAGIC = new TextEncoder().encode('CAIRNIX1');
export const KIND_DELTA = 1;
export const KIND_FULL = 2;
const PUT_RECORD = ID_SIZE + 12;

/** A committed transaction: it covers `data/<session>/<first..last>`, COMMIT entry in `last`. */
export type Txn = [session: string, first: number, last: number];

export interface IndexHeader {
  /** Segment names (`<session>/<seq>`) the puts refer to by position. */
  segments: string[];
  /** The transactions whose segments the puts live in (a delta: exactly its own). */
  txns: Txn[];
  /** Writer's clock, ms since the epoch: deltas are applied in (time, key) order. */
  time: number;
  puts: number;
  deletes: number;
  /** Full index only: its generation and the delta keys (and older full index) it replaces. */
  generation?: number;
  covers?: string[];
}

export interface IndexObject {
  kind: number;
  header: IndexHeader;
  /** puts × 32 bytes. */
  putIds: Uint8Array;
  /** puts × (segment position in header.segments, offset, size). */
  putLocs: Uint32Array;
  /** deletes × 32 bytes. */
  deleteIds: Uint8Array;
}

/** Serializes an index object; `putIds`/`putLocs`/`deleteIds` hold exactly header.puts/deletes records. */
export function encodeIndex(obj: IndexObject): Uint8Array {
  const head = encode(obj.header);
  const { puts, deletes } = obj.header;
  const size = 16 + head.length + puts * PUT_RECORD + deletes * ID_SIZE + 8;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[8] = obj.kind;
  view.setUint32(12, head.length, true);
  out.set(head, 16);
  let p = 16 + head.length;
  for (let i = 0; i < puts; i++, p += PUT_RECORD) {
    out.set(obj.putIds.subarray(i * ID_SIZE, i * ID_SIZE + ID_SIZE), p);
    view.setUint32(p + 32, obj.putLocs[i * 3], true);
    view.setUint32(p + 36, obj.putLocs[i * 3 + 1], true);
    view.setUint32(p + 40, obj.putLocs[i * 3 + 2], true);
  }
  out.set(obj.deleteIds.subarray(0, deletes * ID_SIZE), p);
  p += deletes * ID_SIZE;
  view.setBigUint64(p, xxh64(out.subarray(0, p)), true);
  return out;
}

/** Parses and verifies an index object; any damage throws `IntegrityError` naming `key`. */
export function decodeIndex(bytes: Uint8Array, key: string): IndexObject {
  const bad = (what: string, offset?: number) => new IntegrityError(`index object ${key}: ${what}`, { key, offset });
  if (bytes.length < 24) throw bad('truncated');
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw bad('bad magic', 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 8;
  if (view.getBigUint64(end, true) !== xxh64(bytes.subarray(0, end))) throw bad('checksum mismatch');
  const kind = bytes[8];
  if (kind !== KIND_DELTA && kind !== KIND_FULL) throw bad('unknown kind', 8);
  const headLength = view.getUint32(12, true);
  if (16 + headLength > end) throw bad('truncated header', 12);
  let header: IndexHeader;
  try {
    header = decodeBounded(bytes.subarray(16, 16 + headLength)) as IndexHeader;
  } catch (cause) {
    throw new IntegrityError(`index object ${key}: undecodable header`, { key, offset: 16, cause });
  }
  if (!validHeader(header)) throw bad('malformed header', 16);
  let p = 16 + headLength;
  if (p + header.puts * PUT_RECORD + header.deletes * ID_SIZE !== end) throw bad('size does not match its counts');
  const putIds = new Uint8Array(header.puts * ID_SIZE);
  const putLocs = new Uint32Array(header.puts * 3);
  for (let i = 0; i < header.puts; i++, p += PUT_RECORD) {
    putIds.set(bytes.subarray(p, p + ID_SIZE), i * ID_SIZE);
    const segment = view.getUint32(p + 32, true);
    if (segment >= header.segments.length) throw bad('segment reference out of range', p + 32);
    putLocs[i * 3] = segment;
    putLocs[i * 3 + 1] = view.getUint32(p + 36, true);
    putLocs[i * 3 + 2] = view.getUint32(p + 40, true);
  }
  // A copy (`slice` of a Buffer, which a backend could return, would be a view holding the whole object).
  const deleteIds = new Uint8Array(bytes.subarray(p, p + header.deletes * ID_SIZE));
  return { kind, header, putIds, putLocs, deleteIds };
}

function validHeader(h: IndexHeader): boolean {
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  return typeof h === 'object' && h !== null && Array.isArray(h.segments) && h.segments.every((s) => typeof s === 'string')
    && Array.isArray(h.txns) && h.txns.every((t) => Array.isArray(t) && typeof t[0] === 'string' && count(t[1]) && count(t[2]))
    && count(h.time) && count(h.puts) && count(h.deletes)
    && (h.covers === undefined || (Array.isArray(h.covers) && h.covers.every((c) => typeof c === 'string')));
}
