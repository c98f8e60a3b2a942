/**
 * The fs backend on a real file system without hard links (a FAT32 image mounted by the test,
 * test/helpers/no-hardlink-fs.ts): create-only puts publish through an O_EXCL claim instead of
 * link(2). The conformance suite (but its 1 530-key listing, see below), a race of create-only
 * writers and a backup and restore through the cairn executable all run there. Skipped outside CI when the mount is impossible (not root,
 * no tools); in CI (CI=true) that is a failure.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { link, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFsBackend } from '../../backends/fs/index.js';
import { AlreadyExistsError } from '../../src/store/errors.js';
import { conformanceSuite } from '../conformance/suite.js';
import { mountFat32 } from '../helpers/no-hardlink-fs.js';
import { ok, workspace } from '../cli/helpers.js';

const mount = await mountFat32();
if (mount instanceof Error) {
  if (process.env.CI === 'true') test('a file system without hard links can be mounted in CI', () => assert.fail(mount.message));
  else test('fs without hard links: no FAT32 mount here', (t) => t.skip(mount.message));
} else {
  after(() => mount.unmount());
  const at = (name: string) => join(mount.dir, name);

  test('the mounted file system really refuses hard links', async () => {
    await writeFile(at('probe'), 'x');
    await assert.rejects(link(at('probe'), at('probe-link')), { code: 'EPERM' });
  });

  // FAT32 keeps no modes and folds case (two cases use keys that differ only in case).
  // What the disk changes: without hard links only put({ ifAbsent }) takes another path
  // (backends/fs/atomic-write.ts: the O_EXCL claim instead of link(2)); being FAT, every call
  // meets another file system (2 s times, folded case, vfat rename, unlink and rmdir), so every
  // case runs here but one: the listing of 1 530 keys. Listing is readdir, a sort and lstat
  // (backends/fs/walk.ts), the same code whatever the disk, and fs.test.ts proves it on ext4,
  // whose readdir order is as arbitrary as FAT's; writing 1 530 files through fusefat takes
  // about three minutes of CI time, twice per CI run. The small listings of the other cases
  // (times, half-written objects, destroy) still run on FAT.
  conformanceSuite('fs on FAT32 (no hard links)', async (root) => createFsBackend(at(root)), { caseInsensitive: true, timeResolutionMs: 2000, except: ['list over many keys'] });

  describe('fs on FAT32 specifics', () => {
    test('create-only puts racing from separate clients: exactly one wins, with all its bytes', async () => {
      const store = at('race');
      await createFsBackend(store).create();
      for (let round = 0; round < 20; round++) {
        const clients = Array.from({ length: 6 }, () => createFsBackend(store));
        const bodies = clients.map((_, i) => new Uint8Array(100_000 + i).fill(i + 1));
        const results = await Promise.allSettled(clients.map((c, i) => c.put(`locks/k${round}`, bodies[i]!, { ifAbsent: true })));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
        assert.deepEqual(await clients[0]!.get(`locks/k${round}`), bodies[winners[0]!]);
      }
      // No claim or temp file is left behind.
      assert.deepEqual((await readdir(join(store, 'locks'))).filter((n) => n.startsWith('.')), []);
    });

    test('a claim left by a writer that died is reported with what to do, never broken', async () => {
      const b = createFsBackend(at('stuck'));
      await b.create();
      await b.put('locks/exclusive', new Uint8Array([1]), { ifAbsent: true });
      await writeFile(at('stuck/locks/.claim-exclusive2'), '');
      await assert.rejects(b.put('locks/exclusive2', new Uint8Array([2]), { ifAbsent: true }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'EBACKEND');
        assert.match(err.message, /\.claim-exclusive2/);
        return true;
      });
      assert.equal(await b.stat('locks/exclusive2'), undefined);
    });

    test('cairn rcreate, create and extract work on it', async () => {
      const ws = await workspace();
      try {
        const repo = at('cli-repo');
        const src = join(ws.dir, 'src');
        await mkdir(src);
        await writeFile(join(src, 'a.txt'), 'hello from a FAT32 disk\n'.repeat(1000));
        await ok(['-r', repo, 'rcreate', '--encryption', 'repokey']);
        await ok(['-r', repo, 'create', 'first', 'src'], { cwd: ws.dir });
        await ok(['-r', repo, 'create', 'second', 'src'], { cwd: ws.dir });
        const out = join(ws.dir, 'out');
        await mkdir(out);
        await ok(['-r', repo, 'extract', 'second'], { cwd: out });
        assert.deepEqual(await readFile(join(out, 'src', 'a.txt')), await readFile(join(src, 'a.txt')));
      } finally {
        await ws.cleanup();
      }
    });
  });
}
