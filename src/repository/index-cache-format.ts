/**
 * The format of the local index cache (`$XDG_CACHE_HOME/cairn/<repository id>/index`): the loaded
 * index of one repository and which index objects it was built from. All integers little-endian.
 *
 *   magic "CAIRNIC1" [8] | header length H u32
 *   header: msgpack map [H] (see CacheHeader)
 *   ids:    header.count × id [32], strictly ascending
 *   locs:   header.count × ( segment u32 (position in header.segments) | offset u32 | size u32 )
 *   HMAC-SHA256 [32] of every byte before it, keyed with the cache key
 *
 * The cache key derives from the repository key (engine `deriveLocalKey`), so a file edited by
 * anyone without the key, or a cache of another repository, fails the HMAC and is never used.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import { decodeBounded } from './msgpack-bounds.js';
import type { Txn } from './index-format.js';
import { ID_SIZE } from './segment-format.js';

const MAGIC = new TextEncoder().encode('CAIRNIC1');
const MAC_SIZE = 32;
const LOC_SIZE = 12;

/** An index object the cache was built from: key, size in the listing, writer's time, number of deletes. */
export type CachedObject = [key: string, size: number, time: number, deletes: number];

export interface CacheHeader {
  /** The repository id the cache belongs to. */
  repository: string;
  count: number;
  /** The full index applied (listing key and size), or null; with its generation and `covers`. */
  full: [key: string, size: number] | null;
  generation: number;
  covers: string[];
  /** The deltas applied on top of the full index. */
  deltas: CachedObject[];
  txns: Txn[];
  /** Segment names by ref: the `segment` of `locs` is a position in this list. */
  segments: string[];
}

export interface CacheContent {
  header: CacheHeader;
  /** count × 32 bytes, strictly ascending. */
  ids: Uint8Array;
  /** count × (segment ref, offset, size). */
  locs: Uint32Array;
}

/** Why a cache file was not used (the caller rebuilds and says so). */
export class CacheInvalidError extends Error {}

/** Serializes and authenticates a cache. */
export function encodeCache(content: CacheContent, key: Uint8Array): Uint8Array {
  const head = encode(content.header);
  const { count } = content.header;
  const out = new Uint8Array(12 + head.length + count * (ID_SIZE + LOC_SIZE) + MAC_SIZE);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, head.length, true);
  out.set(head, 12);
  let p = 12 + head.length;
  out.set(content.ids.subarray(0, count * ID_SIZE), p);
  p += count * ID_SIZE;
  for (let i = 0; i < count * 3; i++, p += 4) view.setUint32(p, content.locs[i], true);
  out.set(createHmac('sha256', key).update(out.subarray(0, p)).digest(), p);
  return out;
}

/**
 * Authenticates and parses a cache file of repository `repositoryId`; anything wrong (truncated,
 * tampered, another repository, out-of-order ids, refs out of range) throws `CacheInvalidError`.
 */
export function decodeCache(bytes: Uint8Array, key: Uint8Array, repositoryId: string): CacheContent {
  const bad = (what: string) => new CacheInvalidError(what);
  if (bytes.length < 12 + MAC_SIZE) throw bad('truncated');
  const end = bytes.length - MAC_SIZE;
  const mac = createHmac('sha256', key).update(bytes.subarray(0, end)).digest();
  if (!timingSafeEqual(mac, bytes.subarray(end))) throw bad('authentication failed');
  // Authentic from here on: written by a process holding the key. The checks below catch our own bugs.
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw bad('bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLength = view.getUint32(8, true);
  if (12 + headLength > end) throw bad('truncated header');
  let header: CacheHeader;
  try {
    header = decodeBounded(bytes.subarray(12, 12 + headLength)) as CacheHeader;
  } catch {
    throw bad('undecodable header');
  }
  if (!validHeader(header)) throw bad('malformed header');
  if (header.repository !== repositoryId) throw bad('another repository');
  const { count } = header;
  let p = 12 + headLength;
  if (p + count * (ID_SIZE + LOC_SIZE) !== end) throw bad('size does not match its count');
  // A copy (`slice` of the Buffer readFile gives would be a view holding the whole file).
  const ids = new Uint8Array(bytes.subarray(p, p + count * ID_SIZE));
  p += count * ID_SIZE;
  const locs = new Uint32Array(count * 3);
  for (let i = 0; i < count * 3; i++, p += 4) locs[i] = view.getUint32(p, true);
  for (let i = 0; i < count; i++) if (locs[i * 3] >= header.segments.length) throw bad('segment reference out of range');
  return { header, ids, locs };
}

function validHeader(h: CacheHeader): boolean {
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const str = (s: unknown) => typeof s === 'string';
  return typeof h === 'object' && h !== null && str(h.repository) && count(h.count) && count(h.generation)
    && (h.full === null || (Array.isArray(h.full) && str(h.full[0]) && count(h.full[1])))
    && Array.isArray(h.covers) && h.covers.every(str)
    && Array.isArray(h.deltas) && h.deltas.every((d) => Array.isArray(d) && str(d[0]) && count(d[1]) && count(d[2]) && count(d[3]))
    && Array.isArray(h.txns) && h.txns.every((t) => Array.isArray(t) && str(t[0]) && count(t[1]) && count(t[2]))
    && Array.isArray(h.segments) && h.segments.every(str);
}
