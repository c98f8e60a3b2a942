// Borg-style patterns: fm (default, * crosses /), sh, re, pp; a match covers everything below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, PatternError } from '../../src/archive/patterns.js';

const table: [string, string, boolean][] = [
  ['*.tmp', 'a/b/c.tmp', true],
  ['*.tmp', 'a/b/c.tmpx', false],
  ['home/*/junk', 'home/u/x/junk', true],
  ['/home/u', 'home/u/file', true],
  ['home/u', 'home/user', false],
  ['fm:a/?', 'a/b/c', true],
  ['fm:a/[bc]', 'a/c', true],
  ['fm:a/[!bc]', 'a/c', false],
  ['sh:home/*/junk', 'home/u/x/junk', false],
  ['sh:home/**/junk', 'home/u/x/junk', true],
  ['sh:*.o', 'x.o', true],
  ['sh:**/.git', 'p/.git/config', true],
  ['re:\\.bak$', 'x/y.bak', true],
  ['re:^x/', 'yx/y', false],
  ['pp:a/b', 'a/b/c', true],
  ['pp:a/b', 'a/bc', false],
];

test('pattern table', () => {
  for (const [pattern, path, expected] of table) assert.equal(compilePattern(pattern)(path), expected, `${pattern} ~ ${path}`);
});

test('a bad regular expression is a PatternError', () => {
  assert.throws(() => compilePattern('re:(('), (e: unknown) => e instanceof PatternError && e.code === "EPATTERN");
});
