/**
 * Path patterns with Borg's styles, for `--exclude` on create and PATTERN on extract/list.
 *
 * A pattern is matched against the archive path (relative, no leading "/"). It selects the
 * path itself and everything below it, so excluding a directory excludes its contents.
 * Styles, chosen by a prefix as in Borg (default `fm:`):
 * - `fm:` fnmatch: `*` matches any run of characters INCLUDING "/", `?` one character, `[...]` a class.
 * - `sh:` shell: `*` stops at "/", `**` crosses folders (picomatch, dot files included).
 * - `re:` a JavaScript regular expression, searched anywhere in the path.
 * - `pp:` a path prefix: the path itself or anything below it.
 * A leading "/" or "./" in fm/sh/pp patterns is ignored, so `/home/x`, `./home/x` and `home/x` mean the same.
 * fm, sh and pp patterns are anchored at the top of the archive path: `node_modules` matches only a
 * top-level `node_modules`; for any depth prefix it with a star and a slash (`fm:` style) or two stars
 * and a slash (`sh:`), as docs/cli.md shows.
 * Case-insensitive matching: `{ caseInsensitive: true }` (the CLI's `--iexclude`), or a `re:` pattern
 * that starts with `(?i)` (Python's inline flag, as Borg users write it).
 */
import picomatch from 'picomatch';
import { PatternError } from './errors.js';

export { PatternError };

/** A compiled pattern: true when `path` (archive path, display form) is selected. */
export type PathMatcher = (path: string) => boolean;

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** fnmatch → regular expression source, "*" crossing "/" (Python's fnmatch.translate). */
function fnmatchSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = '^' + body.slice(1);
      out += `[${body}]`;
      i = end;
    } else out += escapeRegExp(c);
  }
  return out;
}

/** Archive paths have no leading "/" or "./": `/home/x`, `./home/x` and `home/x` mean the same. */
function trimSlashes(pattern: string): string {
  return pattern.replace(/^(?:\/+|\.\/+)+/, '').replace(/\/+$/, '');
}

/** How a pattern compares letters. */
export interface PatternOptions {
  /** Compare letters regardless of case (Unicode simple case folding, as JavaScript's `i` flag). */
  caseInsensitive?: boolean;
}

/** Compiles one pattern (with an optional `fm:`, `sh:`, `re:` or `pp:` prefix). */
export function compilePattern(pattern: string, options: PatternOptions = {}): PathMatcher {
  const m = /^(fm|sh|re|pp):(.*)$/s.exec(pattern);
  const style = m ? m[1] : 'fm';
  let body = m ? m[2]! : pattern;
  let nocase = options.caseInsensitive === true;
  // Python's leading inline flag, which JavaScript's RegExp does not accept: Borg users' `re:(?i)…` patterns.
  if (style === 're' && body.startsWith('(?i)')) { body = body.slice(4); nocase = true; }
  if (body.length === 0) throw new PatternError(`empty pattern "${pattern}"`);
  const flags = nocase ? 'si' : 's';
  switch (style) {
    case 'fm': {
      const re = new RegExp(`^${fnmatchSource(trimSlashes(body))}(?:/.*)?$`, flags);
      return (path) => re.test(path);
    }
    case 'sh': {
      const p = trimSlashes(body);
      const self = picomatch(p, { dot: true, nocase });
      const below = picomatch(`${p}/**`, { dot: true, nocase });
      return (path) => self(path) || below(path);
    }
    case 're': {
      let re: RegExp;
      try {
        re = new RegExp(body, flags);
      } catch (cause) {
        throw new PatternError(`bad regular expression in pattern "${pattern}"`, { cause });
      }
      return (path) => re.test(path);
    }
    default: {
      const prefix = trimSlashes(body);
      if (!nocase) return (path) => path === prefix || path.startsWith(prefix + '/');
      const re = new RegExp(`^${escapeRegExp(prefix)}(?:/.*)?$`, flags);
      return (path) => re.test(path);
    }
  }
}

/** One matcher for a list of patterns: true when any pattern selects the path. */
export function compilePatterns(patterns: readonly string[], options: PatternOptions = {}): PathMatcher {
  const matchers = patterns.map((p) => compilePattern(p, options));
  return (path) => matchers.some((m) => m(path));
}
