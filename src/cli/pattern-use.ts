/**
 * Which PATTERN arguments of `extract` and `list` selected something: a pattern that matched no
 * item is a warning naming it (exit 1), as in Borg ("Include pattern '…' never matched").
 */
import { compilePattern, pathText, type Item } from '../index.js';
import type { CliIO } from './io.js';

export interface PatternUse {
  /** Notes an item the command selected. */
  note(item: Item): void;
  /** Warns once for each pattern that selected nothing in `archive`. */
  warnUnmatched(io: CliIO, archive: string): void;
}

export function patternUse(patterns: readonly string[]): PatternUse {
  const pending = patterns.map((pattern) => ({ pattern, matches: compilePattern(pattern) }));
  return {
    note(item) {
      if (pending.length === 0) return;
      const path = pathText(item.path);
      for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.matches(path)) pending.splice(i, 1);
    },
    warnUnmatched(io, archive) {
      for (const { pattern } of pending) {
        io.warn(`pattern "${pattern}" matched nothing in archive ${archive}; archive paths keep the folders that were backed up: see them with "cairn list ${archive}"`);
      }
    },
  };
}
