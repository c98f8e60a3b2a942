/**
 * Borg's placeholders in archive names and globs: `{hostname}`, `{fqdn}`, `{user}`, `{pid}`,
 * `{now}` / `{utcnow}` (ISO 8601 seconds, or `{now:%Y-%m-%d}` with strftime directives), `{{`/`}}`.
 */
import { hostname, userInfo } from 'node:os';
import { UsageError } from './errors.js';

/** What placeholders expand to; tests pass fixed values. */
export interface PlaceholderContext {
  now: Date;
  hostname: string;
  user: string;
  pid: number;
}

/** The context of the running process. */
export function processPlaceholders(): PlaceholderContext {
  let user = 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry (containers): keep "unknown" */ }
  return { now: new Date(), hostname: hostname(), user, pid: process.pid };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats `date` with strftime directives %Y %m %d %H %M %S %j %y %a %b %%, in local time or UTC. */
export function strftime(format: string, date: Date, utc: boolean): string {
  const g = utc
    ? { y: date.getUTCFullYear(), mo: date.getUTCMonth(), d: date.getUTCDate(), h: date.getUTCHours(), mi: date.getUTCMinutes(), s: date.getUTCSeconds(), wd: date.getUTCDay() }
    : { y: date.getFullYear(), mo: date.getMonth(), d: date.getDate(), h: date.getHours(), mi: date.getMinutes(), s: date.getSeconds(), wd: date.getDay() };
  const dayOfYear = Math.floor((Date.UTC(g.y, g.mo, g.d) - Date.UTC(g.y, 0, 1)) / 86400000) + 1;
  const table: Record<string, string> = {
    Y: String(g.y), y: pad(g.y % 100), m: pad(g.mo + 1), d: pad(g.d), H: pad(g.h), M: pad(g.mi), S: pad(g.s), j: pad(dayOfYear, 3),
    a: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][g.wd]!,
    b: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][g.mo]!, '%': '%',
  };
  return format.replace(/%(.)/g, (all, c: string) => {
    const value = table[c];
    if (value === undefined) throw new UsageError(`unknown time directive ${all} in a placeholder: use %Y %m %d %H %M %S %j %y %a %b`);
    return value;
  });
}

/** Expands every placeholder in `text`; an unknown one is a usage error naming it. */
export function expandPlaceholders(text: string, ctx: PlaceholderContext = processPlaceholders()): string {
  return text.replace(/\{\{|\}\}|\{([a-z]+)(?::([^}]*))?\}/g, (all, name: string | undefined, format: string | undefined) => {
    if (all === '{{') return '{';
    if (all === '}}') return '}';
    switch (name) {
      case 'hostname': return ctx.hostname.split('.')[0]!;
      case 'fqdn': return ctx.hostname;
      case 'user': return ctx.user;
      case 'pid': return String(ctx.pid);
      case 'now': return strftime(format ?? '%Y-%m-%dT%H:%M:%S', ctx.now, false);
      case 'utcnow': return strftime(format ?? '%Y-%m-%dT%H:%M:%S', ctx.now, true);
      default: throw new UsageError(`unknown placeholder ${all}: use {hostname}, {fqdn}, {user}, {pid}, {now} or {utcnow}`);
    }
  });
}
