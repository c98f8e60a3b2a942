/**
 * `transfer --other-repo` across backends, through the `cairn` executable and the local servers (localstack/) behind
 * the harness's fault proxies: local → s3, s3 → azure, sftp → gcs. Each pair: the first transfer restores exactly from
 * the destination; after a day-2 backup the second sends exactly the day-2 chunks (bytes up within a stated allowance);
 * a day-3 transfer under ~10 % injected faults on both sides completes and restores exactly. And kill -9 in the middle
 * of a transfer to S3: the rerun sends exactly the chunks the destination had not committed, and the bytes wasted by
 * the killed run stay under one segment.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openBackend } from '../../backends/index.js';
import { startRemoteRepo, type RemoteName, type RemoteRepo } from '../helpers/remote-repo.js';
import { assertSameTree, buildTree, cairn, describeTree, startCairn, workspace } from './helpers.js';
import { DST_ENV, type TransferJson } from './transfer-helpers.js';

const HTTP_FAULTS = { busy: 0.05, resetRequest: 0.02, resetResponse: 0.02, stall: 0.01 };
const TCP_FAULTS = { resetResponse: 0.35, stall: 0.1 };
const COMMAND_LIMIT_MS = 240_000;

/** `cairn` killed after COMMAND_LIMIT_MS ms: a hang fails the test. */
const bounded = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }) => cairn(args, { ...options, limitMs: COMMAND_LIMIT_MS });

/** A repository location: a local folder, or a remote one behind its proxy. */
interface Side { url: string; env: NodeJS.ProcessEnv; remote?: RemoteRepo }

async function side(name: RemoteName | 'local', root: string, seed: number, dir: string): Promise<Side | Error> {
  if (name === 'local') return { url: join(dir, root), env: {} };
  const remote = await startRemoteRepo(name, root, { seed });
  return remote instanceof Error ? remote : { url: remote.url, env: remote.env, remote };
}

function faults(s: Side, on: boolean): void {
  s.remote?.setFaults(on ? (s.remote.name === 'sftp' ? TCP_FAULTS : HTTP_FAULTS) : {});
}

for (const [from, to, seed] of [['local', 's3', 11], ['s3', 'azure', 22], ['sftp', 'gcs', 33]] as const) {
  test(`${from} → ${to}: exact restore from the destination, day 2 sends exactly its chunks, day 3 under ~10 % faults completes`, async (t) => {
    const ws = await workspace();
    const sides: Side[] = [];
    try {
      for (const [name, root, s] of [[from, 'src', seed], [to, 'dst', seed + 1]] as const) {
        const made = await side(name, `transfer-${seed}-${root}`, s, ws.dir);
        if (made instanceof Error) return t.skip(made.message.split('\n')[0]);
        sides.push(made);
      }
      const [src, dst] = sides as [Side, Side];
      const env = { ...src.env, ...dst.env };
      const run = async (repo: Side, args: string[], options: { cwd?: string; extra?: NodeJS.ProcessEnv } = {}) => {
        const r = await bounded(['-r', repo.url, '--json', '--timeout', '2s', ...args], { cwd: options.cwd, env: { ...env, ...options.extra } });
        assert.equal(r.code, 0, `cairn ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
        return r.stdout;
      };
      const tree = join(ws.dir, 'tree');
      await buildTree(tree);
      await run(src, ['rcreate', '--encryption', 'repokey']);
      await run(src, ['create', 'day1', '.'], { cwd: tree });
      await run(dst, ['rcreate', '--encryption', 'repokey', '--other-repo', src.url], { extra: DST_ENV });
      const first = JSON.parse(await run(dst, ['transfer', '--other-repo', src.url], { extra: DST_ENV })) as TransferJson;
      assert.equal(first.transferred, 1);
      const restore = async (name: string) => {
        const target = join(ws.dir, `restore-${name}`);
        await mkdir(target);
        await run(dst, ['extract', name], { cwd: target, extra: DST_ENV });
        assertSameTree(await describeTree(target), await describeTree(tree));
      };
      await restore('day1');

      await writeFile(join(tree, 'day2.bin'), randomBytes(4 * 1024 * 1024 + 5));
      await writeFile(join(tree, 'text.txt'), 'changed on day 2\n'.repeat(700));
      const day2 = JSON.parse(await run(src, ['create', 'day2', '.'], { cwd: tree })) as { stats: { chunks: number; deduplicated: number; compressed: number } };
      const second = JSON.parse(await run(dst, ['transfer', '--other-repo', src.url], { extra: DST_ENV })) as TransferJson;
      assert.deepEqual(second.archives.map((a) => [a.name, a.status]).sort(), [['day1', 'present'], ['day2', 'transferred']]);
      assert.equal(second.chunks, day2.stats.chunks);
      assert.equal(second.bytes, day2.stats.deduplicated);
      // Both repokey-aes-ocb with lz4: the same sealed size per chunk, so the same total.
      assert.equal(second.stored, day2.stats.compressed);
      // Bytes up = the stored chunks + 49 B entry header each + COMMIT + index delta (~44 B per chunk) + record, journal
      // entry and lock (each under 2 KiB); 64 KiB is a generous bound for a handful of chunks, and far below any resend.
      assert.ok(second.backend.bytesUp >= second.stored && second.backend.bytesUp <= second.stored + 64 * 1024, `bytesUp ${second.backend.bytesUp}, stored ${second.stored}`);
      // The source sent the new chunks (sealed, as stored there) and the day-2 item stream, once.
      assert.ok(second.otherBackend.bytesDown >= day2.stats.compressed);
      await restore('day2');

      // Day 3: four backups (a new file each), so the transfer makes enough requests on both sides to meet faults.
      const day3 = ['day3a', 'day3b', 'day3c', 'day3d'];
      for (const name of day3) {
        await writeFile(join(tree, `${name}.bin`), randomBytes(1024 * 1024));
        await run(src, ['create', name, '.'], { cwd: tree });
      }
      faults(src, true);
      faults(dst, true);
      const third = JSON.parse(await run(dst, ['transfer', '--other-repo', src.url], { extra: DST_ENV })) as TransferJson;
      faults(src, false);
      faults(dst, false);
      assert.deepEqual(third.archives.filter((a) => a.status === 'transferred').map((a) => a.name).sort(), day3);
      const injected = sides.reduce((n, s) => {
        const c = s.remote?.proxy.counts;
        return n + (c ? ('byKind' in c ? Object.values(c.injected).reduce((a, b) => a + b, 0) : c.injected.reset + c.injected.stall) : 0);
      }, 0);
      t.diagnostic(`${from} → ${to}: ${injected} faults injected; retries ${third.backend.retries} here, ${third.otherBackend.retries} there`);
      assert.ok(injected >= 2, `the day-3 transfer met faults (${injected})`);
      await restore('day3d');
      await run(dst, ['check', '--verify-data'], { extra: DST_ENV });
    } finally {
      for (const s of sides) await s.remote?.close();
      await ws.cleanup();
    }
  });
}

test('kill -9 in the middle of a transfer to S3: the rerun sends exactly what was not committed; the killed run wasted under one segment', async (t) => {
  const remote = await startRemoteRepo('s3', 'transfer-kill', { seed: 5 });
  if (remote instanceof Error) return t.skip(remote.message.split('\n')[0]);
  const ws = await workspace();
  try {
    const env = { ...remote.env, ...DST_ENV };
    const srcRepo = join(ws.dir, 'local');
    const tree = join(ws.dir, 'tree');
    await mkdir(tree);
    // 96 MiB of random data: about four commits' worth (a commit every 24 MiB, 3/4 of a 32 MiB segment).
    for (let i = 0; i < 6; i++) await writeFile(join(tree, `f${i}.bin`), randomBytes(16 * 1024 * 1024));
    const must = async (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => {
      const r = await bounded(args, { cwd: options.cwd, env: { ...env, ...options.env } });
      assert.equal(r.code, 0, `cairn ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    };
    await must(['-r', srcRepo, 'rcreate', '--encryption', 'repokey'], { env: { CAIRN_PASSPHRASE: DST_ENV.CAIRN_OTHER_PASSPHRASE } });
    await must(['-r', srcRepo, 'create', 'big', '.'], { cwd: tree, env: { CAIRN_PASSPHRASE: DST_ENV.CAIRN_OTHER_PASSPHRASE } });
    await must(['-r', remote.url, 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo]);
    const total = JSON.parse(await must(['-r', remote.url, '--json', 'transfer', '--other-repo', srcRepo, '--dry-run'])) as TransferJson;

    // The same transfer into a local related repository, uninterrupted: what every chunk costs stored.
    const reference = join(ws.dir, 'reference');
    await must(['-r', reference, 'rcreate', '--encryption', 'repokey', '--other-repo', srcRepo]);
    const full = JSON.parse(await must(['-r', reference, '--json', 'transfer', '--other-repo', srcRepo])) as TransferJson;
    assert.equal(full.chunks, total.chunks);

    // Slowed to 8 MiB/s so the run is still going once its first commit (an index delta) is in the bucket; then SIGKILL.
    const direct = await openBackend(remote.directUrl, { env: { ...process.env, ...remote.directEnv } });
    try {
      remote.proxy.resetCounts();
      const child = startCairn(['-r', remote.url, '--limit-upload', '8MiB', 'transfer', '--other-repo', srcRepo], { env });
      child.stdout!.resume();
      child.stderr!.resume();
      const closed = new Promise<void>((done) => child.on('close', () => done()));
      let committed = false;
      for (let i = 0; i < 1200 && !committed && child.exitCode === null; i++) {
        for await (const entry of direct.list('index/')) { void entry; committed = true; break; }
        if (!committed) await sleep(50);
      }
      assert.ok(committed && child.exitCode === null, 'the transfer committed once and was still running');
      // Into its next transaction: killed once 8 MiB more reached the server, so uploaded but uncommitted data is left behind.
      const sent = remote.proxy.counts.bytesUp;
      for (let i = 0; i < 400 && remote.proxy.counts.bytesUp < sent + 8 * 1024 * 1024 && child.exitCode === null; i++) await sleep(25);
      child.kill('SIGKILL');
      await closed;
    } finally {
      await direct.close();
    }
    const killedUp = remote.proxy.counts.bytesUp;
    const before = JSON.parse(await must(['-r', remote.url, '--json', 'rinfo'])) as { chunks: number; archives: number };
    assert.equal(before.archives, 0, 'no archive is visible before its record');
    assert.ok(before.chunks > 0 && before.chunks < total.chunks, `committed ${before.chunks} of ${total.chunks} chunks`);

    remote.proxy.resetCounts();
    const rerun = JSON.parse(await must(['-r', remote.url, '--json', 'transfer', '--other-repo', srcRepo])) as TransferJson;
    assert.equal(rerun.transferred, 1);
    // Nothing committed is sent again: the rerun copies exactly the chunks the killed run had not committed.
    assert.equal(rerun.chunks, total.chunks - before.chunks);
    // What both runs uploaded beyond the data itself: the killed run's uncommitted transaction (at most one segment,
    // 32 MiB) plus metadata (index deltas, locks, record, journal: well under 1 MiB).
    const wasted = killedUp + rerun.backend.bytesUp - full.stored;
    t.diagnostic(`killed run sent ${killedUp} B, rerun ${rerun.backend.bytesUp} B, all chunks stored ${full.stored} B: ${wasted} B wasted`);
    assert.ok(wasted <= 32 * 1024 * 1024 + 1024 * 1024, `wasted ${wasted} B`);

    const target = join(ws.dir, 'restore');
    await mkdir(target);
    await must(['-r', remote.url, 'extract', 'big'], { cwd: target });
    assertSameTree(await describeTree(target), await describeTree(tree));
    await must(['-r', remote.url, 'check', '--verify-data']);
  } finally {
    await remote.close();
    await ws.cleanup();
  }
});
