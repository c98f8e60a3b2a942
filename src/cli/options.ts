/**
 * Parsers for option values shared by several commands (counts, sizes, compression specs,
 * percentages) and the global options every command sees. Each throws `UsageError` with a fix.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';
import type { StoreLimits } from '../index.js';

/** The options before or after any command: `-r/--repo`, `--json`, `--progress`, and the store limits. */
export interface GlobalOptions {
  repo?: string;
  json?: boolean;
  progress?: boolean;
  /** `-v/--verbose`: say more on standard error (see program.ts). */
  verbose?: boolean;
  uploadConnections?: number;
  downloadConnections?: number;
  /** Bytes per second (parsed by `parseRate`). */
  limitUpload?: number;
  limitDownload?: number;
  /** Milliseconds (parsed by `parseDuration`). */
  retryBudget?: number;
  timeout?: number;
  /** Bytes per second (parsed by `parseRate`). */
  minThroughput?: number;
  /** JSON price table for the estimated cost line. */
  prices?: string;
  /** False with `--no-cache`: the local index cache is neither read nor written. */
  cache?: boolean;
}

/** The store limits the global options set (unset ones keep the backend's defaults). */
export function storeLimitsOf(globals: GlobalOptions): StoreLimits {
  return {
    uploadConnections: globals.uploadConnections,
    downloadConnections: globals.downloadConnections,
    uploadBytesPerSecond: globals.limitUpload,
    downloadBytesPerSecond: globals.limitDownload,
    retryBudgetMs: globals.retryBudget,
    timeoutMs: globals.timeout,
    minBytesPerSecond: globals.minThroughput,
  };
}

const RATE_UNITS: Record<string, number> = {
  b: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2, g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
};

/** A transfer rate in bytes/s: a plain number is KiB/s (as restic's); `5MiB`, `500k`, `2MB/s` carry a unit; 0 = unlimited. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*?)(?:\/s)?$/i.exec(text.trim());
  const unit = m ? (m[2] ?? '').toLowerCase() : '';
  const factor = m ? (unit === '' ? 1024 : RATE_UNITS[unit]) : undefined;
  if (!m || factor === undefined) throw new InvalidArgumentError('use KiB/s as a number (e.g. 500) or a size per second with a unit (e.g. 5MiB, 800k, 2MB/s); 0 = unlimited');
  return Math.round(Number(m[1]) * factor);
}

/** A size in bytes: a plain number is bytes; `500k`, `10M`, `2GiB`, `1.5g`, `100MB` carry a unit (k/M/G/T are 1024-based, as restic's; KB/MB/GB/TB 1000-based). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? (m[2] ?? '').toLowerCase() : '';
  const factor = m ? (unit === '' ? 1 : { ...RATE_UNITS, t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4 }[unit]) : undefined;
  if (!m || factor === undefined) throw new InvalidArgumentError('use a size in bytes, or with a unit: 500k, 10M, 2GiB, 100MB');
  return Math.round(Number(m[1]) * factor);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** A duration in ms: `90s`, `15m`, `1h`, `500ms`, or several (`1m30s`); a plain number is seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  let total = 0;
  const rest = t.replace(/(\d+(?:\.\d+)?)(ms|min|s|m|h)/gi, (_all, n: string, unit: string) => {
    total += Number(n) * DURATION_UNITS[unit.toLowerCase()]!;
    return '';
  });
  if (rest !== '' || t === '') throw new InvalidArgumentError('use a duration such as 90s, 15m, 1h, 500ms or 1m30s (a plain number is seconds)');
  return Math.round(total);
}

/** A rate > 0 (`parseRate`), for the minimum throughput. */
export function parsePositiveRate(text: string): number {
  const rate = parseRate(text);
  if (rate <= 0) throw new InvalidArgumentError('use a rate above 0, e.g. 64k (KiB/s) or 1MiB');
  return rate;
}

/** A duration > 0 (for time limits, where 0 would mean "never"). */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new InvalidArgumentError('use a duration above 0, e.g. 60s');
  return ms;
}

/** The global options as seen from a command's action. */
export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The repository URL from -r/--repo or CAIRN_REPO; a usage error when neither is set. */
export function repoUrl(globals: GlobalOptions, io: CliIO): string {
  const url = globals.repo ?? io.env.CAIRN_REPO;
  if (!url) throw new UsageError('no repository given: use -r/--repo REPO or set CAIRN_REPO');
  return url;
}

/** A whole number ≥ min (commander argument parser). */
export function parseCount(min = 0) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || n < min) throw new InvalidArgumentError(`use a whole number ≥ ${min}${min === -1 ? ' (-1: all)' : ''}`);
    return n;
  };
}

/** A percentage such as `10%` or `10` (0 < p ≤ 100). */
export function parsePercent(text: string): number {
  const n = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw new InvalidArgumentError('use a percentage between 0 and 100, e.g. 10%');
  return n;
}

const COMPRESSORS = ['none', 'lz4', 'zstd', 'zlib', 'auto'];

/** A compression spec: `none`, `lz4`, `zstd[,1-22]`, `zlib[,0-9]`, `auto[,SPEC]`. */
export function parseCompression(text: string): string {
  const [name, level, ...rest] = text.split(',');
  const ok = COMPRESSORS.includes(name!) && (name === 'auto'
    ? level === undefined || COMPRESSORS.includes(level)
    : level === undefined || (/^\d+$/.test(level) && rest.length === 0 && (name === 'zstd' ? Number(level) >= 1 && Number(level) <= 22 : name === 'zlib' && Number(level) <= 9)));
  if (!ok) throw new InvalidArgumentError('use none, lz4, zstd[,1-22], zlib[,0-9] or auto[,SPEC]');
  return text;
}

/** A file mode in octal, `644` or `0644` (permission bits only). */
export function parseMode(text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) throw new InvalidArgumentError('use an octal mode such as 0644');
  return parseInt(text, 8);
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Key modes accepted by `rcreate --encryption`; `repokey` and `keyfile` are short for the AES-OCB ones. */
export const ENCRYPTION_MODES = ['repokey-aes-ocb', 'repokey-chacha20-poly1305', 'keyfile-aes-ocb', 'keyfile-chacha20-poly1305', 'authenticated', 'none'] as const;

export function parseEncryption(text: string): string {
  const mode = text === 'repokey' ? 'repokey-aes-ocb' : text === 'keyfile' ? 'keyfile-aes-ocb' : text;
  if (!(ENCRYPTION_MODES as readonly string[]).includes(mode)) throw new InvalidArgumentError(`use one of ${ENCRYPTION_MODES.join(', ')} (or repokey, keyfile)`);
  return mode;
}
