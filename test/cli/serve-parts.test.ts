// The pure parts of `cairn serve`: which byte range a Range header asks for (RFC 9110 §14), the --listen address,
// what counts as a text preview, and HTML escaping of names from the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from '../../src/cli/serve/range.js';
import { parseListen } from '../../src/cli/commands/serve.js';
import { looksLikeText } from '../../src/cli/serve/pages.js';
import { esc } from '../../src/cli/serve/html.js';
import { UsageError } from '../../src/cli/errors.js';

test('Range headers: one range is partial, suffix and open ends clamp, past the end is 416, anything else the whole file', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'whole' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-500', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' });
  for (const ignored of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-3', 'bytes=-', 'nonsense']) assert.deepEqual(parseRange(ignored, 100), { kind: 'whole' }, ignored);
});

test('--listen takes HOST:PORT, [v6]:PORT, :PORT or PORT; anything else is a usage error', () => {
  assert.deepEqual(parseListen(undefined), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseListen(':8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('localhost:1'), { host: 'localhost', port: 1 });
  for (const bad of ['host', 'host:', 'host:99999', '1.2.3.4:-1', '::1:80']) assert.throws(() => parseListen(bad), UsageError, bad);
});

test('a preview is text when the start of the file has no NUL and is UTF-8 (a character cut at the end allowed)', () => {
  assert.equal(looksLikeText(Buffer.from('hello\nwörld')), true);
  assert.equal(looksLikeText(Buffer.from('héllo').subarray(0, 2)), true);
  assert.equal(looksLikeText(Buffer.from([0x68, 0, 0x69])), false);
  assert.equal(looksLikeText(Buffer.from([0xff, 0xfe, 0x41, 0x42, 0x43, 0x44, 0x45])), false);
});

test('names from the repository are escaped in HTML', () => {
  assert.equal(esc('<img src=x onerror="a()">&\''), '&lt;img src=x onerror=&quot;a()&quot;&gt;&amp;&#39;');
});
