// Runs one fuzz target with fast-check: a fixed number of inputs or a time budget, each input bounded in
// time (a slow input fails the run) and the process's memory checked after each one (growth beyond the
// limit fails the run). A failure names the target, the broken contract and the input (base64).
import fc from 'fast-check';
import { ContractError, type FuzzTarget } from './targets.js';

export interface RunOptions {
  /** Inputs to try (default 100); with `timeLimitMs`, the run stops at whichever comes first. */
  runs?: number;
  timeLimitMs?: number;
  /** fast-check seed, to replay a run. */
  seed?: number;
  /** Longest one input may take (default 5000 ms: generous for a loaded 2-core machine; a seed takes about 1 ms). */
  perInputMs?: number;
  /** Largest growth of the process's resident memory over the run (default 512 MiB). */
  memoryMiB?: number;
}

export interface RunStats {
  target: string;
  runs: number;
  /** Inputs skipped as a known finding fixed elsewhere, by finding. */
  excluded: Record<string, number>;
  slowestMs: number;
  memoryGrowthMiB: number;
  ms: number;
  seed: number;
}

/** Runs `target`; rejects with fast-check's report (counterexample and seed) when any input breaks the contract. */
export async function runTarget<I>(target: FuzzTarget<I>, options: RunOptions = {}): Promise<RunStats> {
  const perInputMs = options.perInputMs ?? 5000;
  const memoryLimit = (options.memoryMiB ?? 512) * 1024 * 1024;
  const seed = options.seed ?? Date.now() ^ (Math.random() * 0x7fffffff);
  const stats: RunStats = { target: target.name, runs: 0, excluded: {}, slowestMs: 0, memoryGrowthMiB: 0, ms: 0, seed };
  const baseline = process.memoryUsage.rss();
  const started = performance.now();
  const property = fc.asyncProperty(target.input, async (input) => {
    stats.runs++;
    const finding = target.excluded?.(input);
    if (finding) {
      stats.excluded[finding] = (stats.excluded[finding] ?? 0) + 1;
      return;
    }
    const t = performance.now();
    try {
      await target.run(input);
    } catch (error) {
      throw new ContractError(`${target.name}: ${(error as Error).message}\ninput (base64): ${Buffer.from(target.bytes(input)).toString('base64').slice(0, 65536)}`, { cause: error });
    }
    const took = performance.now() - t;
    stats.slowestMs = Math.max(stats.slowestMs, took);
    if (took > perInputMs) throw new ContractError(`${target.name}: one input took ${took.toFixed(0)} ms (limit ${perInputMs})\ninput (base64): ${Buffer.from(target.bytes(input)).toString('base64').slice(0, 65536)}`);
    const growth = process.memoryUsage.rss() - baseline;
    stats.memoryGrowthMiB = Math.max(stats.memoryGrowthMiB, growth / 1048576);
    if (growth > memoryLimit) throw new ContractError(`${target.name}: resident memory grew by ${(growth / 1048576).toFixed(0)} MiB\ninput (base64): ${Buffer.from(target.bytes(input)).toString('base64').slice(0, 65536)}`);
  });
  await fc.assert(property, {
    numRuns: options.timeLimitMs ? Math.max(options.runs ?? Number.MAX_SAFE_INTEGER, 1) : options.runs ?? 100,
    seed,
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
    endOnFailure: true,
  });
  stats.ms = performance.now() - started;
  return stats;
}
