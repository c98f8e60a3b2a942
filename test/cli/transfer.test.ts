/**
 * `rcreate --other-repo` and `transfer --other-repo` between local repositories, through the `cairn` executable:
 * related repositories in other modes, exact restores from the destination, a second transfer that sends exactly the
 * day-2 chunks, idempotence, dry run, checkpoints, and the refusals (unrelated, `none` ↔ keyed, wrong passphrase).
 * The remote backends, kill -9 and faults are in transfer-remote.test.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertSameTree, buildTree, cairn, describeTree, ok, oneLine, PASSPHRASE, startCairn, workspace } from './helpers.js';
import { DST_ENV, DST_PASSPHRASE, type TransferJson, type Usage } from './transfer-helpers.js';

/** A --progress line of transfer: `12 chunks, 24.00 MiB | ...` (chunks copied so far). */
const PROGRESS = /^(\d+) chunks?, /;

test('a related repository of another mode gets every archive, restores exactly, and a second transfer sends exactly the day-2 chunks', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await buildTree(src);
    const srcRepo = join(ws.dir, 'local');
    const dstRepo = join(ws.dir, 'offsite');
    // An authenticated (unencrypted at rest) local repository feeds an encrypted one.
    await ok(['-r', srcRepo, 'rcreate', '--encryption', 'authenticated']);
    await ok(['-r', srcRepo, 'create', 'day1', '.'], { cwd: src });
    const made = JSON.parse(await ok(['-r', dstRepo, '--json', 'rcreate', '--encryption', 'repokey-chacha20-poly1305', '--other-repo', srcRepo], { env: DST_ENV })) as { id: string; relatedTo: string; encryption: string; otherBackend: Usage };
    const srcInfo = JSON.parse(await ok(['-r', srcRepo, '--json', 'rinfo'])) as { id: string; idKeyFingerprint: string };
    const dstInfo = JSON.parse(await ok(['-r', dstRepo, '--json', 'rinfo'], { env: DST_ENV })) as { id: string; idKeyFingerprint: string };
    assert.equal(made.relatedTo, srcInfo.id);
    assert.equal(dstInfo.idKeyFingerprint, srcInfo.idKeyFingerprint, 'related: the same id key');
    assert.notEqual(dstInfo.id, srcInfo.id);
    assert.equal(made.encryption, 'repokey-chacha20-poly1305');
    assert.ok(made.otherBackend.requests.get > 0);

    const first = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV })) as TransferJson;
    assert.equal(first.transferred, 1);
    assert.deepEqual(first.archives.map((a) => [a.name, a.status]), [['day1', 'transferred']]);
    // Each chunk crossed once: as many chunks were read from the source as were written here.
    assert.ok(first.otherBackend.bytesDown >= first.stored && first.backend.bytesUp >= first.stored);

    const target = join(ws.dir, 'restore1');
    await mkdir(target);
    await ok(['-r', dstRepo, 'extract', 'day1'], { cwd: target, env: DST_ENV });
    assertSameTree(await describeTree(target), await describeTree(src));

    // Day 2: a new file and a changed one; the second transfer copies exactly the chunks the day-2 backup added.
    await writeFile(join(src, 'day2.bin'), randomBytes(5 * 1024 * 1024 + 3));
    await writeFile(join(src, 'text.txt'), 'changed on day 2\n'.repeat(500));
    const day2 = JSON.parse(await ok(['-r', srcRepo, '--json', 'create', 'day2', '.'], { cwd: src })) as { stats: { chunks: number; deduplicated: number; compressed: number } };
    const second = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV })) as TransferJson;
    assert.deepEqual(second.archives.map((a) => [a.name, a.status]).sort(), [['day1', 'present'], ['day2', 'transferred']]);
    assert.equal(second.chunks, day2.stats.chunks, 'the chunks the day-2 backup added, no more');
    assert.equal(second.bytes, day2.stats.deduplicated);
    // Same plaintext, same compression (lz4): the stored sizes differ only by the envelopes, 1 byte per chunk in
    // mode authenticated (suite byte) and 53 in chacha20-poly1305 (suite, session id, nonce, tag).
    assert.equal(second.stored, day2.stats.compressed + 52 * day2.stats.chunks);
    // Bytes up: the stored chunks plus per-chunk entry headers (49 B), the COMMIT entry, the index delta (~44 B per chunk),
    // the record, the journal entry and the lock (each under 2 KiB): 64 KiB covers them with room to spare.
    assert.ok(second.backend.bytesUp >= second.stored, `${second.backend.bytesUp} < ${second.stored}`);
    assert.ok(second.backend.bytesUp <= second.stored + 64 * 1024, `bytesUp ${second.backend.bytesUp} vs stored ${second.stored}`);

    const target2 = join(ws.dir, 'restore2');
    await mkdir(target2);
    await ok(['-r', dstRepo, 'extract', 'day2'], { cwd: target2, env: DST_ENV });
    assertSameTree(await describeTree(target2), await describeTree(src));
    await ok(['-r', dstRepo, 'check', '--verify-data'], { env: DST_ENV });

    // Idempotent: a third run copies nothing and writes no object but its lock.
    const third = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV })) as TransferJson;
    assert.equal(third.transferred, 0);
    assert.equal(third.chunks, 0);
    assert.equal(third.backend.requests.put, 1, 'only the lock');
  } finally {
    await ws.cleanup();
  }
});

test('transfer -a GLOB and --dry-run: the dry run counts what the real run then copies and writes nothing', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), randomBytes(3 * 1024 * 1024));
    const srcRepo = join(ws.dir, 'local');
    const dstRepo = join(ws.dir, 'offsite');
    await ok(['-r', srcRepo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', srcRepo, 'create', 'web-1', '.'], { cwd: src });
    await writeFile(join(src, 'b.bin'), randomBytes(1024 * 1024));
    await ok(['-r', srcRepo, 'create', 'db-1', '.'], { cwd: src });
    await ok(['-r', dstRepo, 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo], { env: DST_ENV });

    const dry = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo, '-a', 'web-*', '--dry-run'], { env: DST_ENV })) as TransferJson;
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.archives.map((a) => [a.name, a.status]), [['web-1', 'transferred']]);
    assert.equal(dry.backend.requests.put, 0, 'a dry run writes nothing, not even a lock');
    assert.equal((JSON.parse(await ok(['-r', dstRepo, '--json', 'rlist'], { env: DST_ENV })) as { archives: unknown[] }).archives.length, 0);

    const real = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo, '-a', 'web-*'], { env: DST_ENV })) as TransferJson;
    assert.equal(real.chunks, dry.chunks);
    assert.equal(real.bytes, dry.bytes);
    const names = (JSON.parse(await ok(['-r', dstRepo, '--json', 'rlist'], { env: DST_ENV })) as { archives: { name: string }[] }).archives.map((a) => a.name);
    assert.deepEqual(names, ['web-1']);
    // db-1 shares a.bin's chunks with web-1: only b.bin and the item stream are left to send.
    const rest = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV })) as TransferJson;
    assert.deepEqual(rest.archives.map((a) => [a.name, a.status]).sort(), [['db-1', 'transferred'], ['web-1', 'present']]);
    assert.ok(rest.present > 0);
    assert.ok(rest.bytes < 1024 * 1024 + 64 * 1024, `sent ${rest.bytes} bytes of plaintext`);
  } finally {
    await ws.cleanup();
  }
});

test('refusals: unrelated repositories (exit 2, says how to make a related one), none ↔ keyed, a wrong other passphrase, a name taken by another archive (warning)', async () => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'f'), 'data\n');
    const srcRepo = join(ws.dir, 'local');
    await ok(['-r', srcRepo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', srcRepo, 'create', 'a', '.'], { cwd: src });

    const unrelated = join(ws.dir, 'unrelated');
    await ok(['-r', unrelated, 'rcreate', '--encryption', 'repokey'], { env: DST_ENV });
    const fingerprint = async (repo: string, env?: NodeJS.ProcessEnv) => (JSON.parse(await ok(['-r', repo, '--json', 'rinfo'], { env })) as { idKeyFingerprint: string }).idKeyFingerprint;
    assert.notEqual(await fingerprint(unrelated, DST_ENV), await fingerprint(srcRepo));
    const r = await cairn(['-r', unrelated, 'transfer', '--other-repo', srcRepo], { env: DST_ENV });
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /rcreate --other-repo/);
    const rj = await cairn(['-r', unrelated, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV });
    assert.equal((JSON.parse(rj.stderr) as { error: { code: string } }).error.code, 'EUNRELATED_REPOSITORY');

    const same = await cairn(['-r', srcRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: { CAIRN_OTHER_PASSPHRASE: PASSPHRASE } });
    assert.equal(same.code, 2);
    assert.equal((JSON.parse(same.stderr) as { error: { code: string } }).error.code, 'ESAME_REPOSITORY');

    // A `none` repository has no id key to share, and a keyed one must not take unkeyed ids: refused, nothing created.
    const none = join(ws.dir, 'none');
    const n = await cairn(['-r', none, '--json', 'rcreate', '--encryption', 'none', '--other-repo', srcRepo], { env: DST_ENV });
    assert.equal(n.code, 2);
    assert.equal((JSON.parse(n.stderr) as { error: { code: string } }).error.code, 'EINVALID_OPTION');
    assert.equal((await cairn(['-r', none, 'rinfo'])).code, 2, 'no repository was left behind');

    const wrong = await cairn(['-r', join(ws.dir, 'w'), '--json', 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo], { env: { CAIRN_PASSPHRASE: DST_PASSPHRASE, CAIRN_OTHER_PASSPHRASE: 'not it' } });
    assert.equal(wrong.code, 2);
    assert.equal((JSON.parse(wrong.stderr) as { error: { code: string } }).error.code, 'EWRONG_PASSPHRASE');
    const missing = await cairn(['-r', join(ws.dir, 'w'), 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo], { env: { CAIRN_PASSPHRASE: DST_PASSPHRASE } });
    assert.equal(missing.code, 2);
    assert.match(oneLine(missing.stderr), /CAIRN_OTHER_PASSPHRASE/);

    // The destination already has another archive called "a": skipped with a warning (exit 1), not overwritten.
    const dst = join(ws.dir, 'offsite');
    await ok(['-r', dst, 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo], { env: DST_ENV });
    await writeFile(join(src, 'g'), 'other data\n');
    await ok(['-r', dst, 'create', 'a', '.'], { cwd: src, env: DST_ENV });
    const taken = await cairn(['-r', dst, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV });
    assert.equal(taken.code, 1, taken.stderr);
    assert.deepEqual((JSON.parse(taken.stdout) as TransferJson).archives.map((a) => [a.name, a.status]), [['a', 'name-taken']]);
  } finally {
    await ws.cleanup();
  }
});

test('checkpoint archives are skipped unless --include-checkpoints', async () => {
  const ws = await workspace();
  try {
    const srcRepo = join(ws.dir, 'local');
    const dstRepo = join(ws.dir, 'offsite');
    await ok(['-r', srcRepo, 'rcreate', '--encryption', 'repokey']);
    // A backup of standard input stopped by SIGINT keeps what it stored as db.checkpoint.
    const child = startCairn(['-r', srcRepo, 'create', 'db', '-'], { stdin: 'pipe' });
    child.stdout!.resume();
    child.stderr!.resume();
    const data = randomBytes(48 << 20);
    for (let at = 0; at < data.length; at += 1 << 20) if (!child.stdin!.write(data.subarray(at, at + (1 << 20)))) await once(child.stdin!, 'drain');
    child.kill('SIGINT');
    await once(child, 'close');
    await ok(['-r', dstRepo, 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo], { env: DST_ENV });
    const skipped = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV })) as TransferJson;
    assert.deepEqual(skipped.archives.map((a) => [a.name, a.status]), [['db.checkpoint', 'checkpoint']]);
    assert.equal(skipped.chunks, 0);
    const copied = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo, '--include-checkpoints'], { env: DST_ENV })) as TransferJson;
    assert.deepEqual(copied.archives.map((a) => [a.name, a.status]), [['db.checkpoint', 'transferred']]);
    const listed = JSON.parse(await ok(['-r', dstRepo, '--json', 'rlist'], { env: DST_ENV })) as { archives: { name: string; checkpoint: boolean }[] };
    assert.deepEqual(listed.archives.map((a) => [a.name, a.checkpoint]), [['db.checkpoint', true]]);
  } finally {
    await ws.cleanup();
  }
});

test('SIGINT during a transfer: what was copied is committed, exit 130 with one line, no archive yet; the rerun sends exactly the rest', async () => {
  const ws = await workspace();
  try {
    const srcRepo = join(ws.dir, 'local');
    const dstRepo = join(ws.dir, 'offsite');
    const tree = join(ws.dir, 'tree');
    await mkdir(tree);
    for (let i = 0; i < 4; i++) await writeFile(join(tree, `f${i}.bin`), randomBytes(16 * 1024 * 1024));
    await ok(['-r', srcRepo, 'rcreate', '--encryption', 'repokey']);
    await ok(['-r', srcRepo, 'create', 'big', '.'], { cwd: tree });
    await ok(['-r', dstRepo, 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo], { env: DST_ENV });
    const total = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo, '--dry-run'], { env: DST_ENV })) as TransferJson;
    const deltas = async () => (await readdir(join(dstRepo, 'index')).catch(() => [] as string[])).length;

    // Reading slowed to 2 MiB/s, so commits (every 24 MiB) come seconds apart. The signal goes once the destination
    // holds chunks put and not committed: more chunks shown copied (--progress) than its committed index has (rinfo),
    // with no commit in between. Not a fixed time after the first commit: the copier takes chunks in order and the
    // rate limit admits the batches in the order their reads finished, so chunks come in bursts seconds apart; a
    // commit made by the last chunk of a burst once left nothing put 2.5 s later, and so nothing for the stop to commit.
    const child = startCairn(['-r', dstRepo, '--limit-download', '2MiB', '--progress', 'transfer', '--other-repo', srcRepo], { env: { ...DST_ENV, CAIRN_PROGRESS_FPS: '20' } });
    let stderr = '';
    let partial = '';
    let shown = 0;
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = PROGRESS.exec(line);
        if (m) shown = Number(m[1]);
      }
    });
    child.stdout!.resume();
    const closed = once(child, 'close') as Promise<[number | null]>;
    const running = () => child.exitCode === null;
    for (let i = 0; i < 1200 && (await deltas()) === 0 && running(); i++) await sleep(50);
    let atSignal: { deltas: number; committed: number; shown: number } | undefined;
    while (!atSignal && running()) {
      const d = await deltas();
      const committed = (JSON.parse(await ok(['-r', dstRepo, '--json', 'rinfo'], { env: DST_ENV })) as { chunks: number }).chunks;
      while (shown <= committed && (await deltas()) === d && running()) await sleep(50);
      const seen = shown;
      if (seen > committed && (await deltas()) === d) atSignal = { deltas: d, committed, shown: seen };
    }
    assert.ok(atSignal && running(), 'still running');
    child.kill('SIGINT');
    const [code] = await closed;
    assert.equal(code, 130, stderr);
    oneLine(stderr.split('\n').filter((line) => !PROGRESS.test(line)).join('\n'));
    assert.ok((await deltas()) > atSignal.deltas, 'what was copied since the last commit was committed on the way out');
    const before = JSON.parse(await ok(['-r', dstRepo, '--json', 'rinfo'], { env: DST_ENV })) as { chunks: number; archives: number };
    assert.ok(before.chunks >= atSignal.shown, `every chunk copied before the signal is committed: ${before.chunks} < ${atSignal.shown}`);
    assert.equal(before.archives, 0);
    const rerun = JSON.parse(await ok(['-r', dstRepo, '--json', 'transfer', '--other-repo', srcRepo], { env: DST_ENV })) as TransferJson;
    assert.equal(rerun.transferred, 1);
    assert.equal(rerun.chunks, total.chunks - before.chunks);
    const target = join(ws.dir, 'restore');
    await mkdir(target);
    await ok(['-r', dstRepo, 'extract', 'big'], { cwd: target, env: DST_ENV });
    assertSameTree(await describeTree(target), await describeTree(tree));
  } finally {
    await ws.cleanup();
  }
});
