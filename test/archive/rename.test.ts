// rename (issue 11): the archive never disappears. An interruption between writing the new record and deleting the old
// one leaves both names, the journal and the local security state see no attack, and running rename again finishes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditArchiveSet, createArchive, initRepository, listArchiveNames, listItems, openBackend, openRepository, pathText, renameArchive, TAMPER_KINDS } from '../../src/index.js';

const kdf = { memoryKiB: 64, iterations: 1, parallelism: 1 };
const code = (expected: string) => (e: unknown): boolean => { assert.equal((e as { code?: string }).code, expected, String(e)); return true; };

async function setup(appendOnly = false) {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-rename-'));
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') };
  delete env.CAIRN_SECURITY_DIR;
  const url = join(dir, 'repo');
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'f.txt'), 'renamed but the same\n');
  const repo = await initRepository(await openBackend(url), { encryption: 'repokey-aes-ocb', passphrase: 'pw', kdf, workers: 0, env, appendOnly });
  for (const name of ['a', 'b']) await createArchive(repo, { name, paths: [src], cacheDir: join(dir, 'cache') });
  await repo.close();
  const open = async () => openRepository(await openBackend(url), { passphrase: 'pw', workers: 0, env });
  return { open, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const paths = async (repo: Awaited<ReturnType<Awaited<ReturnType<typeof setup>>['open']>>, name: string) => {
  const out: string[] = [];
  for await (const item of listItems(repo, name)) out.push(pathText(item.path));
  return out;
};

test('an interrupted rename leaves both names; the journal shows no tampering; rename again finishes it', async () => {
  const t = await setup();
  try {
    let repo = await t.open();
    const before = await paths(repo, 'a');
    const crash = new Error('power cut');
    await assert.rejects(renameArchive(repo, 'a', 'c', { beforeDelete: async () => { throw crash; } }), (e) => e === crash);
    await repo.close();
    // The next open passes the rollback check, and the archive is there under both names.
    repo = await t.open();
    assert.deepEqual(await listArchiveNames(repo), ['a', 'b', 'c']);
    assert.deepEqual(await paths(repo, 'c'), before);
    const audit = await auditArchiveSet(repo);
    assert.deepEqual(audit.findings.filter((f) => TAMPER_KINDS.has(f.kind)), [], JSON.stringify(audit.findings));
    // Running it again is not refused by the new name: the same archive is there, so it finishes.
    await renameArchive(repo, 'a', 'c');
    assert.deepEqual(await listArchiveNames(repo), ['b', 'c']);
    assert.deepEqual((await auditArchiveSet(repo)).findings, []);
    await repo.close();
    repo = await t.open();
    assert.deepEqual(await paths(repo, 'c'), before);
    await repo.close();
  } finally {
    await t.cleanup();
  }
});

test('rename refuses an existing name, a checkpoint name, and a missing archive; nothing changes', async () => {
  const t = await setup();
  try {
    const repo = await t.open();
    await assert.rejects(renameArchive(repo, 'a', 'b'), code('EARCHIVE_EXISTS'));
    await assert.rejects(renameArchive(repo, 'a', 'x.checkpoint'), code('EARCHIVE_NAME'));
    await assert.rejects(renameArchive(repo, 'a', 'x/y'), code('EARCHIVE_NAME'));
    await assert.rejects(renameArchive(repo, 'nope', 'z'), code('EARCHIVE_NOT_FOUND'));
    assert.deepEqual(await listArchiveNames(repo), ['a', 'b']);
    await repo.close();
  } finally {
    await t.cleanup();
  }
});

test('rename is refused in append-only mode (it deletes the old record)', async () => {
  const t = await setup(true);
  try {
    const repo = await t.open();
    await assert.rejects(renameArchive(repo, 'a', 'c'), code('EAPPEND_ONLY'));
    assert.deepEqual(await listArchiveNames(repo), ['a', 'b']);
    await repo.close();
  } finally {
    await t.cleanup();
  }
});
