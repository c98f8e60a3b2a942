/**
 * Reading a whole segment entry by entry, for check and repair: every header and every value
 * digest is verified, damage is reported with its offset, and after damage the scan resynchronizes
 * on the next offset that holds a header with a valid checksum.
 */
import { xxh64 } from './digests.js';
import { decodeCommit, readHeader, TAG_COMMIT, TAG_DELETE, TAG_PUT2, type CommitInfo } from './segment-format.js';

export interface ScannedEntry {
  tag: number;
  offset: number;
  size: number;
  id?: Uint8Array;
  /** COMMIT entries only. */
  commit?: CommitInfo;
}

export interface ScanDamage {
  offset: number;
  reason: string;
  /** Set when the header was good but the value failed its digest. */
  id?: Uint8Array;
  /** Bytes the damage spans (up to the next good header or the end). */
  length: number;
}

/** Every good entry of `bytes` and every damaged region, in offset order. */
export function scanSegment(bytes: Uint8Array): { entries: ScannedEntry[]; damage: ScanDamage[] } {
  const entries: ScannedEntry[] = [];
  const damage: ScanDamage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const header = readHeader(bytes, offset);
    if (typeof header === 'string') {
      const next = resync(bytes, offset + 1);
      damage.push({ offset, reason: header, length: next - offset });
      offset = next;
      continue;
    }
    const entry = bytes.subarray(offset, offset + header.size);
    if (header.tag === TAG_PUT2) {
      if (xxh64(entry.subarray(4, 41), entry.subarray(49)) !== header.digest) {
        damage.push({ offset, reason: 'value digest mismatch', id: header.id, length: header.size });
      } else {
        entries.push({ tag: TAG_PUT2, offset, size: header.size, id: header.id });
      }
    } else if (header.tag === TAG_DELETE) {
      entries.push({ tag: TAG_DELETE, offset, size: header.size, id: header.id });
    } else if (header.tag === TAG_COMMIT) {
      const commit = decodeCommit(entry);
      if (commit) entries.push({ tag: TAG_COMMIT, offset, size: header.size, commit });
      else damage.push({ offset, reason: 'malformed commit', length: header.size });
    }
    offset += header.size;
  }
  return { entries, damage };
}

/** The first offset ≥ `from` holding a header whose checksum is valid, or the end. */
function resync(bytes: Uint8Array, from: number): number {
  for (let offset = from; offset + 9 <= bytes.length; offset++) {
    const tag = bytes[offset + 8];
    if (tag !== TAG_PUT2 && tag !== TAG_DELETE && tag !== TAG_COMMIT) continue;
    if (typeof readHeader(bytes, offset) !== 'string') return offset;
  }
  return bytes.length;
}
