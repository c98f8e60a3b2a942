/**
 * Parsers for option values shared by several commands (counts, sizes, compression specs,
 * percentages) and the global options every command sees. Each throws `UsageError` with a fix.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';

/** The options before or after any command: `-r/--repo`, `--json`, `--progress`. */
export interface GlobalOptions {
  repo?: string;
  json?: boolean;
  progress?: boolean;
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
