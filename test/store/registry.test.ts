/** The URL → backend registry and password redaction. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBackend, redactUrl } from '../../backends/index.js';
import { InvalidUrlError } from '../../src/store/errors.js';

test('a plain path and a file:// URL open the fs backend on that folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-registry-'));
  try {
    const byPath = await openBackend(join(dir, 'repo'));
    assert.equal(byPath.name, 'fs');
    assert.equal(byPath.location, join(dir, 'repo'));
    await byPath.create();
    await byPath.put('config', new Uint8Array([7]));
    const byUrl = await openBackend(pathToFileURL(join(dir, 'repo')).href);
    assert.equal(byUrl.name, 'fs');
    assert.deepEqual(await byUrl.get('config'), new Uint8Array([7]));
    const relative = await openBackend('some/relative/dir');
    assert.equal(relative.location, join(process.cwd(), 'some/relative/dir'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory: opens a new empty in-memory store', async () => {
  const b = await openBackend('memory:');
  assert.equal(b.name, 'memory');
  await b.put('k', new Uint8Array(1));
  assert.equal(await (await openBackend('memory:')).stat('k'), undefined);
});

test('unknown schemes, malformed URLs and empty locations are InvalidUrlError', async () => {
  for (const location of ['ftp://host/x', 'nope:thing', '', 'file://remote-host/x']) {
    await assert.rejects(openBackend(location), InvalidUrlError, location);
  }
  await assert.rejects(openBackend('ftp://u:hunter2@host/x'), (err) => {
    assert.ok(err instanceof InvalidUrlError);
    assert.equal(err.code, 'EINVALID_URL');
    assert.ok(!err.message.includes('hunter2'), 'no password in the message');
    return true;
  });
});

test('redactUrl hides passwords and secret query values, nothing else', () => {
  assert.equal(redactUrl('sftp://alice:s3cr%40t@host:2222/backups'), 'sftp://alice:***@host:2222/backups');
  assert.equal(redactUrl('sftp://alice@host/backups?identity=/home/a/.ssh/id'), 'sftp://alice@host/backups?identity=/home/a/.ssh/id');
  assert.equal(redactUrl('s3://bucket/prefix?endpoint=http%3A%2F%2Flocalhost%3A4569&region=x'), 's3://bucket/prefix?endpoint=http%3A%2F%2Flocalhost%3A4569&region=x');
  assert.equal(redactUrl('az://acct/cont/p?sig=abcdef&sv=2020'), 'az://acct/cont/p?sig=***&sv=2020');
  assert.equal(redactUrl('s3://b/p?secret_key=zz'), 's3://b/p?secret_key=***');
  assert.equal(redactUrl('/plain/path'), '/plain/path');
  assert.equal(redactUrl('C:\\\\backups'), 'C:\\\\backups');
  assert.ok(!redactUrl('sftp://bob:pw@[::1:2/x').includes(':pw@'));
});
