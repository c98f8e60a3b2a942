// End to end (code review D14): `info` shows local times with their zone and sizes with units (exact
// numbers stay in --json), and all archives oldest first as rlist does, not by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, workspace } from './helpers.js';

test('info: all archives oldest first, local times with zone, sizes with units; --json keeps exact values', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'big.bin'), randomBytes(3 << 20));
    const env = { TZ: 'America/New_York' };
    const r = ['-r', ws.repo];
    await ok([...r, 'rcreate', '-e', 'none']);
    await ok([...r, 'create', 'zz-first', '.'], { cwd: src });
    await ok([...r, 'create', 'aa-second', '.'], { cwd: src });

    const text = await ok([...r, 'info'], { env });
    const names = [...text.matchAll(/^name\s+(\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(names, ['zz-first', 'aa-second'], 'oldest first, as rlist');
    assert.deepEqual((await ok([...r, 'rlist', '--short'])).trim().split('\n'), names);
    assert.match(text, /^start\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[45]00$/m, 'local time with its zone');
    assert.doesNotMatch(text, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/, 'no ISO nanosecond times for people');
    assert.match(text, /^files size\s+3\.00 MiB /m, 'sizes with units');
    assert.doesNotMatch(text, /\b3145728\b/, 'no raw byte counts for people');

    const json = JSON.parse(await ok([...r, '--json', 'info'], { env })) as { archives: { name: string; original: number; durationMs: number; start: string }[] };
    assert.deepEqual(json.archives.map((a) => a.name), names);
    assert.equal(json.archives[0]!.original, 3 << 20);
    assert.ok(Number.isInteger(json.archives[0]!.durationMs));
    assert.match(json.archives[0]!.start, /Z$/);
  } finally {
    await ws.cleanup();
  }
});
