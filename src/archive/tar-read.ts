/**
 * Reads a tar stream member by member (pax, GNU, ustar and v7 headers; the layout is in tar-format.ts), bounded:
 * every header is checksummed, every number range-checked, metadata members (pax, GNU long names) are held in
 * memory only up to `MAX_META` bytes, and contents are streamed, never buffered. Anything else is a
 * `TarFormatError` (`ETAR_INVALID`) naming the byte offset of the member.
 */
import { TarFormatError } from './errors.js';
import { BLOCK, padding, type TarHeader, type TarType } from './tar-format.js';

/** Largest pax extended header, global header or GNU long name/link member read (1 MiB). */
export const MAX_META = 1024 * 1024;
/** Contents are handed on in pieces of at most this many bytes. */
const PIECE = 1024 * 1024;
const MAX_ID = 2 ** 32 - 1;
const MAX_DEVICE = 2 ** 20 - 1;
/** Seconds a Date can show: times outside are refused (the item format keeps times a Date can show). */
const MAX_SECONDS = 8_640_000_000_000n;

/**
 * One member's metadata, the pax and GNU extensions applied: the writer's header fields (the name's
 * bytes as the tar has them: pax path, GNU long name, or prefix "/" name, trailing "/" removed),
 * with device numbers and xattrs always present, and where the member starts.
 */
export interface TarMember extends Omit<TarHeader, 'devmajor' | 'devminor' | 'xattrs'> {
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
  /** Where the member's first header starts in the (uncompressed) stream: for messages. */
  offset: number;
}

/** A member and its contents; `data` must be read before the next member is asked for (or it is skipped). */
export interface TarEntry {
  member: TarMember;
  data: AsyncIterable<Uint8Array>;
}

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'chardev', '4': 'blockdev', '5': 'dir', '6': 'fifo' };

/**
 * The members of the tar stream `source`, in order. Ends at the first zero block (the rest of the input is read
 * and dropped, so a producer on a pipe can finish); input that ends before it is `TarFormatError`.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const input = new Input(source);
  const global = new Map<string, Uint8Array>();
  let local = new Map<string, Uint8Array>();
  let longName: Uint8Array | undefined;
  let longLink: Uint8Array | undefined;
  let start: number | undefined;
  for (;;) {
    const offset = input.offset;
    start ??= offset;
    const block = await input.take(BLOCK);
    if (!block) throw new TarFormatError(offset, 'the stream ends without the end-of-archive blocks (a truncated tar?)');
    if (block.every((b) => b === 0)) {
      if (local.size > 0 || longName || longLink) throw new TarFormatError(offset, 'the stream ends after an extended header without its member');
      await input.drain();
      return;
    }
    checkChecksum(block, offset);
    const flag = String.fromCharCode(block[156]);
    const size = Number(field(block, 124, 12, 'size', offset, 0n, BigInt(Number.MAX_SAFE_INTEGER)));
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META) throw new TarFormatError(offset, `a metadata member of ${size} bytes (more than ${MAX_META})`);
      const body = await input.take(size + padding(size));
      if (!body && size + padding(size) > 0) throw new TarFormatError(offset, 'the stream ends inside a metadata member');
      const bytes = (body ?? Buffer.alloc(0)).subarray(0, size);
      if (flag === 'x') parsePax(bytes, local, offset);
      else if (flag === 'g') parsePax(bytes, global, offset);
      else if (flag === 'L') longName = cString(bytes);
      else longLink = cString(bytes);
      continue;
    }
    if (flag === 'V') { await input.skip(size + padding(size), offset); local = new Map(); start = undefined; continue; }
    let type = TYPES[flag];
    if (!type) throw new TarFormatError(offset, `member type "${printable(flag)}" is not supported (GNU sparse and multi-volume members are not; write the tar with --format=pax)`);
    const pax = new Map([...global, ...local]);
    for (const key of pax.keys()) if (key.startsWith('GNU.sparse.')) throw new TarFormatError(offset, 'sparse members (pax GNU.sparse) are not supported: write the tar without --sparse');
    const magic = block.subarray(257, 265).toString('latin1');
    const posix = magic === 'ustar\x0000';
    const gnuOrPosix = posix || magic === 'ustar  \x00';
    let path: Uint8Array = cString(block.subarray(0, 100));
    const prefix = posix ? cString(block.subarray(345, 500)) : new Uint8Array(0);
    if (prefix.length > 0) path = Buffer.concat([prefix, Buffer.from('/'), path]);
    path = paxValue(pax, 'path') ?? longName ?? path;
    if (type === 'file' && flag !== '7' && path.length > 0 && path[path.length - 1] === 0x2f) type = 'dir';
    while (path.length > 1 && path[path.length - 1] === 0x2f) path = path.subarray(0, path.length - 1);
    const linkField = cString(block.subarray(157, 257));
    const linkname = paxValue(pax, 'linkpath') ?? longLink ?? linkField;
    const member: TarMember = {
      path, type,
      mode: Number(field(block, 100, 8, 'mode', offset, 0n, BigInt(MAX_ID))) & 0o7777,
      uid: paxNumber(pax, 'uid', offset, MAX_ID) ?? Number(field(block, 108, 8, 'uid', offset, 0n, BigInt(MAX_ID))),
      gid: paxNumber(pax, 'gid', offset, MAX_ID) ?? Number(field(block, 116, 8, 'gid', offset, 0n, BigInt(MAX_ID))),
      size: paxNumber(pax, 'size', offset, Number.MAX_SAFE_INTEGER) ?? size,
      mtime: paxTime(pax, 'mtime', offset) ?? field(block, 136, 12, 'mtime', offset, 1n - MAX_SECONDS, MAX_SECONDS - 1n) * 1_000_000_000n,
      devmajor: 0, devminor: 0, xattrs: new Map(), offset: start,
    };
    const uname = paxText(pax, 'uname') ?? (gnuOrPosix ? cString(block.subarray(265, 297)).toString('utf8') : '');
    const gname = paxText(pax, 'gname') ?? (gnuOrPosix ? cString(block.subarray(297, 329)).toString('utf8') : '');
    if (uname) member.uname = uname;
    if (gname) member.gname = gname;
    if (type === 'hardlink' || type === 'symlink') {
      if (linkname.length === 0) throw new TarFormatError(offset, `link ${printable(Buffer.from(path).toString('utf8'))} has no target`);
      member.linkname = linkname;
    }
    if (type === 'chardev' || type === 'blockdev') {
      // Linux's dev_t keeps 32 bits of each; 20 keep the combined number exact in a double (items store a uint).
      member.devmajor = Number(field(block, 329, 8, 'devmajor', offset, 0n, BigInt(MAX_DEVICE)));
      member.devminor = Number(field(block, 337, 8, 'devminor', offset, 0n, BigInt(MAX_DEVICE)));
    }
    for (const [key, value] of pax) if (key.startsWith('SCHILY.xattr.') && key.length > 13) member.xattrs.set(key.slice(13), value);
    // Only regular files and hard links carry contents; other members' size fields are not data lengths.
    const length = type === 'file' || type === 'hardlink' ? member.size : 0;
    if (type !== 'file') member.size = 0;
    local = new Map();
    longName = undefined;
    longLink = undefined;
    start = undefined;
    let left = length;
    const data = (async function* (): AsyncGenerator<Uint8Array> {
      while (left > 0) {
        const piece = await input.some(Math.min(left, PIECE), offset);
        left -= piece.length;
        yield piece;
      }
    })();
    yield { member, data };
    await input.skip(left + padding(length), offset);
  }
}

/** The input as bytes on demand; the pieces handed out are views of the source's buffers, never reused. */
class Input {
  readonly #it: AsyncIterator<Uint8Array>;
  #head: Buffer = Buffer.alloc(0);
  /** Bytes consumed so far. */
  offset = 0;
  constructor(source: AsyncIterable<Uint8Array>) { this.#it = source[Symbol.asyncIterator](); }

  async #fill(): Promise<boolean> {
    const next = await this.#it.next();
    if (next.done) return false;
    const piece = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.#head = this.#head.length === 0 ? piece : Buffer.concat([this.#head, piece]);
    return true;
  }

  /** Exactly `n` bytes; undefined when the input ended before any byte; `TarFormatError` when it ends part way. */
  async take(n: number): Promise<Buffer | undefined> {
    while (this.#head.length < n) {
      if (!await this.#fill()) {
        if (this.#head.length === 0) return undefined;
        throw new TarFormatError(this.offset, 'the stream ends inside a header or member (a truncated tar?)');
      }
    }
    const out = this.#head.subarray(0, n);
    this.#head = this.#head.subarray(n);
    this.offset += n;
    return out;
  }

  /** Between 1 and `max` bytes, whatever is there first. */
  async some(max: number, member: number): Promise<Buffer> {
    if (this.#head.length === 0 && !await this.#fill()) throw new TarFormatError(member, 'the stream ends inside the member\'s contents (a truncated tar, or a size larger than the data)');
    const n = Math.min(max, this.#head.length);
    const out = this.#head.subarray(0, n);
    this.#head = this.#head.subarray(n);
    this.offset += n;
    return out;
  }

  async skip(n: number, member: number): Promise<void> {
    while (n > 0) n -= (await this.some(n, member)).length;
  }

  /** Reads to the end and drops it. */
  async drain(): Promise<void> {
    this.#head = Buffer.alloc(0);
    while (await this.#fill()) this.#head = Buffer.alloc(0);
  }
}

/** The header's checksum must be the unsigned sum (or, from old writers, the signed sum) of its bytes. */
function checkChecksum(block: Buffer, offset: number): void {
  const stored = field(block, 148, 8, 'chksum', offset, 0n, 8n ** 8n);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (BigInt(unsigned) !== stored && BigInt(signed) !== stored) throw new TarFormatError(offset, 'a header checksum does not match (not a tar, or a damaged one)');
}

/** A number field: octal text (spaces and NULs around it), or GNU base-256 when the first byte's high bit is set. */
function field(block: Buffer, at: number, width: number, name: string, offset: number, min: bigint, max: bigint): bigint {
  const bytes = block.subarray(at, at + width);
  let value = 0n;
  if (bytes[0] & 0x80) {
    value = BigInt(bytes[0] & 0x7f);
    for (let i = 1; i < width; i++) value = (value << 8n) | BigInt(bytes[i]);
    if (bytes[0] & 0x40) value -= 1n << BigInt(8 * width - 1);
  } else {
    const text = bytes.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
    if (!/^[0-7]*$/.test(text)) throw new TarFormatError(offset, `the ${name} field is not a number`);
    if (text) value = BigInt(`0o${text}`);
  }
  if (value < min || value > max) throw new TarFormatError(offset, `the ${name} field is out of range (${value})`);
  return value;
}

/** "<length> key=value\n" records into `into` (an empty value removes the key, as POSIX says). */
function parsePax(body: Uint8Array, into: Map<string, Uint8Array>, offset: number): void {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let i = 0;
  while (i < bytes.length) {
    const space = bytes.indexOf(0x20, i);
    const digits = space < 0 ? '' : bytes.subarray(i, space).toString('latin1');
    if (!/^[1-9][0-9]{0,15}$/.test(digits)) throw new TarFormatError(offset, 'a pax record has no valid length');
    const length = Number(digits);
    if (i + length > bytes.length) throw new TarFormatError(offset, 'a pax record is longer than its header');
    const record = bytes.subarray(space + 1, i + length);
    const eq = record.indexOf(0x3d);
    if (record.length < 2 || record[record.length - 1] !== 0x0a || eq <= 0) throw new TarFormatError(offset, 'a pax record is malformed');
    const key = record.subarray(0, eq).toString('utf8');
    const value = Buffer.from(record.subarray(eq + 1, record.length - 1));
    if (value.length === 0) into.delete(key); else into.set(key, value);
    i += length;
  }
}

function paxValue(pax: Map<string, Uint8Array>, key: string): Uint8Array | undefined {
  return pax.get(key);
}

function paxText(pax: Map<string, Uint8Array>, key: string): string | undefined {
  const v = pax.get(key);
  return v === undefined ? undefined : Buffer.from(v).toString('utf8');
}

function paxNumber(pax: Map<string, Uint8Array>, key: string, offset: number, max: number): number | undefined {
  const text = paxText(pax, key);
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(text) || Number(text) > max) throw new TarFormatError(offset, `the pax ${key} is not a number in range`);
  return Number(text);
}

/** A pax time "[-]seconds[.fraction]" in nanoseconds (digits past the ninth are dropped). */
function paxTime(pax: Map<string, Uint8Array>, key: string, offset: number): bigint | undefined {
  const text = paxText(pax, key);
  if (text === undefined) return undefined;
  const m = /^(-?)([0-9]{1,14})(?:\.([0-9]{1,64}))?$/.exec(text);
  if (!m) throw new TarFormatError(offset, `the pax ${key} is not a time`);
  const seconds = BigInt(m[2]);
  if (seconds >= MAX_SECONDS) throw new TarFormatError(offset, `the pax ${key} is out of range`);
  const ns = seconds * 1_000_000_000n + BigInt((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  return m[1] ? -ns : ns;
}

/** The bytes before the first NUL. */
function cString(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = b.indexOf(0);
  return Buffer.from(end < 0 ? b : b.subarray(0, end));
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
