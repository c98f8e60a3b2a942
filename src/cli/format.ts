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

/** How each backend is named in the request summary line. */
const BACKEND_NAMES: Record<string, string> = { s3: 'S3', gcs: 'GCS', azure: 'Azure', sftp: 'SFTP', fs: 'fs', memory: 'memory' };

/** `641 MiB`, `1.2 GiB`, `12 KiB`: three significant figures at most, for one-line summaries. */
export function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i > 0 && n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/**
 * The one-line request summary of a run, e.g.
 * `S3: 41 requests (38 PUT, 2 LIST, 1 GET), 2 retries, 612 MiB up` (kinds by count, zeros left out).
 */
export function formatUsageLine(backend: string, usage: { requests: Record<string, number>; retries: number; bytesUp: number; bytesDown: number }): string {
  const kinds = Object.entries(usage.requests).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  const parts = [`${total} request${total === 1 ? '' : 's'}${kinds.length ? ` (${kinds.map(([k, n]) => `${n} ${k.toUpperCase()}`).join(', ')})` : ''}`,
    `${usage.retries} retr${usage.retries === 1 ? 'y' : 'ies'}`];
  if (usage.bytesUp > 0) parts.push(`${formatSize(usage.bytesUp)} up`);
  if (usage.bytesDown > 0) parts.push(`${formatSize(usage.bytesDown)} down`);
  return `${BACKEND_NAMES[backend] ?? backend}: ${parts.join(', ')}`;
}

/** `estimated cost: 0.00210 USD (requests 0.000200, transfer 0.00190)`: three significant digits below 1, cents above. */
export function formatCostLine(cost: { requests: number; transfer: number; total: number }, currency: string): string {
  const money = (v: number) => (v === 0 ? '0' : v < 1e-6 ? '<0.000001' : v < 1 ? v.toPrecision(3) : v.toFixed(2));
  return `estimated cost: ${money(cost.total)} ${currency} (requests ${money(cost.requests)}, transfer ${money(cost.transfer)})`;
}
