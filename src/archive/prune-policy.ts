/**
 * Which archives a prune keeps: Borg's rules (keep-within, then keep-last/secondly, minutely,
 * hourly, daily, weekly, monthly, yearly), as a pure function of the archive list and the clock.
 *
 * Borg's semantics, which this module reproduces exactly (borg 1.2 `prune_within`/`prune_split`):
 * - Archives are considered newest first. For each period rule, the newest archive of each
 *   period (formatted in local time, ISO week for weekly) is kept, until the rule has kept its
 *   count; an archive already kept by an earlier rule does not count again, but its period is
 *   still "used" (so the next rule starts from the next period with a not-yet-kept archive).
 * - If a rule could not reach its count, it also keeps the oldest archive (reason `<rule>[oldest]`).
 * - keep-within keeps every archive newer than now − interval, and runs first.
 * - A count of -1 means "every period". keep-last is keep-secondly.
 * - Checkpoint archives (interrupted creates) never count for any rule and are pruned, except the
 *   newest one when no complete archive is newer (it holds the only copy of recent data).
 */

/** The fields of an archive that the policy looks at. */
export interface PrunableArchive {
  name: string;
  time: Date;
  /** An archive written by an interrupted `create` (a checkpoint). */
  checkpoint?: boolean;
}

/** Numbers of periods to keep; an absent rule is not applied. -1 keeps every period. */
export interface PruneRules {
  /** An interval such as `2d` (units S, M, H, d, w, m = 31 days, y = 365 days). */
  within?: string;
  last?: number;
  secondly?: number;
  minutely?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export type PruneRuleName = 'within' | 'secondly' | 'minutely' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

/** A kept archive, with the rule that kept it and the rule's running count (as `borg prune --list` shows). */
export interface KeptArchive<A> {
  archive: A;
  rule: string;
  index: number;
}

export interface PruneDecision<A> {
  /** Kept archives, newest first. */
  keep: KeptArchive<A>[];
  /** Archives to delete, newest first. */
  prune: A[];
}

/** Thrown for rules that keep nothing or an unparsable interval; the CLI maps it to exit 2. */
export class PruneRulesError extends Error {
  readonly code = 'EPRUNE_RULES';
}

const PERIOD_RULES = ['secondly', 'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type PeriodRule = (typeof PERIOD_RULES)[number];

const UNIT_SECONDS: Record<string, number> = { S: 1, M: 60, H: 3600, d: 86400, w: 7 * 86400, m: 31 * 86400, y: 365 * 86400 };

/** Parses a keep-within interval (`<int><unit>`, unit one of S M H d w m y) into milliseconds. */
export function parseInterval(text: string): number {
  const match = /^(\d+)([SMHdwmy])$/.exec(text);
  if (!match) throw new PruneRulesError(`invalid interval "${text}": use a number and a unit of S, M, H, d, w, m or y, e.g. 7d`);
  const n = Number(match[1]);
  if (n <= 0) throw new PruneRulesError(`invalid interval "${text}": it must be greater than zero`);
  return n * UNIT_SECONDS[match[2]!]! * 1000;
}

/** True when `rules` names at least one rule, as Borg requires before it deletes anything. */
export function hasRules(rules: PruneRules): boolean {
  return rules.within !== undefined || PERIOD_RULES.some((r) => countOf(rules, r) !== undefined);
}

function countOf(rules: PruneRules, rule: PeriodRule): number | undefined {
  if (rule === 'secondly') return rules.secondly ?? rules.last;
  return rules[rule];
}

/**
 * Decides which archives to keep and which to prune. `now` is the reference time for
 * keep-within; `utc` formats periods in UTC instead of the local time zone (Borg uses local time).
 */
export function applyPrunePolicy<A extends PrunableArchive>(
  archives: readonly A[],
  rules: PruneRules,
  options: { now?: Date; utc?: boolean } = {},
): PruneDecision<A> {
  if (!hasRules(rules)) {
    throw new PruneRulesError('no keep rule given: add at least one of --keep-within, --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly');
  }
  for (const rule of PERIOD_RULES) {
    const n = countOf(rules, rule);
    if (n !== undefined && (!Number.isInteger(n) || n < -1)) throw new PruneRulesError(`invalid count ${n} for keep-${rule}: use a whole number, or -1 for all`);
  }
  const newestFirst = [...archives].sort((a, b) => b.time.getTime() - a.time.getTime());
  const checkpoints = newestFirst.filter((a) => a.checkpoint === true);
  const complete = newestFirst.filter((a) => a.checkpoint !== true);
  const kept = new Map<A, KeptArchive<A>>();

  if (rules.within !== undefined) {
    const cutoff = (options.now ?? new Date()).getTime() - parseInterval(rules.within);
    let count = 0;
    for (const a of complete) if (a.time.getTime() > cutoff) kept.set(a, { archive: a, rule: 'within', index: ++count });
  }
  for (const rule of PERIOD_RULES) {
    const n = countOf(rules, rule);
    if (n !== undefined) keepPerPeriod(complete, rule, n, kept, options.utc === true);
  }
  if (checkpoints.length > 0 && newestFirst[0] === checkpoints[0]) {
    kept.set(checkpoints[0]!, { archive: checkpoints[0]!, rule: 'checkpoint', index: 1 });
  }
  return {
    keep: newestFirst.filter((a) => kept.has(a)).map((a) => kept.get(a)!),
    prune: newestFirst.filter((a) => !kept.has(a)),
  };
}

/** Borg's `prune_split`: the newest archive of each of the `n` newest periods not yet kept. */
function keepPerPeriod<A extends PrunableArchive>(newestFirst: readonly A[], rule: PeriodRule, n: number, kept: Map<A, KeptArchive<A>>, utc: boolean): void {
  if (n === 0) return;
  let last: string | undefined;
  let count = 0;
  let a: A | undefined;
  for (a of newestFirst) {
    const period = periodKey(a.time, rule, utc);
    if (period === last) continue;
    last = period;
    if (kept.has(a)) continue;
    kept.set(a, { archive: a, rule, index: ++count });
    if (count === n) return;
  }
  // Borg keeps the oldest archive when a rule could not reach its count (never for -1: count < -1 is false).
  if (a !== undefined && count < n && !kept.has(a)) kept.set(a, { archive: a, rule: `${rule}[oldest]`, index: count + 1 });
}

/** The period an instant falls in for `rule`, as a comparable string (strftime patterns of Borg). */
export function periodKey(time: Date, rule: PeriodRule, utc: boolean): string {
  const f = utc
    ? { y: time.getUTCFullYear(), mo: time.getUTCMonth() + 1, d: time.getUTCDate(), h: time.getUTCHours(), mi: time.getUTCMinutes(), s: time.getUTCSeconds() }
    : { y: time.getFullYear(), mo: time.getMonth() + 1, d: time.getDate(), h: time.getHours(), mi: time.getMinutes(), s: time.getSeconds() };
  switch (rule) {
    case 'yearly': return `${f.y}`;
    case 'monthly': return `${f.y}-${f.mo}`;
    case 'weekly': return isoWeek(f.y, f.mo, f.d);
    case 'daily': return `${f.y}-${f.mo}-${f.d}`;
    case 'hourly': return `${f.y}-${f.mo}-${f.d} ${f.h}`;
    case 'minutely': return `${f.y}-${f.mo}-${f.d} ${f.h}:${f.mi}`;
    case 'secondly': return `${f.y}-${f.mo}-${f.d} ${f.h}:${f.mi}:${f.s}`;
  }
}

/** ISO 8601 week-year and week (strftime `%G-%V`) of a calendar date. */
function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = (date.getUTCDay() + 6) % 7; // Monday = 0
  date.setUTCDate(date.getUTCDate() - weekday + 3); // the Thursday of this week decides the year
  const weekYear = date.getUTCFullYear();
  const dayOfYear = (date.getTime() - Date.UTC(weekYear, 0, 1)) / 86400000;
  const week = Math.floor(dayOfYear / 7) + 1;
  return `${weekYear}-${week}`;
}
