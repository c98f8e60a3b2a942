/**
 * Repository locks as store objects: each writer session holds `locks/shared-<session>`, compaction
 * and repair hold `locks/exclusive`; both are created with `ifAbsent`, rewritten every `refreshMs`
 * and considered stale (breakable) when their time is older than `staleMs`. Taking a lock writes
 * first and looks for conflicts second, so of two racing clients at least one sees the other.
 */
import { createHmac } from 'node:crypto';
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
 * A lock object's JSON: the session, its kind, the holder's clock time, and who holds it: `host`
 * is `lockOwner`'s host id (not the host name), `pid` the holder's process id.
 */
interface LockContent { session: string; exclusive: boolean; time: number; host: string; pid: number }

/**
 * Who a lock object says holds it: a host id and the process id. Lock objects are readable by
 * anyone who can list the store, so the host name is not written in clear: the host id is
 * HMAC-SHA256(key = "cairn-lock-host:" + repository id, host name), 16 hex digits, which any
 * process on the same machine recomputes to tell its own host's locks (and so whether the pid can
 * be checked locally). It hides the name from a reader, not from one who guesses it (the
 * repository id is not secret). The pid stays in clear: it only means something on that host.
 */
export function lockOwner(repositoryId = ''): { host: string; pid: number } {
  return { host: createHmac('sha256', `cairn-lock-host:${repositoryId}`).update(hostname()).digest('hex').slice(0, 16), pid: process.pid };
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
    const content = { session, exclusive, ...lockOwner(options.repositoryId) };
    const key = exclusive ? EXCLUSIVE_LOCK_KEY : sharedLockKey(session);
    const body = () => new TextEncoder().encode(JSON.stringify({ ...content, time: Date.now() }));
    try {
      await backend.put(key, body(), { ifAbsent: true });
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      const holder = await readLock(backend, key);
      if (holder && !isStale(holder, staleMs)) throw new LockedError(`repository is locked exclusively by ${describe(holder, options.repositoryId)}`);
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
        if (!isStale(holder, staleMs)) throw new LockedError(`repository is locked ${holder.exclusive ? 'exclusively ' : ''}by ${describe(holder, options.repositoryId)}`);
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

function describe(lock: LockContent, repositoryId?: string): string {
  const here = lockOwner(repositoryId).host === lock.host;
  return `session ${lock.session} (${here ? 'this host' : `host id ${lock.host}`}, pid ${lock.pid})`;
}
