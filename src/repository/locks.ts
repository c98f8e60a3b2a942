/**
 * Repository locks as store objects: each writer session holds `locks/shared-<session>`, compaction
 * and repair hold `locks/exclusive`; both are created with `ifAbsent`, rewritten every `refreshMs`
 * and considered stale (breakable) when their time is older than `staleMs`. Taking a lock writes
 * first and looks for conflicts second, so of two racing clients at least one sees the other.
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
  /** A lock not refreshed for this long is stale and may be broken. Default 30 minutes. */
  staleMs?: number;
  /** How often the holder rewrites its lock. Default staleMs / 6. */
  refreshMs?: number;
  /** Salt of the host id in lock objects (see `lockOwner`); `Repository.open` passes the repository id. */
  repositoryId?: string;
}

/**
 * A lock object's JSON: the session, its kind, `time` the last refresh and `since` when it was taken
 * (the holder's clock), and who holds it: `host` is `lockOwner`'s host id (not the host name), `pid`
 * the holder's process id, so a later process on that machine can tell a dead holder.
 */
interface LockContent { session: string; exclusive: boolean; time: number; since?: number; host: string; pid: number }

/** A lock as `listLocks` reports it. */
export interface LockInfo {
  key: string;
  session: string;
  exclusive: boolean;
  /** The holder's host id (`lockOwner`), and whether that is this machine. */
  host: string;
  thisHost: boolean;
  pid: number;
  /** Epoch ms when taken (older locks: their last refresh), last refreshed, and when it turns stale. */
  since: number;
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

/** A held lock. `check()` throws `LockLostError` once the lock object vanished or was taken over. */
export class RepositoryLock {
  readonly #backend: Backend;
  readonly #key: string;
  readonly #content: Omit<LockContent, 'time'>;
  readonly #timer: NodeJS.Timeout;
  #lost = false;
  #released = false;

  private constructor(backend: Backend, key: string, content: Omit<LockContent, 'time'>, refreshMs: number) {
    this.#backend = backend;
    this.#key = key;
    this.#content = content;
    this.#timer = setInterval(() => { void this.refresh().catch(() => undefined); }, refreshMs);
    this.#timer.unref();
  }

  get exclusive(): boolean { return this.#content.exclusive; }

  /** Takes a shared (writer) or exclusive (compaction, repair) lock for `session`; `LockedError` on conflict. */
  static async acquire(backend: Backend, session: string, exclusive: boolean, options: LockOptions = {}): Promise<RepositoryLock> {
    const staleMs = options.staleMs ?? 30 * 60_000;
    await removeDeadLocks(backend, options.repositoryId);
    const content = { session, exclusive, ...lockOwner(options.repositoryId), since: Date.now() };
    const key = exclusive ? EXCLUSIVE_LOCK_KEY : sharedLockKey(session);
    const body = () => new TextEncoder().encode(JSON.stringify({ ...content, time: Date.now() }));
    try {
      await backend.put(key, body(), { ifAbsent: true });
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      const holder = await readLock(backend, key);
      if (holder && !isStale(holder, staleMs)) throw new LockedError(`repository is locked exclusively by ${describe(holder, staleMs, options.repositoryId)}`);
      await deleteAll(backend, [key]);
      await backend.put(key, body(), { ifAbsent: true }).catch((e: unknown) => {
        throw e instanceof AlreadyExistsError ? new LockedError('repository is locked exclusively by another client', { cause: e }) : e;
      });
    }
    try {
      const conflicts = exclusive ? await sharedHolders(backend, session) : [EXCLUSIVE_LOCK_KEY];
      for (const other of conflicts) {
        const holder = await readLock(backend, other);
        if (!holder) continue;
        if (!isStale(holder, staleMs)) throw new LockedError(`repository is locked ${holder.exclusive ? 'exclusively ' : ''}by ${describe(holder, staleMs, options.repositoryId)}`);
        if (exclusive) await deleteAll(backend, [other]); // break the stale writer lock: its owner will see it gone
      }
    } catch (err) {
      await backend.delete(key).catch(() => undefined);
      throw err;
    }
    return new RepositoryLock(backend, key, content, options.refreshMs ?? Math.max(1000, Math.floor(staleMs / 6)));
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

  /** Rewrites the lock with the current time, unless it was lost. */
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

/** Sessions holding a shared lock, except `self`. */
async function sharedHolders(backend: Backend, self: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of backend.list(`${LOCKS_PREFIX}shared-`)) if (key !== sharedLockKey(self)) keys.push(key);
  return keys;
}

/** Session ids whose shared lock exists and is fresh: their segments may still be in the making. */
export async function liveSessions(backend: Backend, staleMs = 30 * 60_000): Promise<Set<string>> {
  const live = new Set<string>();
  for await (const { key } of backend.list(`${LOCKS_PREFIX}shared-`)) {
    const holder = await readLock(backend, key);
    if (holder && !isStale(holder, staleMs)) live.add(holder.session);
  }
  return live;
}

async function readLock(backend: Backend, key: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(await backend.get(key))) as LockContent;
    return typeof parsed.session === 'string' && typeof parsed.time === 'number' ? parsed : { session: '?', exclusive: false, time: 0, host: '?', pid: 0 };
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    if (err instanceof SyntaxError) return { session: '?', exclusive: false, time: 0, host: '?', pid: 0 };
    throw err;
  }
}

function isStale(lock: LockContent, staleMs: number): boolean {
  return Date.now() - lock.time > staleMs;
}

function describe(lock: LockContent, staleMs: number, repositoryId?: string): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const here = lockOwner(repositoryId).host === lock.host;
  return `cairn pid ${lock.pid} on ${here ? 'this host' : `another host (host id ${lock.host})`} (session ${lock.session}) since ${iso(lock.since ?? lock.time)}; `
    + `the lock expires at ${iso(lock.time + staleMs)} unless its holder refreshes it`;
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
  for await (const { key } of backend.list(LOCKS_PREFIX)) {
    const holder = await readLock(backend, key);
    if (!holder) continue;
    out.push({
      key, session: holder.session, exclusive: holder.exclusive, host: holder.host, thisHost: holder.host === here, pid: holder.pid,
      since: holder.since ?? holder.time, refreshed: holder.time, expires: holder.time + staleMs, dead: heldByDeadProcess(holder, repositoryId),
    });
  }
  return out;
}

/** Deletes the lock objects `keys` (`cairn break-lock`); their holders fail their next commit with `LockLostError`. */
export async function breakLocks(backend: Backend, keys: string[]): Promise<void> {
  await deleteAll(backend, keys.filter((k) => k.startsWith(LOCKS_PREFIX)));
}
