/**
 * The item format: one msgpack map per file system object, concatenated into the item stream.
 *
 * Layout of one item (a msgpack map; keys are short `str`; absent keys mean "not recorded"):
 *
 *   "path"   str | bin   archive path, relative, "/"-separated; `bin` when the name is not valid UTF-8
 *   "mode"   uint        st_mode including the S_IFMT type bits (regular, dir, symlink, fifo, chr, blk)
 *   "uid"    uint        "gid" uint
 *   "user"   str         "group" str      owner names, when the source system knew them
 *   "mtime"  timestamp   msgpack ext -1 (timestamp 32/64/96), full nanoseconds; "atime", "ctime" likewise
 *   "size"   uint        regular files: length in bytes (= sum of chunk sizes)
 *   "chunks" array       regular files: [ [ id bin(32), size uint ], ... ] in file order
 *   "target" str | bin   symlinks: the link target, bytes kept exactly
 *   "rdev"   uint        character and block devices: st_rdev
 *   "hlid"   bin(16)     hard links: H(dev, inode); every link carries the full chunk list
 *   "xattrs" map         extended attributes: name str → value bin, names in byte order (see xattrs.ts)
 *   "sparse" true        the source file had holes; extraction leaves zero blocks unallocated
 *   "healthy" array      damaged files only: the file's own chunk list, same shape and sizes as "chunks", kept by
 *                        `check --repair` when it replaced lost chunks in "chunks" with runs of zeros; present
 *                        only while the file is damaged (a later repair puts it back once the chunks exist again)
 *
 * Readers ignore keys they do not know, so later versions can add fields.
 */
import { Decoder, Encoder, ExtData, ExtensionCodec, decodeTimestampToTimeSpec, encodeTimeSpecToTimestamp } from '@msgpack/msgpack';
import { decodeAllBounded } from '../repository/index.js';

/** A chunk of a file's contents: its id (keyed MAC of the plaintext) and plaintext length. */
export interface ChunkRef {
  id: Uint8Array;
  size: number;
}

/** One file system object as stored in an archive. Times are nanoseconds since the epoch. */
export interface Item {
  /** Raw path bytes, relative, "/"-separated, never starting with "/". */
  path: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  mtime: bigint;
  atime?: bigint;
  ctime?: bigint;
  size?: number;
  chunks?: ChunkRef[];
  target?: Uint8Array;
  rdev?: number;
  hlid?: Uint8Array;
  xattrs?: Map<string, Uint8Array>;
  sparse?: boolean;
  /**
   * Set only on a damaged file: its original chunk list, kept when `check --repair` replaced lost chunks of
   * `chunks` with chunks of zeros of the same size (same length and sizes as `chunks`). See salvage.ts.
   */
  healthy?: ChunkRef[];
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFSOCK = 0o140000;

/** The kind of an item, from its mode's type bits. */
export type ItemKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket';

/** Maps the S_IFMT bits of `mode` to a kind; unknown bits throw (a corrupt or foreign item). */
export function itemKind(mode: number): ItemKind {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'dir';
    case S_IFLNK: return 'symlink';
    case S_IFIFO: return 'fifo';
    case S_IFCHR: return 'chardev';
    case S_IFBLK: return 'blockdev';
    case S_IFSOCK: return 'socket';
    default: throw new TypeError(`item mode ${mode.toString(8)} has no known file type`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');
const encoder8 = new TextEncoder();

/** Text when `bytes` is valid UTF-8 (msgpack `str`), else the bytes themselves (msgpack `bin`). */
function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes;
  }
}

function toBytes(value: unknown, field: string): Uint8Array {
  if (typeof value === 'string') return encoder8.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`item field ${field} must be str or bin`);
}

/** Display form of raw path bytes: UTF-8, invalid sequences shown as U+FFFD. */
export function pathText(path: Uint8Array): string {
  return lossy.decode(path);
}

/** Raw bytes of a display path (the inverse of `pathText` for valid UTF-8). */
export function pathBytes(text: string): Uint8Array {
  return encoder8.encode(text);
}

const NS = 1_000_000_000n;

function timestamp(ns: bigint): ExtData {
  // Floor division so times before 1970 keep a non-negative nanosecond part.
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) { nsec += NS; sec -= 1n; }
  return new ExtData(-1, encodeTimeSpecToTimestamp({ sec: Number(sec), nsec: Number(nsec) }));
}

const codec = new ExtensionCodec();
codec.register({
  type: -1,
  encode: () => null,
  decode: (data: Uint8Array) => {
    const { sec, nsec } = decodeTimestampToTimeSpec(data);
    return BigInt(sec) * NS + BigInt(nsec);
  },
});

const encoder = new Encoder({ extensionCodec: codec, ignoreUndefined: true });

/** Names in UTF-8 byte order, whatever order the file system listed them in: equal sets encode alike. */
function sortedXattrs(xattrs: ReadonlyMap<string, Uint8Array>): [string, Uint8Array][] {
  return [...xattrs].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** True when both have the same xattr names with byte-equal values, in any order (absent = none). */
export function sameXattrs(a: ReadonlyMap<string, Uint8Array> | undefined, b: ReadonlyMap<string, Uint8Array> | undefined): boolean {
  const x = a ?? new Map<string, Uint8Array>();
  const y = b ?? new Map<string, Uint8Array>();
  if (x.size !== y.size) return false;
  for (const [name, value] of x) {
    const other = y.get(name);
    if (other === undefined || Buffer.compare(value, other) !== 0) return false;
  }
  return true;
}

/** The msgpack map of `item` (see the layout above), as a plain object ready for the encoder. */
function toWire(item: Item): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    path: textOrBytes(item.path),
    mode: item.mode,
    uid: item.uid,
    gid: item.gid,
    user: item.user,
    group: item.group,
    mtime: timestamp(item.mtime),
    atime: item.atime === undefined ? undefined : timestamp(item.atime),
    ctime: item.ctime === undefined ? undefined : timestamp(item.ctime),
    size: item.size,
    chunks: item.chunks?.map((c) => [c.id, c.size]),
    target: item.target === undefined ? undefined : textOrBytes(item.target),
    rdev: item.rdev,
    hlid: item.hlid,
    xattrs: item.xattrs === undefined || item.xattrs.size === 0 ? undefined : Object.fromEntries(sortedXattrs(item.xattrs)),
    sparse: item.sparse ? true : undefined,
    healthy: item.healthy?.map((c) => [c.id, c.size]),
  };
  return wire;
}

/** Encodes one item as a msgpack map. */
export function encodeItem(item: Item): Uint8Array {
  return encoder.encode(toWire(item));
}

/** Every `uint` of the layout: a negative, fractional or inexact number is damage (or a forged item). */
function num(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError(`item field ${field} must be an unsigned integer`);
  return value;
}

/** Largest |time| in nanoseconds that a Date can show (8.64e15 ms): list, diff and extract turn times into dates. */
const MAX_TIME_NS = 8_640_000_000_000_000_000_000n;

/** True for a decoded timestamp (nanoseconds) within the range of a Date. */
export function isShowableTime(value: unknown): value is bigint {
  return typeof value === 'bigint' && value <= MAX_TIME_NS && value >= -MAX_TIME_NS;
}

function time(value: unknown, field: string): bigint {
  if (!isShowableTime(value)) throw new TypeError(`item field ${field} must be a timestamp within the range of a date`);
  return value;
}

function chunkList(value: unknown, field: string): ChunkRef[] {
  if (!Array.isArray(value)) throw new TypeError(`item field ${field} must be an array`);
  return value.map((c: unknown) => {
    if (!Array.isArray(c) || !(c[0] instanceof Uint8Array) || c[0].length !== 32) throw new TypeError('item chunk must be [id, size]');
    return { id: c[0], size: num(c[1], 'chunk size') };
  });
}

/** Validates a decoded msgpack map and builds the item; malformed input throws `TypeError`. */
export function itemFromWire(wire: unknown): Item {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new TypeError('item must be a map');
  const w = wire as Record<string, unknown>;
  const item: Item = {
    path: toBytes(w.path, 'path'),
    mode: num(w.mode, 'mode'),
    uid: num(w.uid, 'uid'),
    gid: num(w.gid, 'gid'),
    mtime: time(w.mtime, 'mtime'),
  };
  if (typeof w.user === 'string') item.user = w.user;
  if (typeof w.group === 'string') item.group = w.group;
  if (w.atime !== undefined) item.atime = time(w.atime, 'atime');
  if (w.ctime !== undefined) item.ctime = time(w.ctime, 'ctime');
  if (w.size !== undefined) item.size = num(w.size, 'size');
  if (w.chunks !== undefined) item.chunks = chunkList(w.chunks, 'chunks');
  if (w.healthy !== undefined) {
    const healthy = chunkList(w.healthy, 'healthy');
    // Repair replaces chunk for chunk: any other shape was written by no cairn.
    if (!item.chunks || healthy.length !== item.chunks.length || healthy.some((c, i) => c.size !== item.chunks![i]!.size)) {
      throw new TypeError('item field healthy must match chunks in length and sizes');
    }
    item.healthy = healthy;
  }
  if (w.target !== undefined) item.target = toBytes(w.target, 'target');
  if (w.rdev !== undefined) item.rdev = num(w.rdev, 'rdev');
  if (w.hlid !== undefined) item.hlid = toBytes(w.hlid, 'hlid');
  if (w.xattrs !== undefined) {
    if (typeof w.xattrs !== 'object' || w.xattrs === null) throw new TypeError('item field xattrs must be a map');
    item.xattrs = new Map(Object.entries(w.xattrs).map(([k, v]) => [k, toBytes(v, 'xattr')]));
  }
  if (w.sparse === true) item.sparse = true;
  itemKind(item.mode);
  return item;
}

/** A decoder for a stream of concatenated items (the item stream); one per stream. */
export function createItemDecoder(): Decoder {
  return new Decoder({ extensionCodec: codec });
}

/** Decodes every item in `bytes` (a whole item stream, or a prefix that ends on an item boundary). */
export function decodeItems(bytes: Uint8Array): Item[] {
  const out: Item[] = [];
  for (const wire of decodeAllBounded(bytes, createItemDecoder())) out.push(itemFromWire(wire));
  return out;
}

/** Encoder for other msgpack records of the archive layer (same timestamp handling). */
export const recordCodec = { encoder, decoder: (): Decoder => createItemDecoder(), timestamp };
