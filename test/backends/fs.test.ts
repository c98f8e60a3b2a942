/** Runs the conformance suite on the fs backend in a temp folder, plus the fs-only rules. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mkdtemp, rm, writeFile, readdir, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBackend, translateError } from '../../backends/fs/index.js';
import { BackendError, PermissionError } from '../../src/store/errors.js';
import { conformanceSuite } from '../conformance/suite.js';

const base = await mkdtemp(join(tmpdir(), 'cairn-fs-test-'));
after(() => rm(base, { recursive: true, force: true }));

conformanceSuite('fs', async (root) => createFsBackend(join(base, root)));

describe('fs backend specifics', () => {
  test('leftover temp files are never listed or read, and stale ones are cleaned', async () => {
    const b = createFsBackend(join(base, 'temps'));
    await b.create();
    await b.put('data/00/seg', new Uint8Array([1, 2]));
    const leftover = join(base, 'temps', 'data', '00', '.tmp-123-dead');
    const fresh = join(base, 'temps', 'data', '.tmp-456-live');
    await writeFile(leftover, 'half a segm');
    await writeFile(fresh, 'in flight');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(leftover, old, old);
    const keys: string[] = [];
    for await (const e of b.list('')) keys.push(e.key);
    assert.deepEqual(keys, ['data/00/seg']);
    assert.equal(await b.removeStaleTempFiles(), 1);
    assert.deepEqual(await readdir(join(base, 'temps', 'data', '00')), ['seg']);
    assert.deepEqual((await readdir(join(base, 'temps', 'data'))).sort(), ['.tmp-456-live', '00']);
    await b.destroy();
  });

  test('writes leave no temp files; deletes remove emptied folders but not the root', async () => {
    const root = join(base, 'tidy');
    const b = createFsBackend(root);
    await b.create();
    await b.put('a/b/c', new Uint8Array(10));
    await b.put('a/b/c', new Uint8Array(20));
    await b.put('a/x', new Uint8Array(1), { ifAbsent: true });
    await assert.rejects(b.put('a/x', new Uint8Array(1), { ifAbsent: true }), { code: 'EALREADY_EXISTS' });
    assert.deepEqual((await readdir(join(root, 'a'))).sort(), ['b', 'x']);
    assert.deepEqual(await readdir(join(root, 'a', 'b')), ['c']);
    await b.delete('a/b/c');
    assert.deepEqual(await readdir(join(root, 'a')), ['x']);
    await b.delete('a/x');
    assert.deepEqual(await readdir(root), []);
    await b.destroy();
  });

  test('concurrent deletes that empty one folder all succeed, and a put after them re-creates it', async () => {
    const b = createFsBackend(join(base, 'race'));
    await b.create();
    for (let round = 0; round < 30; round++) {
      const keys = Array.from({ length: 16 }, (_, i) => `locks/r${round}-${i}`);
      await Promise.all(keys.map((k) => b.put(k, new Uint8Array([round]))));
      await Promise.all(keys.map((k) => b.delete(k)));
      const fresh = `locks/new${round}`;
      await b.put(fresh, new Uint8Array([1]));
      assert.deepEqual(await b.get(fresh), new Uint8Array([1]));
      await b.delete(fresh);
    }
    await b.destroy();
  });

  test('objects are created 0600 and folders 0700, whatever the umask (F9)', async () => {
    const root = join(base, 'private', 'repo');
    const b = createFsBackend(root);
    const umask = process.umask(0);
    try {
      await b.create();
      await b.put('keys/repokey', new Uint8Array(10), { ifAbsent: true });
      await b.put('data/00/seg', new Uint8Array(10));
      await b.put('data/00/seg', new Uint8Array(20));
    } finally {
      process.umask(umask);
    }
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    for (const dir of [join(base, 'private'), root, join(root, 'keys'), join(root, 'data'), join(root, 'data', '00')]) assert.equal(await mode(dir), 0o700, dir);
    for (const file of [join(root, 'keys', 'repokey'), join(root, 'data', '00', 'seg')]) assert.equal(await mode(file), 0o600, file);
    await b.destroy();
  });

  test('a put into a destroyed store does not re-create it', async () => {
    const b = createFsBackend(join(base, 'gone'));
    await b.create();
    await b.destroy();
    await assert.rejects(b.put('a/b', new Uint8Array(1)), { code: 'ENO_REPOSITORY_STORE' });
    await assert.rejects(b.get('a/b'), { code: 'ENO_REPOSITORY_STORE' });
  });

  test('translateError maps errno codes to typed errors, keeping the cause', () => {
    const cases: [string, string, boolean][] = [
      ['ENOENT', 'ENOTFOUND_KEY', false], ['EEXIST', 'EALREADY_EXISTS', false], ['EACCES', 'EPERMISSION', false],
      ['EPERM', 'EPERMISSION', false], ['ENOSPC', 'ENO_SPACE', false], ['EDQUOT', 'ENO_SPACE', false],
      ['EMFILE', 'ETRANSIENT', true], ['EAGAIN', 'ETRANSIENT', true], ['EBUSY', 'ETRANSIENT', true], ['EXDEV', 'EBACKEND', false],
    ];
    for (const [errno, code, transient] of cases) {
      const cause = Object.assign(new Error(`sys ${errno}`), { code: errno });
      const err = translateError(cause, 'put', 'k');
      assert.ok(err instanceof BackendError, errno);
      assert.equal(err.code, code, errno);
      assert.equal(err.transient, transient, errno);
      assert.equal(err.cause, cause);
      assert.equal(err.key, 'k');
    }
    assert.ok(translateError(Object.assign(new Error('x'), { code: 'EACCES' }), 'get') instanceof PermissionError);
  });
});
