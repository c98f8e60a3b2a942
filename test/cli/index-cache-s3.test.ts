// End to end on the local S3 server (issue 13, ADR 0051): with the local index cache, a daily backup
// starts in a constant number of GETs however many index objects the repository holds; a compaction
// made by another machine (another cache folder) is noticed; a tampered cache is rebuilt with a
// warning and the results stay right. Counted by the `backend` object of --json.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, workspace } from './helpers.js';
import { s3Env, s3Url, startFactory } from '../backends/factories/s3.js';

interface Usage { requests: { get: number; list: number }; bytesDown: number }

const factory = await startFactory();

if (factory instanceof Error) {
  test('index cache on s3: server unavailable outside CI', (t) => t.skip(factory.message.split('\n')[0]));
} else {
  after(() => factory.stop());

  test('s3: the index cache makes open O(1) GETs, notices a compaction elsewhere, and survives tampering', async () => {
    const ws = await workspace();
    try {
      const url = s3Url(factory.env, 'index-cache/').href;
      const here = { ...s3Env(factory.env), XDG_CACHE_HOME: join(ws.dir, 'cache') };
      const there = { ...s3Env(factory.env), XDG_CACHE_HOME: join(ws.dir, 'cache-elsewhere') };
      const src = join(ws.dir, 'src');
      await mkdir(src);
      const indexObjects = async () => {
        const backend = await factory.make('index-cache/');
        let n = 0;
        for await (const { key } of backend.list('index/')) if (key.startsWith('index/')) n++;
        await backend.close();
        return n;
      };
      /** A daily backup: one new file, then `create`; returns its request counts. */
      let day = 0;
      const backup = async (env: NodeJS.ProcessEnv, extra: string[] = []): Promise<Usage> => {
        await writeFile(join(src, `day-${++day}`), `the file of day ${day}\n`.repeat(50));
        const out = await ok(['-r', url, '--json', ...extra, 'create', `day-${day}`, '.'], { cwd: src, env });
        return (JSON.parse(out) as { backend: Usage }).backend;
      };

      await ok(['-r', url, 'rcreate', '--encryption', 'repokey'], { env: here });
      for (let i = 0; i < 2; i++) await backup(here);
      const small = await backup(here);
      // Another machine adds many index objects; this machine's next backup reads those once...
      for (let i = 0; i < 6; i++) await backup(there);
      await backup(here);
      // ...and from then on starts in the same number of GETs as with 3 times fewer index objects.
      const large = await backup(here);
      const objects = await indexObjects();
      assert.ok(objects >= 10, `${objects} index objects`);
      assert.equal(large.requests.get, small.requests.get, `GETs with 4 then ${objects} index objects`);
      const uncached = await backup(here, ['--no-cache']);
      assert.ok(uncached.requests.get >= large.requests.get + objects - 1, `--no-cache reads every index object: ${uncached.requests.get} vs ${large.requests.get}`);
      assert.ok(uncached.bytesDown > large.bytesDown);

      // The other machine prunes most archives and compacts: index objects merge, segments are rewritten.
      await ok(['-r', url, 'prune', '--keep-last', '2'], { env: there });
      await ok(['-r', url, 'compact'], { env: there });
      assert.equal(await indexObjects(), 1);
      const afterCompaction = await backup(here);
      assert.ok(afterCompaction.requests.get > large.requests.get, 'the new full index was read');
      const verify = async (env: NodeJS.ProcessEnv) => {
        const target = join(ws.dir, `restore-${day}`);
        await mkdir(target);
        await ok(['-r', url, 'extract', `day-${day}`], { cwd: target, env });
        for (const name of await readdir(src)) assert.deepEqual(await readFile(join(target, name)), await readFile(join(src, name)), name);
        await ok(['-r', url, 'check', '--verify-data'], { env });
      };

      // A tampered cache file: the command still succeeds (exit 1: a warning), with the right results.
      const cairnDir = join(here.XDG_CACHE_HOME, 'cairn');
      const [id] = await readdir(cairnDir);
      const file = join(cairnDir, id, 'index');
      const bytes = await readFile(file);
      bytes[bytes.length - 40] ^= 0x01; // one location byte of the last entry
      await writeFile(file, bytes);
      await writeFile(join(src, `day-${++day}`), 'after the tampering\n');
      const tampered = await cairn(['-r', url, 'create', `day-${day}`, '.'], { cwd: src, env: here });
      assert.equal(tampered.code, 1, tampered.stderr);
      assert.match(tampered.stderr, /^cairn: warning: /m);
      assert.notDeepEqual(await readFile(file), bytes, 'the cache was rebuilt');
      await verify(here);
      const healed = await backup(here);
      assert.equal(healed.requests.get, afterCompaction.requests.get - 1, 'the rebuilt cache is used: no full index read');
    } finally {
      await ws.cleanup();
    }
  });
}
