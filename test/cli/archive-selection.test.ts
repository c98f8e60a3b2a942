// Through the executable: archive selection (-a, --host, --path, --tag, --first, --last) on rlist,
// info, check, delete and prune; `create --tag` and the recorded source paths; prune's grouping by
// host and paths (restic's default). Archives of another host are written with the library (as a
// second machine would); an archive from before paths and tags existed is forged without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createArchive, openBackend, openRepository } from '../../src/index.js';
import { cairn, ok, PASSPHRASE, workspace } from './helpers.js';
import { file, forgeArchive } from '../archive/helpers/forge.js';

type Ws = Awaited<ReturnType<typeof workspace>>;

/** Opens the workspace's repository with the library (its security state kept in the workspace, as the CLI's). */
async function withLibrary<T>(ws: Ws, work: (opened: Awaited<ReturnType<typeof openRepository>>) => Promise<T>): Promise<T> {
  const env = { ...process.env, XDG_CONFIG_HOME: join(ws.dir, 'config'), XDG_CACHE_HOME: join(ws.dir, 'cache') };
  const opened = await openRepository(await openBackend(ws.repo), { passphrase: PASSPHRASE, workers: 0, env });
  try {
    return await work(opened);
  } finally {
    await opened.close();
  }
}

async function sources(ws: Ws): Promise<void> {
  for (const sub of ['a', 'b']) {
    await mkdir(join(ws.dir, sub), { recursive: true });
    await writeFile(join(ws.dir, sub, 'f.txt'), `${sub}\n`);
  }
  await ok(['-r', ws.repo, 'rcreate', '--encryption', 'repokey']);
}

const names = async (ws: Ws, args: string[]): Promise<string[]> => (await ok(['-r', ws.repo, 'rlist', '--short', ...args], { cwd: ws.dir })).split('\n').filter(Boolean);

test('create --tag and the source paths are stored and shown by rlist and info; rlist, check, delete select by host, path, tag, first, last and -a', async () => {
  const ws = await workspace();
  try {
    await sources(ws);
    // An archive written before records had paths or tags: every filter on them leaves it out.
    await withLibrary(ws, (opened) => forgeArchive(opened, 'old', [file('f', Buffer.from('x'))]));
    const h = ['-r', ws.repo];
    await ok([...h, 'create', 'a1', 'a', '--tag', 'daily'], { cwd: ws.dir });
    await ok([...h, 'create', 'b1', 'b', '--tag', 'daily,db'], { cwd: ws.dir });
    await ok([...h, 'create', 'a2', './a/', '--tag', 'weekly', '--tag', 'weekly'], { cwd: ws.dir });
    await ok([...h, 'create', 'ab', 'b', 'a'], { cwd: ws.dir });

    const listed = JSON.parse(await ok([...h, '--json', 'rlist'])) as { archives: { name: string; host: string; paths: string[]; tags: string[] }[] };
    const byName = new Map(listed.archives.map((a) => [a.name, a]));
    assert.deepEqual(listed.archives.map((a) => a.name), ['old', 'a1', 'b1', 'a2', 'ab']);
    assert.deepEqual(byName.get('a1')!.paths, [join(ws.dir, 'a')]);
    assert.deepEqual(byName.get('a2')!.paths, [join(ws.dir, 'a')]); // "./a/" is recorded as the same absolute path
    assert.deepEqual(byName.get('ab')!.paths, [join(ws.dir, 'a'), join(ws.dir, 'b')]); // sorted
    assert.deepEqual(byName.get('b1')!.tags, ['daily', 'db']);
    assert.deepEqual(byName.get('a2')!.tags, ['weekly']); // a tag given twice is stored once
    assert.deepEqual([byName.get('old')!.paths, byName.get('old')!.tags, byName.get('old')!.host], [[], [], 'h']);

    assert.equal(await ok([...h, 'rlist', '--format', '{name}|{paths}|{tags}{NL}', '-a', '[ab]1']),
      `a1|${join(ws.dir, 'a')}|daily\nb1|${join(ws.dir, 'b')}|daily,db\n`);
    const table = (await ok([...h, 'rlist'])).split('\n').find((l) => l.startsWith('b1 '))!;
    assert.match(table, new RegExp(` \\[daily,db\\]  ${join(ws.dir, 'b')}$`));

    assert.deepEqual(await names(ws, ['--path', 'a']), ['a1', 'a2', 'ab']);
    assert.deepEqual(await names(ws, ['--path', 'a', '--path', join(ws.dir, 'b')]), ['ab']); // every --path
    assert.deepEqual(await names(ws, ['--tag', 'daily']), ['a1', 'b1']);
    assert.deepEqual(await names(ws, ['--tag', 'daily,db']), ['b1']); // a,b: both
    assert.deepEqual(await names(ws, ['--tag', 'db', '--tag', 'weekly']), ['b1', 'a2']); // repeated: any
    assert.deepEqual(await names(ws, ['--host', 'h']), ['old']);
    assert.deepEqual(await names(ws, ['--last', '2']), ['a2', 'ab']);
    assert.deepEqual(await names(ws, ['--first', '2']), ['old', 'a1']);
    assert.deepEqual(await names(ws, ['-a', 'a*', '--last', '1']), ['ab']); // filters first, then the newest N
    assert.deepEqual(await names(ws, ['--path', 'a', '--first', '1']), ['a1']);
    const both = await cairn([...h, 'rlist', '--first', '1', '--last', '1']);
    assert.equal(both.code, 2);
    assert.equal((await cairn([...h, 'rlist', '--tag', 'a,,b'])).code, 2);
    assert.equal((await cairn([...h, 'create', 'bad', 'a', '--tag', ''], { cwd: ws.dir })).code, 2);

    const info = JSON.parse(await ok([...h, '--json', 'info', 'b1'])) as { archives: { paths: string[]; tags: string[] }[] };
    assert.deepEqual([info.archives[0]!.paths, info.archives[0]!.tags], [[join(ws.dir, 'b')], ['daily', 'db']]);
    const infos = JSON.parse(await ok([...h, '--json', 'info', '--tag', 'daily'])) as { archives: { name: string }[] };
    assert.deepEqual(infos.archives.map((a) => a.name), ['a1', 'b1']);

    // Exit 1: the forged archive "old" is unjournaled (a warning about the whole set, not about the two checked).
    const check = await cairn([...h, '--json', 'check', '--archives-only', '--tag', 'daily']);
    assert.equal(check.code, 1, check.stderr);
    assert.equal((JSON.parse(check.stdout) as { archives: { archives: number } }).archives.archives, 2);

    const mixed = await cairn([...h, 'delete', 'a1', '--tag', 'weekly']);
    assert.equal(mixed.code, 2);
    assert.deepEqual(await names(ws, []), ['old', 'a1', 'b1', 'a2', 'ab']); // nothing deleted
    assert.equal(await ok([...h, 'delete', '--tag', 'weekly', '--list']), 'deleted a2\n');
    assert.equal(await ok([...h, 'delete', '--path', 'b', '--last', '1', '--dry-run'], { cwd: ws.dir }), 'would delete ab\n');
    assert.deepEqual(await names(ws, []), ['old', 'a1', 'b1', 'ab']);
  } finally {
    await ws.cleanup();
  }
});

test('prune keeps each host\'s and each source set\'s newest archives (--group-by host,paths by default); --group-by none pools them as Borg does', async () => {
  const ws = await workspace();
  try {
    await sources(ws);
    const h = ['-r', ws.repo];
    // Another machine backs up the same folder path twice, then this one three times, and once another folder.
    await withLibrary(ws, async (opened) => {
      for (const name of ['beta-1', 'beta-2']) await createArchive(opened, { name, paths: [join(ws.dir, 'a')], host: 'beta', cacheDir: join(ws.dir, 'cache-beta') });
    });
    for (const name of ['here-1', 'here-2', 'here-3']) await ok([...h, 'create', name, 'a'], { cwd: ws.dir });
    await ok([...h, 'create', 'here-b', 'b'], { cwd: ws.dir });

    const pooled = await ok([...h, 'prune', '--keep-last', '1', '--group-by', 'none', '--dry-run', '--list']);
    assert.match(pooled, /Keeping archive \(rule: secondly #1\): here-b /);
    assert.equal(pooled.match(/Would prune/g)?.length, 5);
    assert.doesNotMatch(pooled, /Archives of/);

    const byHost = await ok([...h, 'prune', '--keep-last', '1', '--group-by', 'host', '--dry-run', '--list']);
    assert.deepEqual([...byHost.matchAll(/Keeping archive \(rule: \S+ #1\): (\S+)/g)].map((m) => m[1]), ['beta-2', 'here-b']);

    const run = await ok([...h, 'prune', '--keep-last', '1', '--list']);
    assert.match(run, new RegExp(`Archives of host "beta", paths ${join(ws.dir, 'a')}:\\n  Keeping archive \\(rule: secondly #1\\): beta-2 `));
    assert.match(run, new RegExp(`Archives of host "[^"]+", paths ${join(ws.dir, 'b')}:\\n  Keeping archive \\(rule: secondly #1\\): here-b `));
    assert.deepEqual(await names(ws, []), ['beta-2', 'here-3', 'here-b']);

    const json = (await ok([...h, '--json', 'prune', '--keep-last', '1', '--host', 'beta', '--dry-run'])).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(json[0], { name: 'beta-2', action: 'keep', rule: 'secondly', index: 1, time: json[0]!.time, start: json[0]!.time, group: { host: 'beta', paths: [join(ws.dir, 'a')] } });
    assert.equal((await cairn([...h, 'prune', '--keep-last', '1', '--group-by', 'owner'])).code, 2);
  } finally {
    await ws.cleanup();
  }
});
