// End to end through the executable: archive NAME arguments (placeholders, `latest`), PATTERN
// arguments that match nothing, `./` patterns, local times in rlist, one-line usage errors, and a
// create summary whose numbers say what they are (issue 11, defects 6 and 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cairn, ok, oneLine, workspace } from './helpers.js';

const host = hostname().split('.')[0]!;

async function twoArchives(ws: { dir: string; repo: string }): Promise<string> {
  const src = join(ws.dir, 'src');
  await mkdir(join(src, 'docs'), { recursive: true });
  await writeFile(join(src, 'docs', 'hello.txt'), 'first\n');
  await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
  await ok(['-r', ws.repo, 'create', `${host}-one`, '.'], { cwd: src });
  await sleep(1100); // archives are ordered by start time, in seconds as Borg
  await writeFile(join(src, 'docs', 'hello.txt'), 'second\n');
  await ok(['-r', ws.repo, 'create', `${host}-two`, '.'], { cwd: src });
  return src;
}

test('"latest" and placeholders name archives in extract, list, info, diff and delete', async () => {
  const ws = await workspace();
  try {
    await twoArchives(ws);
    const target = join(ws.dir, 'out');
    await mkdir(target);
    await ok(['-r', ws.repo, 'extract', 'latest', '--target', target]);
    assert.equal(await readFile(join(target, 'docs', 'hello.txt'), 'utf8'), 'second\n');
    const listed = await ok(['-r', ws.repo, 'list', '{hostname}-one', '--format', '{path}{NL}']);
    assert.match(listed, /docs\/hello\.txt/);
    const info = JSON.parse(await ok(['-r', ws.repo, '--json', 'info', 'latest'])) as { archives: { name: string }[] };
    assert.deepEqual(info.archives.map((a) => a.name), [`${host}-two`]);
    const diff = await ok(['-r', ws.repo, 'diff', '{hostname}-one', 'latest']);
    assert.match(diff, /docs\/hello\.txt/);
    await ok(['-r', ws.repo, 'delete', '{hostname}-one']);
    const left = JSON.parse(await ok(['-r', ws.repo, '--json', 'rlist'])) as { archives: { name: string }[] };
    assert.deepEqual(left.archives.map((a) => a.name), [`${host}-two`]);
  } finally {
    await ws.cleanup();
  }
});

test('a pattern that matches nothing is a warning naming it (exit 1); "./" and "/" prefixes match', async () => {
  const ws = await workspace();
  try {
    await twoArchives(ws);
    const target = join(ws.dir, 'out');
    await mkdir(target);
    const missed = await cairn(['-r', ws.repo, 'extract', 'latest', 'docs/nope.txt', '--target', target]);
    assert.equal(missed.code, 1, missed.stderr);
    assert.match(oneLine(missed.stderr), /pattern "docs\/nope\.txt" matched nothing/);
    assert.deepEqual(await readdir(target), []);
    const listMissed = await cairn(['-r', ws.repo, 'list', 'latest', 'nothing-here']);
    assert.equal(listMissed.code, 1);
    assert.match(oneLine(listMissed.stderr), /pattern "nothing-here" matched nothing/);
    for (const pattern of ['./docs/hello.txt', '/docs']) {
      const r = await cairn(['-r', ws.repo, 'list', 'latest', pattern, '--format', '{path}{NL}']);
      assert.equal(r.code, 0, `${pattern}: ${r.stderr}`);
      assert.match(r.stdout, /^docs\/hello\.txt$/m, pattern);
    }
    await ok(['-r', ws.repo, 'extract', 'latest', './docs', '--target', target]);
    assert.equal(await readFile(join(target, 'docs', 'hello.txt'), 'utf8'), 'second\n');
  } finally {
    await ws.cleanup();
  }
});

test('rlist shows local times with their zone; an unknown --format field and an unknown option are one-line usage errors', async () => {
  const ws = await workspace();
  try {
    await twoArchives(ws);
    const utc = JSON.parse(await ok(['-r', ws.repo, '--json', 'rlist'])) as { archives: { name: string; time: string }[] };
    const t = new Date(utc.archives[0]!.time);
    const ny = await ok(['-r', ws.repo, 'rlist'], { env: { TZ: 'America/New_York' } });
    const line = ny.split('\n').find((l) => l.startsWith(`${host}-one `))!;
    const m = / (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4}) /.exec(line);
    assert.ok(m, line);
    assert.match(m[2]!, /^-0[45]00$/); // EST or EDT
    const shown = Date.parse(`${m[1]!.replace(' ', 'T')}${m[2]!.slice(0, 3)}:${m[2]!.slice(3)}`);
    assert.equal(shown, Math.floor(t.getTime() / 1000) * 1000); // the same instant, shown in New York time
    const badField = await cairn(['-r', ws.repo, 'rlist', '--format', '{name} {size}{NL}']);
    assert.equal(badField.code, 2);
    assert.match(oneLine(badField.stderr), /unknown field \{size\}/);
    const badOption = await cairn(['-r', ws.repo, 'create', 'x', '.', '--stats']);
    assert.equal(badOption.code, 2);
    assert.match(oneLine(badOption.stderr), /unknown option '--stats'.*--no-stats/);
  } finally {
    await ws.cleanup();
  }
});

test('the create summary names what each number means; new data of a tiny file is not called "deduplicated"', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'tiny'), 'twelve bytes');
    await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    const out = await ok(['-r', ws.repo, 'create', 'a', '.'], { cwd: src });
    assert.match(out, /files 12 B; new data .* \(after deduplication, metadata included\), stored as .* \(compressed and encrypted\)/);
    assert.doesNotMatch(out, /deduplicated \d/);
  } finally {
    await ws.cleanup();
  }
});

test('rcreate ends by saying what to back up: the key (export) and the passphrase, or the key file', async () => {
  const ws = await workspace();
  try {
    const repokey = await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
    assert.match(repokey, /Keep the passphrase.*cairn key export FILE/s);
    const keyfile = await ok(['-r', `${ws.repo}-kf`, 'rcreate', '--encryption', 'keyfile']);
    assert.match(keyfile, /^key file: \/.+$/m);
    assert.match(keyfile, /Back up this key file and keep the passphrase/);
  } finally {
    await ws.cleanup();
  }
});
