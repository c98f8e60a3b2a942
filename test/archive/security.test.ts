// The local security state and the archive journal against a bucket writer without the key (issue 9, F2, F3, 3b):
// planted keys, swapped keys and configs, a keyfile key in the repository, unknown unencrypted repositories,
// archive records deleted or put back, journals rolled back; key import of another repository's key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  auditArchiveSet, createArchive, createKey, deleteArchives, importRepositoryKey, initRepository, keyFilePath, openBackend,
  listArchives, openRepository, readArchive, recordName, Repository, type OpenRepositoryOptions,
} from '../../src/index.js';

const kdf = { memoryKiB: 64, iterations: 1, parallelism: 1 };
const code = (expected: string) => (e: unknown): boolean => {
  assert.equal((e as { code?: string }).code, expected, String(e));
  assert.ok(!(e as Error).message.includes('\n'), 'one line');
  return true;
};

async function setup(encryption = 'repokey-aes-ocb') {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-security-'));
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') };
  delete env.CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK;
  delete env.CAIRN_SECURITY_DIR;
  const url = join(dir, 'repo');
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'secret.txt'), 'TOPSECRET\n');
  const repo = await initRepository(await openBackend(url), { encryption, passphrase: 'pw', kdf, workers: 0, env });
  const id = repo.repository.config.id;
  await repo.close();
  const open = async (options: Partial<OpenRepositoryOptions> = {}) => openRepository(await openBackend(url), { passphrase: 'pw', workers: 0, env, ...options });
  const newMachine = { securityDir: join(dir, 'other-machine') };
  return { dir, env, url, src, id, open, newMachine, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function noneBlobOf(dir: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const other = await initRepository(await openBackend(join(dir, 'none-repo')), { encryption: 'none', passphrase: '', workers: 0, env });
  const blob = (await other.repository.getKeyBlob())!;
  await other.close();
  return blob;
}

test('a planted none key (and a deleted settings record) is refused, on this machine and on a new one', async () => {
  const t = await setup();
  try {
    const planted = await noneBlobOf(t.dir, t.env);
    await writeFile(join(t.url, 'keys', 'repokey'), planted);
    await rm(join(t.url, 'records', 'settings'));
    await assert.rejects(t.open(), code('ESECURITY_MODE_CHANGED'));
    await assert.rejects(t.open(t.newMachine), code('ESECURITY_UNKNOWN_UNENCRYPTED'));
    // Even with the opt-in, a key of another repository does not open this one.
    await assert.rejects(t.open({ ...t.newMachine, allowUnknownUnencrypted: true }), code('ESECURITY_WRONG_REPOSITORY'));
    // A none key forged for this very id still changes the known mode.
    const forged = await createKey('none', '', { repositoryId: t.id });
    await writeFile(join(t.url, 'keys', 'repokey'), forged.blob);
    await assert.rejects(t.open(), code('ESECURITY_MODE_CHANGED'));
  } finally {
    await t.cleanup();
  }
});

test('records/settings is mandatory', async () => {
  const t = await setup();
  try {
    await rm(join(t.url, 'records', 'settings'));
    await assert.rejects(t.open(), code('EARCHIVE_CORRUPT'));
  } finally {
    await t.cleanup();
  }
});

test('another key with the same mode and the right repository id is refused once the key is known', async () => {
  const t = await setup();
  try {
    const other = await createKey('repokey-aes-ocb', 'pw', { kdf, repositoryId: t.id });
    await writeFile(join(t.url, 'keys', 'repokey'), other.blob);
    await assert.rejects(t.open(), code('ESECURITY_KEY_CHANGED'));
  } finally {
    await t.cleanup();
  }
});

test('a config whose id was changed does not open with the key (the id is sealed in the key)', async () => {
  const t = await setup();
  try {
    const configPath = join(t.url, 'config');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { id: string };
    config.id = 'ab'.repeat(32);
    await writeFile(configPath, JSON.stringify(config));
    await assert.rejects(t.open(), code('ESECURITY_WRONG_REPOSITORY'));
    await assert.rejects(t.open(t.newMachine), code('ESECURITY_WRONG_REPOSITORY'));
  } finally {
    await t.cleanup();
  }
});

test('keyfile repositories never read keys/repokey, and a keyfile key in the repository is refused', async () => {
  const t = await setup('keyfile-chacha20-poly1305');
  try {
    const planted = await noneBlobOf(t.dir, t.env);
    await mkdir(join(t.url, 'keys'), { recursive: true });
    await writeFile(join(t.url, 'keys', 'repokey'), planted);
    const opened = await t.open();
    assert.equal(opened.key.mode, 'keyfile-chacha20-poly1305', 'the local key file wins over the planted blob');
    await opened.close();
    // A new machine without the key file: the planted none blob is unknown and unencrypted.
    const elsewhere = { ...t.env, XDG_CONFIG_HOME: join(t.dir, 'elsewhere') };
    await assert.rejects(t.open({ env: elsewhere }), code('ESECURITY_UNKNOWN_UNENCRYPTED'));
    // The real key file copied into the bucket is refused: a keyfile key is never read from the repository.
    await writeFile(join(t.url, 'keys', 'repokey'), await readFile(keyFilePath(t.id, t.env)));
    await assert.rejects(t.open({ env: elsewhere }), code('ESECURITY_KEY_PLACEMENT'));
    // A known keyfile repository whose key file is gone: the repository's blob is not a fallback.
    await rm(keyFilePath(t.id, t.env));
    await assert.rejects(t.open(), code('EKEY_MISSING'));
  } finally {
    await t.cleanup();
  }
});

test('an unknown unencrypted repository needs the opt-in; its creator knows it', async () => {
  for (const encryption of ['none', 'authenticated']) {
    const t = await setup(encryption);
    try {
      await (await t.open()).close();
      await assert.rejects(t.open(t.newMachine), code('ESECURITY_UNKNOWN_UNENCRYPTED'));
      await (await t.open({ ...t.newMachine, env: { ...t.env, CAIRN_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes' } })).close();
      // Known from now on: no opt-in needed.
      await (await t.open(t.newMachine)).close();
    } finally {
      await t.cleanup();
    }
  }
});

test('an archive record deleted without the key is reported; one deleted with the key is not', async () => {
  const t = await setup();
  try {
    const repo = await t.open();
    for (const name of ['a1', 'a2', 'a3']) await createArchive(repo, { name, paths: [t.src], cacheDir: join(t.dir, 'cache') });
    await deleteArchives(repo, { names: ['a2'] });
    assert.deepEqual((await auditArchiveSet(repo)).findings, []);
    await repo.close();
    await rm(join(t.url, 'records', recordName('a1')));
    const again = await t.open();
    try {
      const audit = await auditArchiveSet(again);
      assert.deepEqual(audit.findings.map((f) => [f.kind, f.archive]), [['vanished', 'a1']]);
      assert.equal(audit.journals, 4);
    } finally {
      await again.close();
    }
  } finally {
    await t.cleanup();
  }
});

test('a deleted archive put back (or an interrupted delete) is reported as undeleted; put back over a newer one of its name, as replaced', async () => {
  const t = await setup();
  try {
    const repo = await t.open();
    await createArchive(repo, { name: 'a', paths: [t.src], cacheDir: join(t.dir, 'cache') });
    const old = await readFile(join(t.url, 'records', recordName('a')));
    await deleteArchives(repo, { names: ['a'] });
    await writeFile(join(t.url, 'records', recordName('a')), old);
    assert.deepEqual((await auditArchiveSet(repo)).findings.map((f) => [f.kind, f.archive]), [['undeleted', 'a']]);
    await rm(join(t.url, 'records', recordName('a')));
    await createArchive(repo, { name: 'a', paths: [t.src], cacheDir: join(t.dir, 'cache') });
    assert.deepEqual((await auditArchiveSet(repo)).findings, []);
    // The old record over the live `a` (the damage campaign's "older version" of a record): the live archive is
    // hidden, a tamper finding that check reports as a problem and repair leaves to the user, not an undeleted one
    // whose repair would delete the record and so lose the live archive.
    await writeFile(join(t.url, 'records', recordName('a')), old);
    assert.deepEqual((await auditArchiveSet(repo)).findings.map((f) => [f.kind, f.archive]), [['replaced', 'a']]);
    // Read by name, the replaced record is refused: in this session, and in a new one on a new machine.
    await assert.rejects(readArchive(repo, 'a'), code('ESECURITY_REPLACED'));
    await repo.close();
    const elsewhere = await t.open(t.newMachine);
    await assert.rejects(readArchive(elsewhere, 'a'), code('ESECURITY_REPLACED'));
    assert.deepEqual((await listArchives(elsewhere, { onUnreadable: () => undefined })).map((r) => r.name), []);
    await elsewhere.close();
  } finally {
    await t.cleanup();
  }
});

test('the first record read uses the journal listing of the open: no LIST of its own', async () => {
  const t = await setup();
  try {
    const repo = await t.open();
    await createArchive(repo, { name: 'a1', paths: [t.src], cacheDir: join(t.dir, 'cache') });
    await repo.close();
    const backend = await openBackend(t.url);
    const listed: string[] = [];
    const list = backend.list.bind(backend);
    backend.list = (prefix, ...rest) => { listed.push(prefix); return list(prefix, ...rest); };
    const again = await openRepository(backend, { passphrase: 'pw', workers: 0, env: t.env });
    try {
      const atOpen = listed.splice(0);
      assert.ok(atOpen.some((p) => p.startsWith('records/')), `the open lists the journal (${atOpen.join(', ')})`);
      assert.equal((await readArchive(again, 'a1')).name, 'a1');
      assert.deepEqual(listed, []);
    } finally {
      await again.close();
    }
  } finally {
    await t.cleanup();
  }
});

test('journal records this machine saw and that are gone: refused, reported, or accepted', async () => {
  const t = await setup();
  try {
    const repo = await t.open();
    await createArchive(repo, { name: 'a1', paths: [t.src], cacheDir: join(t.dir, 'cache') });
    await createArchive(repo, { name: 'a2', paths: [t.src], cacheDir: join(t.dir, 'cache') });
    await repo.close();
    // The bucket goes back to before a2: its record and its journal entry disappear.
    const backend = await openBackend(t.url);
    const journals: string[] = [];
    for await (const { key } of backend.list('records/journal-')) journals.push(key);
    assert.equal(journals.length, 2);
    const last = journals.sort().find((k) => k.endsWith('-00000001'))!;
    await backend.delete(last);
    await backend.delete(`records/${recordName('a2')}`);
    await assert.rejects(t.open(), code('ESECURITY_ROLLBACK'));
    const reported = await t.open({ rollback: 'report' });
    assert.deepEqual(reported.security.rolledBack, [last.slice('records/'.length)]);
    await reported.close();
    await assert.rejects(t.open(), code('ESECURITY_ROLLBACK'), 'report does not accept');
    await (await t.open({ rollback: 'accept' })).close();
    await (await t.open()).close();
    // A new machine cannot know: that is the limit of trust on first use.
    await (await t.open(t.newMachine)).close();
  } finally {
    await t.cleanup();
  }
});

test('key import: only this repository\'s key; keyfile keys go to the key file; the previous key is kept', async () => {
  const t = await setup();
  const k = await setup('keyfile-aes-ocb');
  try {
    const mine = await readFile(join(t.url, 'keys', 'repokey'));
    const foreign = await createKey('repokey-aes-ocb', 'pw', { kdf, repositoryId: k.id });
    const backend = await openBackend(t.url);
    const repository = await Repository.open(backend, { exclusive: true });
    try {
      await assert.rejects(importRepositoryKey(repository, foreign.blob, 'pw', { env: t.env }), code('ESECURITY_WRONG_REPOSITORY'));
      assert.deepEqual(await readFile(join(t.url, 'keys', 'repokey')), mine, 'the live key is untouched');
      await importRepositoryKey(repository, mine, 'pw', { env: t.env });
      assert.deepEqual(await readFile(join(t.url, 'keys', 'repokey.prev')), mine);
    } finally {
      await repository.close();
    }
    const keyFile = keyFilePath(k.id, k.env);
    const blob = await readFile(keyFile);
    await rm(keyFile);
    const kRepo = await Repository.open(await openBackend(k.url), { exclusive: true });
    try {
      const where = await importRepositoryKey(kRepo, blob, 'pw', { env: k.env });
      assert.equal(where.path, keyFile);
      assert.equal(await kRepo.getKeyBlob(), undefined, 'never uploaded');
      assert.deepEqual(await readFile(keyFile), blob);
    } finally {
      await kRepo.close();
    }
    await (await k.open()).close();
  } finally {
    await t.cleanup();
    await k.cleanup();
  }
});
