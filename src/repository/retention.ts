/**
 * Object retention (S3 Object Lock and its kin; docs/adr/0056-object-retention.md): a repository
 * created with a retention policy has every object it writes, locks excepted, stored under
 * retention for the policy's period from the moment it is written, so a stolen store credential
 * cannot delete or overwrite backups for that long. `withRetention` applies the policy to a backend.
 */
import type { Backend, DeleteOptions, OpOptions, PutOptions, RetentionMode } from '../store/backend.js';
import { UnsupportedStoreError } from '../store/errors.js';
import { LOCKS_PREFIX } from './layout.js';

/** What the config records (`retention` field): the mode and the period in whole seconds. */
export interface RetentionPolicy {
  readonly mode: RetentionMode;
  readonly seconds: number;
}

const DAY = 86_400;
/** The shortest period a user may choose: one day. Shorter only with `CAIRN_TEST_SHORT_RETENTION=1` (tests). */
export const MIN_RETENTION_SECONDS = DAY;
/** The longest period cairn writes: 100 years (AWS's own limit is about as long). */
export const MAX_RETENTION_SECONDS = 100 * 365 * DAY;

/** True for a policy a config may hold: a known mode and a whole number of seconds in 1..MAX. */
export function validRetention(value: unknown): value is RetentionPolicy {
  const v = value as Partial<RetentionPolicy> | null;
  return typeof v === 'object' && v !== null && (v.mode === 'governance' || v.mode === 'compliance')
    && Number.isSafeInteger(v.seconds) && v.seconds! >= 1 && v.seconds! <= MAX_RETENTION_SECONDS;
}

/**
 * `30d`, `2y` (365 days each) or, only when `allowSeconds` (the test switch), `5s`, as seconds.
 * Throws `RangeError` with the rule for anything else.
 */
export function parseRetentionPeriod(text: string, allowSeconds = false): number {
  const m = /^(\d{1,6})([dys])$/.exec(text.trim());
  const rule = 'a retention period is a whole number of days or years, e.g. 30d or 1y (at least 1d)';
  if (!m || (m[2] === 's' && !allowSeconds)) throw new RangeError(rule);
  const seconds = Number(m[1]) * (m[2] === 'd' ? DAY : m[2] === 'y' ? 365 * DAY : 1);
  if (seconds < (allowSeconds ? 1 : MIN_RETENTION_SECONDS) || seconds > MAX_RETENTION_SECONDS) throw new RangeError(rule + ', at most 100y');
  return seconds;
}

/** Locks (and the rcreate probes, which live under `locks/`) are rewritten and deleted all the time: never retained. */
export const isRetainedKey = (key: string): boolean => !key.startsWith(LOCKS_PREFIX);

/**
 * `b` with `policy` applied: every `put` outside `locks/` carries `retention` (until now + period,
 * by this machine's clock), and every `delete` outside `locks/` is marked `retained`, so the backend
 * deletes the stored object for good or throws `RetainedObjectError` while its retention runs.
 * A backend without `capabilities.retention` (the repository copied to a folder, say) can still be
 * read, but every retained write is refused with `UnsupportedStoreError` rather than left unprotected.
 */
export function withRetention(b: Backend, policy: RetentionPolicy, now: () => number = Date.now): Backend {
  const refuse = () => Promise.reject(new UnsupportedStoreError(`${b.location}: this repository keeps its objects under retention, `
    + `which the ${b.name} store cannot do: write to it only on a store with retention (S3 Object Lock, GCS object retention)`, { backend: b.name }));
  return {
    name: b.name,
    location: b.location,
    capabilities: b.capabilities,
    get: (key, range, options) => b.get(key, range, options),
    put: (key: string, bytes: Uint8Array, options?: PutOptions & OpOptions) => {
      if (!isRetainedKey(key)) return b.put(key, bytes, options);
      if (!b.capabilities.retention) return refuse();
      return b.put(key, bytes, { ...options, retention: { mode: policy.mode, until: new Date(now() + policy.seconds * 1000) } });
    },
    delete: (key: string, options?: DeleteOptions) => b.delete(key, isRetainedKey(key) ? { ...options, retained: true } : options),
    list: (prefix, options) => b.list(prefix, options),
    stat: (key, options) => b.stat(key, options),
    create: (options) => b.create({ ...options, retention: true }),
    destroy: () => b.destroy(),
    close: () => b.close(),
  };
}
