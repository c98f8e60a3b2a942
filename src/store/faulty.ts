/**
 * Fault injection for tests: `faulty(b, plan)` fails chosen calls, fails at random from a seeded
 * PRNG, adds latency, hangs, or "crashes" at a chosen point, and counts calls and concurrency.
 */
import type { Backend } from './backend.js';
import { BackendError, TransientError } from './errors.js';
import { intercept, type OpName } from './intercept.js';
import { sleep } from './abort.js';
import { seededRandom } from './random.js';

/** Thrown by a `crash` fault, and by every call after it: the simulated process is dead. */
export class CrashError extends Error {
  constructor(readonly op: OpName, readonly key: string | undefined) {
    super(`simulated crash at ${op} ${key ?? ''}`);
    this.name = 'CrashError';
  }
}

/** What a matching call suffers. */
export type FaultKind =
  | 'transient' // rejects with TransientError
  | 'permanent' // rejects with BackendError (code EBACKEND, not transient)
  | 'crash' // rejects with CrashError and the backend stays dead; `onCrash` is called first
  | 'hang' // never settles until the call's signal aborts, then rejects with the abort reason
  | 'hang-deaf'; // never settles at all, ignoring the signal (a misbehaving SDK)

export interface FaultRule {
  /** Which requests: one op, several, or every op when omitted. */
  op?: OpName | OpName[];
  /** Only keys (or list prefixes) for which this holds. */
  key?: (key: string | undefined) => boolean;
  /** Fires on the Nth matching call (1-based), or on each listed N. */
  nth?: number | number[];
  /** Fires with this probability on each matching call (from the plan's seeded PRNG). */
  probability?: number;
  /** What happens; default `transient`. Ignored when `error` is given. */
  kind?: FaultKind;
  /** A custom error to throw instead. */
  error?: () => Error;
  /** `before` (default): the call never reaches the backend. `after`: it does, then fails (a lost reply). */
  when?: 'before' | 'after';
}

export interface FaultPlan {
  rules?: FaultRule[];
  /** Seed of the PRNG behind `probability`; default 1. */
  seed?: number;
  /** Added latency per call: a number of ms or a range drawn from the PRNG. */
  latencyMs?: number | { min: number; max: number };
  /** Called at a crash before CrashError is thrown (e.g. `process.exit` in a crash test). */
  onCrash?: (op: OpName, key: string | undefined) => void;
}

/** Counters kept by a faulty backend. */
export interface FaultStats {
  calls: Record<OpName, number>;
  /** Calls started and not yet settled, and the most ever seen at once. */
  inFlight: number;
  maxInFlight: number;
  faults: number;
  crashed: boolean;
}

export type FaultyBackend = Backend & { readonly stats: FaultStats };

/** `b` with the faults of `plan` injected; `stats` counts what happened. */
export function faulty(b: Backend, plan: FaultPlan = {}): FaultyBackend {
  const random = seededRandom(plan.seed ?? 1);
  const stats: FaultStats = {
    calls: { get: 0, put: 0, delete: 0, list: 0, stat: 0, create: 0, destroy: 0 },
    inFlight: 0, maxInFlight: 0, faults: 0, crashed: false,
  };
  const matches = new Map<FaultRule, number>();

  const pick = (op: OpName, key: string | undefined): FaultRule | undefined => {
    let chosen: FaultRule | undefined;
    for (const rule of plan.rules ?? []) {
      const ops = rule.op === undefined ? undefined : Array.isArray(rule.op) ? rule.op : [rule.op];
      if (ops && !ops.includes(op)) continue;
      if (rule.key && !rule.key(key)) continue;
      const n = (matches.get(rule) ?? 0) + 1;
      matches.set(rule, n);
      const byCount = rule.nth !== undefined && (Array.isArray(rule.nth) ? rule.nth.includes(n) : rule.nth === n);
      const byChance = rule.probability !== undefined && random() < rule.probability;
      const always = rule.nth === undefined && rule.probability === undefined;
      if (!chosen && (byCount || byChance || always)) chosen = rule;
    }
    return chosen;
  };

  const inject = async (rule: FaultRule, op: OpName, key: string | undefined, signal?: AbortSignal): Promise<never> => {
    stats.faults += 1;
    if (rule.error) throw rule.error();
    switch (rule.kind ?? 'transient') {
      case 'transient': throw new TransientError(`injected transient fault on ${op} ${key ?? ''}`, { backend: b.name, key });
      case 'permanent': throw new BackendError(`injected permanent fault on ${op} ${key ?? ''}`, { backend: b.name, key });
      case 'crash':
        stats.crashed = true;
        plan.onCrash?.(op, key);
        throw new CrashError(op, key);
      case 'hang':
        return new Promise<never>((_, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      case 'hang-deaf':
        return new Promise<never>(() => {});
    }
  };

  const backend = intercept(b, async (call, run) => {
    const { op, key, signal } = call;
    stats.calls[op] += 1;
    if (stats.crashed) throw new CrashError(op, key);
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      const latency = plan.latencyMs;
      if (latency !== undefined) {
        await sleep(typeof latency === 'number' ? latency : latency.min + random() * (latency.max - latency.min), signal);
      }
      const rule = pick(op, key);
      if (rule && (rule.when ?? 'before') === 'before') return await inject(rule, op, key, signal);
      const result = await run(signal);
      if (rule) return await inject(rule, op, key, signal);
      return result;
    } finally {
      stats.inFlight -= 1;
    }
  });
  return Object.assign(backend, { stats });
}
