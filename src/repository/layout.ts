/**
 * Where things live in the store: the backend keys of the repository and the names of sessions
 * and segments. Sessions are 16 lowercase hex digits (a random 64-bit id); segment sequence numbers
 * are 8 hex digits, zero-padded, so a listing returns a session's segments in order.
 */
import { randomBytes } from 'node:crypto';

export const CONFIG_KEY = 'config';
export const KEY_BLOB_KEY = 'keys/repokey';
export const DATA_PREFIX = 'data/';
export const INDEX_PREFIX = 'index/';
export const LOCKS_PREFIX = 'locks/';
export const RECORDS_PREFIX = 'records/';
export const QUARANTINE_PREFIX = 'quarantine/';

/** A fresh random session id. */
export function newSessionId(): string {
  return randomBytes(8).toString('hex');
}

/** `<session>/<seq>`: a segment's name, as index objects store it. */
export function segmentName(session: string, seq: number): string {
  return `${session}/${seq.toString(16).padStart(8, '0')}`;
}

/** Backend key of a segment name. */
export function segmentKey(name: string): string {
  return DATA_PREFIX + name;
}

/** Session and seq of a segment name or key, or undefined when it is not one. */
export function parseSegment(nameOrKey: string): { session: string; seq: number } | undefined {
  const m = /^(?:data\/)?([0-9a-f]{16})\/([0-9a-f]{8})$/.exec(nameOrKey);
  return m ? { session: m[1], seq: parseInt(m[2], 16) } : undefined;
}

/** Key of the index delta a session writes for the transaction whose COMMIT is in segment `seq`. */
export function deltaKey(session: string, seq: number): string {
  return `${INDEX_PREFIX}${session}-${seq.toString(16).padStart(8, '0')}`;
}

/** Key of the full index of compaction generation `generation`. */
export function fullIndexKey(generation: number): string {
  return `${INDEX_PREFIX}full-${generation.toString(16).padStart(16, '0')}`;
}

/** What an index key names. */
export function parseIndexKey(key: string): { kind: 'delta'; session: string; seq: number } | { kind: 'full'; generation: number } | undefined {
  let m = /^index\/([0-9a-f]{16})-([0-9a-f]{8})$/.exec(key);
  if (m) return { kind: 'delta', session: m[1], seq: parseInt(m[2], 16) };
  m = /^index\/full-([0-9a-f]{16})$/.exec(key);
  return m ? { kind: 'full', generation: parseInt(m[1], 16) } : undefined;
}

/** Key of a session's lock object. The exclusive lock is a single object. */
export function sharedLockKey(session: string): string {
  return `${LOCKS_PREFIX}shared-${session}`;
}
export const EXCLUSIVE_LOCK_KEY = `${LOCKS_PREFIX}exclusive`;

/** The object `rcreate` writes twice to prove the store honours conditional create (`ownership.ts`). */
export function probeKey(hex16: string): string {
  return `${LOCKS_PREFIX}probe-${hex16}`;
}

/** True for a probe key (left behind only by an `rcreate` killed in the middle of its probe). */
export function isProbeKey(key: string): boolean {
  return /^locks\/probe-[0-9a-f]{16}$/.test(key);
}

/**
 * The key grammar of every object cairn writes (docs/format/repository.md, "Keys"): `config`,
 * `keys/repokey` (and the previous key, `.prev`), segments, index objects, locks, records and quarantined copies. `rdelete`
 * deletes only keys that match it; anything else in the store was put there by someone else.
 */
const REPOSITORY_KEY = new RegExp([
  '^config$',
  '^keys/repokey(?:\\.prev)?$',
  '^data/[0-9a-f]{16}/[0-9a-f]{8}$',
  '^index/(?:[0-9a-f]{16}-[0-9a-f]{8}|full-[0-9a-f]{16})$',
  '^locks/(?:shared-[0-9a-f]{16}|exclusive|probe-[0-9a-f]{16})$',
  '^records/[A-Za-z0-9_.=-]+$',
  '^quarantine/(?:data-[0-9a-f]{16}-[0-9a-f]{8}|index-(?:[0-9a-f]{16}-[0-9a-f]{8}|full-[0-9a-f]{16})|records-[A-Za-z0-9_.=-]+)$',
].join('|'));

/** True when `key` is one cairn's repository layer writes (see `REPOSITORY_KEY`). */
export function isRepositoryKey(key: string): boolean {
  return REPOSITORY_KEY.test(key);
}
