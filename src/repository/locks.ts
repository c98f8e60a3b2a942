/**
 * Repository locks as store objects: each writer session holds `locks/shared-<session>`, compaction
 * and repair hold `locks/exclusive`; both are created with `ifAbsent` and rewritten every
 * `refreshMs`. A lock is stale (breakable) when the store last wrote it more than `staleMs` ago **by
 * the store's clock**: its `modified` in a listing, compared with the `modified` of an object this
 * client has just written (its own lock, or a probe), so holders' clocks never enter the judgement
 * (ADR 0055). Taking a lock writes first and looks for conflicts second, so of two racing clients
 * at least one sees the other.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Backend } from '../store/backend.js';
import { AlreadyExistsError, NotFoundError } from '../store/errors.js';
import { EXCLUSIVE_LOCK_KEY, LOCKS_PREFIX, sharedLockKey } from './layout.js';
import { LockedError, LockLostError } from './errors.js';
import { deleteAll } from './index-load.js';

export interface LockOptions {
  /** A lock the store last wrote this long ago (by the store's clock) is stale and may be broken. Default 30 minutes. */
  staleMs?: number;
  /** How often the holder rewrites its lock. Default staleMs / 6. */
  refreshMs?: number;
  /** Salt of the host id in lock objects (see `lockOwner`); `Repository.open` passes the repository id. */
  repositoryId?: string;
}

/**
 * A lock object's JSON: the session, its kind, `time` the last refresh and `since` when it was taken
 * (the holder's clock: shown to people, never used to judge staleness), and who holds it: `host` is
 * `lockOwner`'s host id (not the host name), `pid` the holder's process id, so a later process on
 * that machine can tell a dead holder.
 */
interface LockContent {
  session: string; exclusive: boolean; time: number; since?: number; host: string; pid: number;
  /** Set by `readLock` for an object that is not a lock as cairn writes it (damaged, or another program's): its fields are placeholders. */
  damaged?: true;
}

/** A lock as `listLocks` reports it. */
export interface LockInfo {
  key: string;
  session: string;
  exclusive: boolean;
  /** The holder's host id (`lockOwner`), and whether that is this machine. */
  host: string;
  thisHost: boolean;
  pid: number;
  /** Epoch ms when taken, by the holder's clock (older locks: their last refresh). */
  since: number;
  /** When the store last wrote the lock (its last refresh), and when it turns stale: the store's clock. */
  refreshed: number;
  expires: number;
  /** Held by a process of this machine that no longer runs (removed by the next open). */
  dead: boolean;
}

/**
 * Who a lock object says holds it: a host id and the process id. Lock objects are readable by
 * anyone who can list the store, so the host name is not written in clear: the host id is
 * HMAC-SHA256(key = "cairn-lock-host:" + repository id, host name NUL machine id), 16 hex digits, which any
 * process on the same machine recomputes to tell its own host's locks (and so whether the pid can
 * be checked locally). It hides the name from a reader, not from one who guesses it (the
 * repository id is not secret). The pid stays in clear: it only means something on that host.
 */
export function lockOwner(repositoryId = ''): { host: string; pid: number } {
  return { host: createHmac('sha256', `cairn-lock-host:${repositoryId}`).update(`${hostname()}\0${machineId()}`).digest('hex').slice(0, 16), pid: process.pid };
}

let machineIdCache: string | undefined;

/** The systemd/D-Bus machine id when readable (two containers with one host name are then told apart), else "". */
function machineId(): string {
  if (machineIdCache === undefined) {
    machineIdCache = '';
    for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
      try { machineIdCache = readFileSync(path, 'utf8').trim(); break; } catch { /* not on this system */ }
    }
  }
  return machineIdCache;
}

/** Monotonic milliseconds: the time elapsed since a store reading, immune to the wall clock being set. */
const monotonic = (): number => performance.now();

/**
 * The store's clock as this client knows it: `modified` of an object it wrote (`at`, store time),
 * read back when the local monotonic clock showed `mark`. `now()` adds the time elapsed since. It
 * runs a little behind the store (by the write's latency and the store's rounding to seconds), so a
 * lock is judged stale a little late, never early.
 */
class StoreClock {
  constructor(readonly at: number, readonly mark: number) {}
  now(): number { return this.at + (monotonic() - this.mark); }
}

/** `modified` (store time) of every object under `locks/`. */
async function lockTimes(backend: Backend): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for await (const { key, modified } of backend.list(LOCKS_PREFIX)) times.set(key, modified);
  return times;
}

/** Stale when the store last wrote it more than `staleMs` ago by the store's clock. `NaN` (a store that gave no time) is never stale. */
const isStale = (modified: number, storeNow: number, staleMs: number): boolean => storeNow - modified > staleMs;

/**
 * Reads the store's clock without holding a lock: writes `locks/clock-<session>`, lists `locks/`
 * (one request, which also gives every lock's time), deletes the probe. Three requests, only when
 * `locks/exclusive` is taken or the caller holds no lock.
 */
async function probeStoreClock(backend: Backend, session: string, owner: { host: string; pid: number }): Promise<{ clock: StoreClock; times: Map<string, number> }> {
  const key = `${LOCKS_PREFIX}clock-${session}`;
  // Lock-shaped, so `listLocks` and a dead-process sweep can describe and remove a leftover probe.
  await backend.put(key, new TextEncoder().encode(JSON.stringify({ session, exclusive: false, time: Date.now(), ...owner, probe: true })));
  try {
    const times = await lockTimes(backend);
    const mark = monotonic();
    const at = times.get(key);
    if (at === undefined) throw new LockedError('the store lost the lock clock probe just written: another client is breaking locks; run the command again');
    times.delete(key);
    return { clock: new StoreClock(at, mark), times };
  } finally {
    await backend.delete(key).catch(() => undefined);
  }
}

/** A held lock. `check()` throws `LockLostError` once the lock object vanished or was taken over. */
export class RepositoryLock {
  readonly #backend: Backend;
  readonly #key: string;
  readonly #content: Omit<LockContent, 'time'>;
  readonly #timer: NodeJS.Timeout;
  readonly #clock: StoreClock;
  #lost = false;
  #released = false;

  private constructor(backend: Backend, key: string, content: Omit<LockContent, 'time'>, refreshMs: number, clock: StoreClock) {
    this.#backend = backend;
    this.#key = key;
    this.#content = content;
    this.#clock = clock;
    this.#timer = setInterval(() => { void this.refresh().catch(() => undefined); }, refreshMs);
    this.#timer.unref();
  }

  get exclusive(): boolean { return this.#content.exclusive; }

  /** The store's current time (epoch ms), from the store's time of this lock's first write plus the time elapsed since. */
  storeNow(): number { return this.#clock.now(); }

  /** Takes a shared (writer) or exclusive (compaction, repair) lock for `session`; `LockedError` on conflict. */
  static async acquire(backend: Backend, session: string, exclusive: boolean, options: LockOptions = {}): Promise<RepositoryLock> {
    const staleMs = options.staleMs ?? 30 * 60_000;
    await removeDeadLocks(backend, options.repositoryId);
    const owner = lockOwner(options.repositoryId);
    const content = { session, exclusive, ...owner, since: Date.now() };
    const key = exclusive ? EXCLUSIVE_LOCK_KEY : sharedLockKey(session);
    const body = () => new TextEncoder().encode(JSON.stringify({ ...content, time: Date.now() }));
    try {
      await backend.put(key, body(), { ifAbsent: true });
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      // `locks/exclusive` is taken: how old is it by the store's clock? Ask the store.
      const { clock, times } = await probeStoreClock(backend, session, owner);
      const written = times.get(key);
      if (written !== undefined && !isStale(written, clock.now(), staleMs)) {
        const holder = await readLock(backend, key);
        if (holder) throw new LockedError(`repository is locked exclusively by ${describe(holder, key, written, staleMs, options.repositoryId)}`);
      }
      await deleteAll(backend, [key]);
      await backend.put(key, body(), { ifAbsent: true }).catch((e: unknown) => {
        throw e instanceof AlreadyExistsError ? new LockedError('repository is locked exclusively by another client', { cause: e }) : e;
      });
    }
    try {
      // One listing gives the store's time of our own lock, just written (the store's "now"), and of every other lock.
      const times = await lockTimes(backend);
      const mark = monotonic();
      const own = times.get(key);
      if (own === undefined) throw new LockedError(`the lock ${key} vanished right after it was written: another client is breaking locks; run the command again`);
      const clock = new StoreClock(own, mark);
      const conflicts = exclusive ? [...times.keys()].filter((k) => k.startsWith(`${LOCKS_PREFIX}shared-`) && k !== key) : [EXCLUSIVE_LOCK_KEY];
      for (const other of conflicts) {
        const written = times.get(other);
        if (written === undefined) continue;
        if (!isStale(written, clock.now(), staleMs)) {
          const holder = await readLock(backend, other);
          if (!holder) continue; // released meanwhile
          throw new LockedError(`repository is locked ${holder.exclusive ? 'exclusively ' : ''}by ${describe(holder, other, written, staleMs, options.repositoryId)}`);
        }
        if (exclusive) await deleteAll(backend, [other]); // break the stale writer lock: its owner will see it gone
      }
      return new RepositoryLock(backend, key, content, options.refreshMs ?? Math.max(1000, Math.floor(staleMs / 6)), clock);
    } catch (err) {
      await backend.delete(key).catch(() => undefined);
      throw err;
    }
  }

  /** Throws `LockLostError` unless our lock object still exists and is ours. */
  async check(): Promise<void> {
    if (this.#lost) throw new LockLostError(`lost the repository lock ${this.#key}: another client broke it as stale`);
    const holder = await readLock(this.#backend, this.#key);
    if (!holder || holder.session !== this.#content.session) {
      this.#lost = true;
      throw new LockLostError(`lost the repository lock ${this.#key}: another client broke it as stale`);
    }
  }

  /**
   * Rewrites the lock, unless it was lost: the store then dates it anew (`modified`), which is what
   * keeps it fresh. One GET (is it still ours?) and one PUT, as before store time was used.
   */
  async refresh(): Promise<void> {
    if (this.#released || this.#lost) return;
    await this.check().catch((err: unknown) => { if (!(err instanceof LockLostError)) throw err; });
    if (this.#lost || this.#released) return;
    await this.#backend.put(this.#key, new TextEncoder().encode(JSON.stringify({ ...this.#content, time: Date.now() })));
  }

  /** Stops refreshing and deletes the lock object if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    const holder = await readLock(this.#backend, this.#key).catch(() => undefined);
    if (holder?.session === this.#content.session) await deleteAll(this.#backend, [this.#key]);
  }
}

/**
 * Session ids whose shared lock exists and is fresh by the store's clock: their segments may still be
 * in the making. `storeNow` is the caller's reading of the store's clock (`RepositoryLock.storeNow()`);
 * without one, the store is probed.
 */
export async function liveSessions(backend: Backend, staleMs = 30 * 60_000, storeNow?: number): Promise<Set<string>> {
  let now = storeNow;
  let times: Map<string, number>;
  if (now === undefined) {
    const probe = await probeStoreClock(backend, `probe${Date.now().toString(36)}`, lockOwner());
    now = probe.clock.now();
    times = probe.times;
  } else {
    times = await lockTimes(backend);
  }
  const live = new Set<string>();
  for (const [key, written] of times) {
    if (!key.startsWith(`${LOCKS_PREFIX}shared-`) || isStale(written, now, staleMs)) continue;
    const holder = await readLock(backend, key);
    if (holder) live.add(holder.session);
  }
  return live;
}

async function readLock(backend: Backend, key: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(await backend.get(key))) as LockContent;
    return parsed !== null && typeof parsed === 'object' && typeof parsed.session === 'string' && typeof parsed.time === 'number' ? parsed : DAMAGED_LOCK;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    if (err instanceof SyntaxError) return DAMAGED_LOCK;
    throw err;
  }
}

const DAMAGED_LOCK: LockContent = Object.freeze({ session: '?', exclusive: false, time: 0, host: '?', pid: 0, damaged: true });

/**
 * Who holds a lock (`key`), since when (the holder's clock), and when it expires (store time, `written` + `staleMs`).
 * A damaged lock says so and names its key, instead of a holder made of placeholders.
 */
function describe(lock: LockContent, key: string, written: number, staleMs: number, repositoryId?: string): string {
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : 'an unknown time');
  if (lock.damaged) return `a damaged lock object ${key} (not a lock as cairn writes it, so its holder is unknown); it expires at ${iso(written + staleMs)} (the storage's time) unless it is rewritten`;
  const here = lockOwner(repositoryId).host === lock.host;
  return `cairn pid ${lock.pid} on ${here ? 'this host' : `another host (host id ${lock.host})`} (session ${lock.session}) since ${iso(lock.since ?? lock.time)}; `
    + `the lock expires at ${iso(written + staleMs)} (the storage's time) unless its holder refreshes it`;
}

/**
 * True when the lock was taken on this machine by a process that no longer exists. The only host
 * check of the lock code. A pid reused by another process counts as alive (the lock then waits for
 * its timeout); a permission error means the process exists.
 */
export function heldByDeadProcess(lock: { host: string; pid: number }, repositoryId?: string): boolean {
  if (lock.host !== lockOwner(repositoryId).host || !Number.isSafeInteger(lock.pid) || lock.pid <= 0) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Deletes the locks whose holder was a process of this machine that has ended (killed, crashed). */
async function removeDeadLocks(backend: Backend, repositoryId?: string): Promise<void> {
  const dead: string[] = [];
  for await (const { key } of backend.list(LOCKS_PREFIX)) {
    const holder = await readLock(backend, key);
    if (holder && heldByDeadProcess(holder, repositoryId)) dead.push(key);
  }
  await deleteAll(backend, dead);
}

/** Every lock object of the repository (whose id salts the host ids), with its holder as far as the lock says. */
export async function listLocks(backend: Backend, repositoryId: string, staleMs = 30 * 60_000): Promise<LockInfo[]> {
  const out: LockInfo[] = [];
  const here = lockOwner(repositoryId).host;
  for await (const { key, modified } of backend.list(LOCKS_PREFIX)) {
    const holder = await readLock(backend, key);
    if (!holder) continue;
    out.push({
      key, session: holder.session, exclusive: holder.exclusive, host: holder.host, thisHost: holder.host === here, pid: holder.pid,
      since: holder.since ?? holder.time,
      // A store that gave no time (never one of cairn's): the holder's own, as before ADR 0055.
      refreshed: Number.isFinite(modified) ? modified : holder.time, expires: (Number.isFinite(modified) ? modified : holder.time) + staleMs, dead: heldByDeadProcess(holder, repositoryId),
    });
  }
  return out;
}

/** Deletes the lock objects `keys` (`cairn break-lock`); their holders fail their next commit with `LockLostError`. */
export async function breakLocks(backend: Backend, keys: string[]): Promise<void> {
  await deleteAll(backend, keys.filter((k) => k.startsWith(LOCKS_PREFIX)));
}
