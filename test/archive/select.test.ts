// The archive selection every multi-archive command shares, and prune's groups, as pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupArchives, selectArchives, type SelectableArchive } from '../../src/archive/select.js';
import { compilePattern } from '../../src/archive/patterns.js';

const a = (name: string, start: number, host = 'h1', paths = ['/src'], tags: string[] = [], checkpoint = false): SelectableArchive =>
  ({ name, start: BigInt(start), host, paths, tags, checkpoint });

const set = [a('c', 3, 'h2', ['/src', '/etc'], ['x']), a('a', 1), a('b', 2, 'h1', ['/src'], ['x', 'y']), a('d.checkpoint', 5, 'h1', ['/src'], [], true), a('e', 4, 'h1', [])];
const names = (s: Parameters<typeof selectArchives>[1]) => selectArchives(set, s).map((x) => x.name);

test('filters combine with "and"; first/last count what is left, oldest first, checkpoints left out', () => {
  assert.deepEqual(names({}), ['a', 'b', 'c', 'e', 'd.checkpoint']);
  assert.deepEqual(names({ hosts: ['h2', 'nope'] }), ['c']);
  assert.deepEqual(names({ paths: ['/src'] }), ['a', 'b', 'c', 'd.checkpoint']);
  assert.deepEqual(names({ paths: ['/src', '/etc'] }), ['c']);
  assert.deepEqual(names({ tags: [['x']] }), ['b', 'c']);
  assert.deepEqual(names({ tags: [['x', 'y']] }), ['b']);
  assert.deepEqual(names({ tags: [['y'], ['x', 'nope']] }), ['b']);
  assert.deepEqual(names({ last: 2 }), ['c', 'e']);
  assert.deepEqual(names({ first: 2, hosts: ['h1'] }), ['a', 'b']);
  assert.deepEqual(names({ glob: '[bcd]*', last: 1 }), ['c']);
  assert.deepEqual(names({ last: 10 }), ['a', 'b', 'c', 'e']);
  assert.throws(() => names({ first: 1, last: 1 }), RangeError);
});

test('groups are equal host and path sets (order and repeats ignored), in order of their oldest archive', () => {
  const groups = groupArchives([a('p', 2, 'h', ['/b', '/a']), a('q', 1, 'h', ['/a', '/b', '/a']), a('r', 3, 'g', ['/a', '/b']), a('s', 4, 'h', [])], ['host', 'paths']);
  assert.deepEqual(groups.map((g) => [g.key, g.archives.map((x) => x.name)]), [
    [{ host: 'h', paths: ['/a', '/b'] }, ['q', 'p']], [{ host: 'g', paths: ['/a', '/b'] }, ['r']], [{ host: 'h', paths: [] }, ['s']],
  ]);
  assert.deepEqual(groupArchives(set, []).map((g) => g.archives.length), [5]);
});

test('case-insensitive patterns for every style, and re:(?i)', () => {
  for (const p of ['*.JPG', 'sh:**/*.JPG', 're:\\.JPG$', 'pp:PHOTOS']) {
    assert.equal(compilePattern(p)('photos/a.jpg'), false, p);
    assert.equal(compilePattern(p, { caseInsensitive: true })('photos/a.jpg'), true, p);
  }
  assert.equal(compilePattern('re:(?i)\\.jpe?g$')('x/A.JPEG'), true);
  assert.equal(compilePattern('node_modules')('app/node_modules'), false); // anchored at the top
  assert.equal(compilePattern('sh:**/node_modules')('node_modules/x'), true);
  assert.equal(compilePattern('sh:**/node_modules')('app/deep/node_modules/x'), true);
  assert.equal(compilePattern('fm:*/node_modules')('app/node_modules'), true);
});
