/**
 * The tar stream `dump` and `export-tar` write (and, with the variants below, what `import-tar` reads through
 * tar-read.ts): POSIX.1-2001 (pax) over ustar, which GNU tar, bsdtar and Python read.
 *
 * Byte layout: a sequence of 512-byte blocks. Each member is one header block, then its contents (regular files
 * only) padded with zeros to a multiple of 512; the stream ends with two zero blocks. A ustar header:
 *
 *   offset size field          offset size field
 *        0  100 name                257    6 magic "ustar\0"
 *      100    8 mode (octal)        263    2 version "00"
 *      108    8 uid (octal)         265   32 uname
 *      116    8 gid (octal)         297   32 gname
 *      124   12 size (octal)        329    8 devmajor (octal)
 *      136   12 mtime (octal, s)    337    8 devminor (octal)
 *      148    8 chksum              345  155 prefix (name = prefix "/" name)
 *      156    1 typeflag            500   12 zero
 *      157  100 linkname
 *
 * Numbers are zero-padded octal ending in NUL; chksum is the sum of the header's bytes with the chksum field read
 * as eight spaces, written as six octal digits, NUL, space. typeflag: '0' file, '1' hard link (linkname = the
 * earlier member), '2' symlink, '3' character device, '4' block device, '5' folder (name ends in "/"), '6' FIFO.
 * A member whose values do not fit (path or link target longer than the fields or not ASCII, size ≥ 8 GiB,
 * uid/gid ≥ 2^21, an mtime with nanoseconds, long owner names) is preceded by a pax extended header: typeflag 'x',
 * name "PaxHeaders/<name>", contents records "<length> <key>=<value>\n" (length counts the whole record, in
 * decimal) with keys path, linkpath, size, uid, gid, uname, gname, mtime ("seconds.nanoseconds") and, for each
 * extended attribute, "SCHILY.xattr.<name>" (the value's exact bytes; GNU tar's and bsdtar's key). A path or link
 * target that is not valid UTF-8 is written as its exact bytes, as GNU tar writes and reads it (no hdrcharset
 * record, which GNU tar does not know). Sparse files are written dense (their holes as zeros).
 *
 * Read only (tar-read.ts), from other writers: typeflag '\0' and '7' (contiguous) are regular files; 'g' is a
 * global pax header (its records apply to every later member); GNU tar's 'L' and 'K' members hold the next
 * member's long name and long link target (NUL-terminated); 'V' (a volume label) is skipped. A number field whose
 * first byte has the high bit set is GNU's base-256: big-endian two's complement over the whole field (0x80:
 * positive, 0xff: negative). Old (v7) and GNU headers have "ustar  \0" or no magic; prefix is then not read.
 * Checksums may also be the signed sum (old writers). Other typeflags (GNU sparse 'S', multi-volume 'M', ...)
 * and pax GNU.sparse records are refused.
 */

export const BLOCK = 512;

export type TarType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

/** The typeflag of each member type, as the ustar header writes it. */
export const TYPEFLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', dir: '5', fifo: '6' };

/** One member's header fields; `path` is relative, "/"-separated, without a trailing "/". */
export interface TarHeader {
  path: Uint8Array;
  type: TarType;
  /** Permission bits (and setuid/setgid/sticky): the file type bits are dropped. */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Contents length; 0 but for regular files. */
  size: number;
  /** Nanoseconds since the epoch. */
  mtime: bigint;
  /** Symlink target or, for hard links, the earlier member's path. */
  linkname?: Uint8Array;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as SCHILY.xattr.<name> records. */
  xattrs?: ReadonlyMap<string, Uint8Array>;
}

const isAscii = (b: Uint8Array): boolean => b.every((c) => c > 0 && c < 0x80);

/** The header block(s) of one member: a pax header (and its records) when needed, then the ustar header. */
export function tarHeader(h: TarHeader): Uint8Array {
  const name = h.type === 'dir' ? concat([h.path, Buffer.from('/')]) : h.path;
  const pax: [string, Uint8Array][] = [];
  const split = splitName(name);
  if (!split) pax.push(['path', name]);
  const link = h.linkname ?? new Uint8Array(0);
  if (link.length > 100 || !isAscii(link) && link.length > 0) pax.push(['linkpath', link]);
  if (h.size >= 8 ** 11) pax.push(['size', Buffer.from(String(h.size))]);
  if (h.uid >= 8 ** 7) pax.push(['uid', Buffer.from(String(h.uid))]);
  if (h.gid >= 8 ** 7) pax.push(['gid', Buffer.from(String(h.gid))]);
  const uname = Buffer.from(h.uname ?? '');
  const gname = Buffer.from(h.gname ?? '');
  if (uname.length > 31 || !isAscii(uname) && uname.length > 0) pax.push(['uname', uname]);
  if (gname.length > 31 || !isAscii(gname) && gname.length > 0) pax.push(['gname', gname]);
  const seconds = floorDiv(h.mtime, 1_000_000_000n);
  const nanos = h.mtime - seconds * 1_000_000_000n;
  if (nanos !== 0n || seconds < 0n || seconds >= 8n ** 11n) pax.push(['mtime', Buffer.from(decimalSeconds(h.mtime))]);
  for (const [key, value] of [...h.xattrs ?? []].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) pax.push([`SCHILY.xattr.${key}`, value]);

  const ustar = ustarBlock({
    name: split?.name ?? asciiTail(name, 100), prefix: split?.prefix ?? new Uint8Array(0), type: TYPEFLAG[h.type],
    mode: h.mode & 0o7777, uid: Math.min(h.uid, 8 ** 7 - 1), gid: Math.min(h.gid, 8 ** 7 - 1), size: h.size < 8 ** 11 ? h.size : 0,
    mtime: seconds < 0n ? 0 : Number(seconds < 8n ** 11n ? seconds : 8n ** 11n - 1n),
    linkname: link.length <= 100 && isAscii(link) ? link : asciiTail(link, 100),
    uname: uname.length <= 31 && isAscii(uname) ? uname : new Uint8Array(0), gname: gname.length <= 31 && isAscii(gname) ? gname : new Uint8Array(0),
    devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0,
  });
  if (pax.length === 0) return ustar;
  const body = concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxName = concat([Buffer.from('PaxHeaders/'), asciiTail(h.path.subarray(h.path.lastIndexOf(0x2f) + 1), 80)]);
  const paxHeader = ustarBlock({
    name: paxName, prefix: new Uint8Array(0), type: 'x', mode: 0o644, uid: 0, gid: 0, size: body.length,
    mtime: 0, linkname: new Uint8Array(0), uname: new Uint8Array(0), gname: new Uint8Array(0), devmajor: 0, devminor: 0,
  });
  return concat([paxHeader, body, new Uint8Array(padding(body.length)), ustar]);
}

/** Zero bytes that complete `size` bytes of contents to a whole block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end of the stream: two zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

/** "<length> key=value\n", where length is the record's own length in bytes, digits included. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return concat([Buffer.from(`${length} ${key}=`), value, Buffer.from('\n')]);
}

/** ustar's name/prefix split of an ASCII path, or undefined when it does not fit. */
function splitName(name: Uint8Array): { name: Uint8Array; prefix: Uint8Array } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { name, prefix: new Uint8Array(0) };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
    if (i < name.length - 101) break;
  }
  return undefined;
}

/** A stand-in for a field whose real value is in the pax header: the value's last ASCII bytes that fit. */
function asciiTail(bytes: Uint8Array, max: number): Uint8Array {
  const ascii = Buffer.from(Array.from(bytes, (c) => (c > 0 && c < 0x80 ? c : 0x5f)));
  return ascii.subarray(Math.max(0, ascii.length - max));
}

interface UstarFields {
  name: Uint8Array; prefix: Uint8Array; type: string; mode: number; uid: number; gid: number; size: number; mtime: number;
  linkname: Uint8Array; uname: Uint8Array; gname: Uint8Array; devmajor: number; devminor: number;
}

function ustarBlock(f: UstarFields): Uint8Array {
  const block = Buffer.alloc(BLOCK);
  block.set(f.name, 0);
  octal(block, 100, 8, f.mode);
  octal(block, 108, 8, f.uid);
  octal(block, 116, 8, f.gid);
  octal(block, 124, 12, f.size);
  octal(block, 136, 12, f.mtime);
  block.write(f.type, 156, 'latin1');
  block.set(f.linkname, 157);
  block.write('ustar\x0000', 257, 'latin1');
  block.set(f.uname, 265);
  block.set(f.gname, 297);
  octal(block, 329, 8, f.devmajor);
  octal(block, 337, 8, f.devminor);
  block.set(f.prefix, 345);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\x00 `, 148, 'latin1');
  return block;
}

function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\x00`, offset, 'latin1');
}

/** Nanoseconds as a decimal number of seconds, "-1.500000000" for -1.5 s (pax reads it as a decimal). */
function decimalSeconds(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  return `${ns < 0n ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
