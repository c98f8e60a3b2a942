/**
 * Which items of an archive `extract` restores and `dump` / `export-tar` write, and under which path: include
 * and exclude patterns on the archive path (patterns.ts), then `--strip-components`.
 */
import { compilePatterns, type PathMatcher } from './patterns.js';

export interface ItemFilterOptions {
  /** Only paths this matches (and what is below them, as patterns match); absent: every path. */
  include?: PathMatcher;
  /** Leave out paths matching one of these patterns. */
  exclude?: readonly string[];
  /** Remove this many leading path parts; items with no part left are left out. */
  stripComponents?: number;
}

/**
 * A function of an item's display path and its checked parts (restore-fs.ts `safeParts`) that returns the parts
 * to write it under, or undefined when the item is left out.
 */
export function itemFilter(options: ItemFilterOptions): (shown: string, parts: readonly Buffer[]) => Buffer[] | undefined {
  const exclude = options.exclude?.length ? compilePatterns(options.exclude) : undefined;
  const strip = options.stripComponents ?? 0;
  return (shown, parts) => {
    if (options.include && !options.include(shown)) return undefined;
    if (exclude?.(shown)) return undefined;
    if (parts.length <= strip) return undefined;
    return parts.slice(strip);
  };
}
