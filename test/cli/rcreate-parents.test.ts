// End to end (code review D18): rcreate refuses a folder repository (a path, sftp://) whose parent
// folder does not exist, as Borg does, so that a backup drive that is not mounted does not silently
// become a repository on the disk below its mount point; --make-parent-dirs (Borg's name) creates them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cairn, ok, oneLine, workspace } from './helpers.js';
import { sftpUrl } from '../backends/factories/sftp.js';
import { tryStartServer } from '../helpers/servers.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

test('rcreate refuses a path whose parent folder is missing (exit 2, nothing made); --make-parent-dirs creates it', async () => {
  const ws = await workspace();
  try {
    const deep = join(ws.dir, 'media', 'usb', 'repo');
    for (const location of [deep, `file://${deep}`]) {
      const r = await cairn(['-r', location, 'rcreate', '-e', 'none']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLine(r.stderr), /--make-parent-dirs/);
      assert.equal(await exists(join(ws.dir, 'media')), false, 'no folder was made');
    }
    // JSON mode says it by code.
    const json = await cairn(['-r', deep, '--json', 'rcreate', '-e', 'none']);
    assert.equal(json.code, 2);
    assert.equal((JSON.parse(json.stderr) as { error: { code: string } }).error.code, 'ENO_PARENT_FOLDER');
    await ok(['-r', deep, 'rcreate', '-e', 'none', '--make-parent-dirs']);
    await ok(['-r', deep, 'rlist']);
    // A missing repository folder whose parent exists is created as before.
    await ok(['-r', join(ws.dir, 'media', 'second'), 'rcreate', '-e', 'none']);
  } finally {
    await ws.cleanup();
  }
});

const sftp = await tryStartServer('sftp');
if (sftp instanceof Error) {
  test('rcreate on sftp with a missing parent folder: server unavailable outside CI', (t) => t.skip(sftp.message.split('\n')[0]));
} else {
  after(() => sftp.stop());
  test('rcreate refuses an sftp:// folder whose parent is missing; --make-parent-dirs creates it', async () => {
    const ws = await workspace();
    try {
      const base = `parents-${process.pid}-${Date.now()}`;
      const url = sftpUrl(sftp.env, `${base}/a/repo`).href;
      const r = await cairn(['-r', url, '--json', 'rcreate', '-e', 'none']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal((JSON.parse(r.stderr) as { error: { code: string } }).error.code, 'ENO_PARENT_FOLDER');
      assert.equal(await exists(join(sftp.env.SFTP_ROOT!, base)), false, 'no folder was made on the server');
      await ok(['-r', url, 'rcreate', '-e', 'none', '--make-parent-dirs']);
      await ok(['-r', url, 'rlist']);
      await ok(['-r', sftpUrl(sftp.env, `${base}/a/second`).href, 'rcreate', '-e', 'none']);
    } finally {
      await ws.cleanup();
    }
  });
}
