/** Compression settings: the user's spec string (`none`, `lz4`, `zstd[,L]`, `zlib[,L]`, `auto[,SPEC]`) parsed and checked. */
import { InvalidOptionError } from '../errors.js';

export type Algorithm = 'none' | 'lz4' | 'zstd' | 'zlib';

/** A parsed compression setting; `auto` first tests a sample cheaply and stores incompressible chunks as `none`. */
export interface CompressionSpec {
  algorithm: Algorithm;
  level: number;
  auto: boolean;
}

/** Algorithm ids of the frame header byte (docs/format/chunks.md). Never renumber. */
export const ALGORITHM_IDS: Readonly<Record<Algorithm, number>> = { none: 0, lz4: 1, zstd: 2, zlib: 3 };

const DEFAULT_LEVEL: Record<Algorithm, number> = { none: 0, lz4: 0, zstd: 3, zlib: 6 };
const LEVEL_RANGE: Record<Algorithm, [number, number]> = { none: [0, 0], lz4: [0, 0], zstd: [1, 22], zlib: [0, 9] };

/** Parses e.g. "zstd,10", "auto,zlib,9", "lz4"; throws InvalidOptionError on anything else. */
export function parseCompression(text: string): CompressionSpec {
  const parts = text.trim().toLowerCase().split(',');
  let auto = false;
  if (parts[0] === 'auto') {
    auto = true;
    parts.shift();
    if (parts.length === 0) parts.push('lz4');
  }
  const [name, levelText, ...rest] = parts;
  if (!(name in ALGORITHM_IDS) || rest.length > 0) throw new InvalidOptionError(`unknown compression "${text}"`);
  const algorithm = name as Algorithm;
  const level = levelText === undefined ? DEFAULT_LEVEL[algorithm] : Number(levelText);
  const [lo, hi] = LEVEL_RANGE[algorithm];
  if (!Number.isInteger(level) || level < lo || level > hi) throw new InvalidOptionError(`compression level for ${algorithm} must be ${lo}..${hi}`);
  if (auto && algorithm === 'none') throw new InvalidOptionError('auto needs an algorithm other than none');
  return { algorithm, level, auto };
}

/** The canonical text of a spec (round-trips through parseCompression). */
export function formatCompression(spec: CompressionSpec): string {
  const base = spec.algorithm === 'zstd' || spec.algorithm === 'zlib' ? `${spec.algorithm},${spec.level}` : spec.algorithm;
  return spec.auto ? `auto,${base}` : base;
}
