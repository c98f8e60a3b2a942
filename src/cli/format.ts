/** Human-readable numbers and the `--format` templates of `list`/`rlist` (Borg's `{key}` style). */
import { UsageError } from './errors.js';

/** `1536` → `1.50 KiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(2)} ${units[i]}`;
}

/** Fills `{key}` fields of a template from `fields` (an unknown key is a usage error); `{NL}` is a newline, `{TAB}` a tab, `{{`/`}}` braces. */
export function formatTemplate(template: string, fields: Record<string, string | number | boolean | undefined>): string {
  return template.replace(/\{\{|\}\}|\{([A-Za-z_]+)\}/g, (all, key: string | undefined) => {
    if (all === '{{') return '{';
    if (all === '}}') return '}';
    if (key === 'NL') return '\n';
    if (key === 'TAB') return '\t';
    if (!Object.hasOwn(fields, key!)) throw new UsageError(`unknown field {${key}} in --format: use ${Object.keys(fields).map((k) => `{${k}}`).join(' ')} {NL} {TAB}`);
    const value = fields[key!];
    return value === undefined ? '' : String(value);
  });
}

/** A JSON line for `--json` / `--json-lines` output (bigint as number or string when too big). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v)) + '\n';
}

/**
 * A time for people: local time with its UTC offset, `2026-12-01 22:10:20 -0500`, the same zone
 * `{now}` uses in archive names (set TZ to change it). JSON output keeps ISO 8601 UTC (`…Z`).
 */
export function localTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`;
}
