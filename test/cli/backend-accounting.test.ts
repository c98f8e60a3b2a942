// End to end through the cairn executable: every command that touches the repository reports what
// it cost (`backend` in --json, one summary line in text), and the storage limits are global options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cairn, ok, oneLine, workspace } from './helpers.js';

interface Usage { requests: Record<string, number>; retries: number; bytesUp: number; bytesDown: number }

/** Checks the exact shape of the `backend` object and returns it. */
function usageOf(result: unknown, what: string): Usage {
  const backend = (result as { backend?: Usage }).backend;
  assert.ok(backend, `${what}: no backend object in ${JSON.stringify(result)}`);
  assert.deepEqual(Object.keys(backend), ['requests', 'retries', 'bytesUp', 'bytesDown'], what);
  assert.deepEqual(Object.keys(backend.requests), ['get', 'put', 'list', 'head', 'delete'], what);
  for (const n of [...Object.values(backend.requests), backend.retries, backend.bytesUp, backend.bytesDown]) assert.ok(Number.isSafeInteger(n) && n >= 0, what);
  assert.ok(Object.values(backend.requests).reduce((a, b) => a + b, 0) > 0, `${what}: no requests counted`);
  return backend;
}

const json = (text: string) => JSON.parse(text) as unknown;
/** The last line of a JSON-lines output (the accounting line of list, diff and prune). */
const lastLine = (text: string) => JSON.parse(text.trim().split('\n').at(-1)!) as unknown;
const SUMMARY = /^fs: (\d+) requests? \((\d+ (GET|PUT|LIST|HEAD|DELETE)(, )?)+\), \d+ retr(y|ies)(, [\d.]+ (B|KiB|MiB) (up|down))*$/m;

test('every repository command carries the backend object in --json, and the summaries a request line', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'a');
    await writeFile(join(src, 'b'), randomBytes(200_000));
    const r = ['-r', ws.repo, '--json'];
    const created = usageOf(json(await ok([...r, 'rcreate', '--encryption', 'repokey'])), 'rcreate');
    assert.ok(created.requests.put >= 2, 'config and key were written');
    const first = usageOf(json(await ok([...r, 'create', 'a1', '.'], { cwd: src })), 'create');
    assert.ok(first.bytesUp > 200_000, 'the new data went up');
    await writeFile(join(src, 'c'), 'c');
    usageOf(json(await ok([...r, 'create', 'a2', '.'], { cwd: src })), 'create a2');
    usageOf(json(await ok([...r, 'rlist'])), 'rlist');
    // A read-only command repeated gives the same counts: they are exact, not sampled.
    const info1 = usageOf(json(await ok([...r, 'rinfo'])), 'rinfo');
    const info2 = usageOf(json(await ok([...r, 'rinfo'])), 'rinfo again');
    assert.deepEqual(info2, info1);
    usageOf(json(await ok([...r, 'info', 'a1'])), 'info');
    usageOf(lastLine(await ok([...r, 'list', 'a1'])), 'list');
    usageOf(lastLine(await ok([...r, 'diff', 'a1', 'a2'])), 'diff');
    const extracted = usageOf(json(await ok([...r, 'extract', 'a1', '--target', join(ws.dir, 'out')])), 'extract');
    assert.ok(extracted.bytesDown > 200_000, 'the data came down');
    const checked = usageOf(json(await ok([...r, 'check', '--verify-data'])), 'check');
    assert.ok(checked.bytesDown > 200_000);
    usageOf(json(await ok([...r, 'delete', 'a1'])), 'delete');
    usageOf(lastLine(await ok([...r, 'prune', '--keep-last', '1'])), 'prune');
    usageOf(json(await ok([...r, 'compact'])), 'compact');
    usageOf(json(await ok([...r, 'key', 'change-passphrase'], { env: { CAIRN_NEW_PASSPHRASE: 'correct horse battery staple' } })), 'key change-passphrase');
    const exported = join(ws.dir, 'key.txt');
    await ok(['-r', ws.repo, 'key', 'export', exported]);
    usageOf(json(await ok([...r, 'key', 'import', exported])), 'key import');
    // list --json-lines stays a pure item stream.
    for (const line of (await ok(['-r', ws.repo, 'list', 'a2', '--json-lines'])).trim().split('\n')) assert.ok('path' in (JSON.parse(line) as object));

    // Human summaries: create, extract, check, compact and prune end with the request line.
    const h = ['-r', ws.repo];
    await writeFile(join(src, 'd'), randomBytes(1000));
    const createText = await ok([...h, 'create', 'a3', '.'], { cwd: src });
    assert.match(createText, SUMMARY);
    assert.match(createText.match(SUMMARY)![0], /PUT.*, \d+ retries, [\d.]+ KiB up/);
    assert.doesNotMatch(await ok([...h, 'create', '--no-stats', 'a4', '.'], { cwd: src }), SUMMARY);
    assert.match(await ok([...h, 'extract', 'a3', '--target', join(ws.dir, 'out2')]), SUMMARY);
    assert.match(await ok([...h, 'check']), SUMMARY);
    assert.match(await ok([...h, 'prune', '--keep-last', '2']), SUMMARY);
    assert.match(await ok([...h, 'compact']), SUMMARY);
    assert.doesNotMatch(await ok([...h, 'rlist']), SUMMARY);

    // A price table turns the counts into an estimated cost line.
    const prices = join(ws.dir, 'prices.json');
    await writeFile(prices, JSON.stringify({ fs: { currency: 'EUR', requestsPer1000: { get: 1, put: 1, list: 1, head: 1, delete: 1 }, perGiB: { up: 0, down: 0 } } }));
    const costed = await ok([...h, '--prices', prices, 'check']);
    const requests = Number(costed.match(SUMMARY)![1]);
    const cost = /^estimated cost: ([\d.]+) EUR \(requests ([\d.]+), transfer 0\)$/m.exec(costed);
    assert.ok(cost, costed);
    assert.ok(Math.abs(Number(cost[1]) - requests / 1000) < requests / 1000 * 0.05, `${cost[1]} for ${requests} requests`);
    const badPrices = await cairn([...h, '--prices', join(ws.dir, 'missing.json'), 'rlist']);
    assert.equal(badPrices.code, 2);
    assert.match(oneLine(badPrices.stderr), /price table/);

    // rdelete reports too, and the repository is gone.
    usageOf(json(await ok([...r, 'rdelete', '--yes'])), 'rdelete');
  } finally {
    await ws.cleanup();
  }
});

test('storage limits are global options; bad values fail with exit 2 and one line', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'big'), randomBytes(1_200_000));
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'none']);
    // 1.2 MiB of new data at 300 KiB/s (one second's worth may burst): at least 2.5 s of uploading.
    const started = performance.now();
    await ok(['-r', ws.repo, '--limit-upload', '300', '--upload-connections', '1', '--retry-budget', '30s', '--timeout', '20s',
      'create', '--compression', 'none', 'slow', '.'], { cwd: src });
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= 2.5, `${seconds} s`);
    for (const [option, value] of [['--upload-connections', '0'], ['--download-connections', 'x'], ['--limit-upload', '5 parsecs'], ['--retry-budget', 'soon'], ['--timeout', '0']]) {
      const bad = await cairn(['-r', ws.repo, option!, value!, 'rinfo']);
      assert.equal(bad.code, 2, `${option} ${value}`);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr, new RegExp(option!));
    }
    const help = await ok(['--help']);
    for (const option of ['--upload-connections', '--download-connections', '--limit-upload', '--limit-download', '--retry-budget', '--timeout', '--prices']) assert.match(help, new RegExp(option));
    assert.match(help, /s3 +16 +64/);
  } finally {
    await ws.cleanup();
  }
});
