/**
 * Stalled connections, through the real `cairn` executable and the harness's fault proxies
 * (test/helpers/fault-proxy.ts):
 *
 * - s3, gcs, azure: the answer to a whole-object GET sends its headers and half its body, then
 *   nothing. The try is cut once no byte has arrived for --timeout (not after the 32 MiB a whole
 *   GET used to be assumed to move, 512 s at the default --min-throughput), the retry succeeds,
 *   the restore is exact, and stderr says so in two lines: the failure with how long retries may
 *   go on, then the recovery (docs/cli.md, "Retries").
 * - sftp: the SSH connection stops relaying mid-transfer. The timed-out request cannot be
 *   cancelled inside SSH, so the connection is torn down and the retry runs on a new one, instead
 *   of every later try waiting on the wedged one until SSH keepalives give up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRemoteRepo, type RemoteName } from '../helpers/remote-repo.js';
import type { HttpFaultProxy, TcpFaultProxy } from '../helpers/fault-proxy.js';
import { assertSameTree, cairn, describeTree, workspace } from './helpers.js';

/** A command still running after this long is killed: a try that waits for the stall to end. */
const KILL_MS = 60_000;
/** Recovery within a few --timeout (2 s) plus start-up on a loaded machine. */
const RECOVERED_WITHIN_MS = 25_000;

/** `cairn` killed after KILL_MS ms: a hang fails the test. */
const bounded = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }) => cairn(args, { ...options, limitMs: KILL_MS });

/** cairn's own lines on stderr (the AWS SDK's Node-version notice left out). */
function cairnLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('cairn: '));
}

for (const [name, seed] of [['s3', 11], ['gcs', 12], ['azure', 13], ['sftp', 14]] as const satisfies readonly (readonly [RemoteName, number])[]) {
  test(`${name}: a stalled transfer is cut after --timeout, the retry succeeds, and stderr shows the failure and the recovery`, async (t) => {
    const remote = await startRemoteRepo(name, `stall-${seed}`, { seed, stallMs: 10 * 60_000 });
    if (remote instanceof Error) return t.skip(remote.message.split('\n')[0]);
    const ws = await workspace();
    try {
      const src = join(ws.dir, 'src');
      await mkdir(src);
      await writeFile(join(src, 'random.bin'), randomBytes(3 * 1024 * 1024 + 5));
      await writeFile(join(src, 'text.txt'), 'stalled\n'.repeat(500));
      const cairn = (args: string[], cwd?: string) => bounded(['-r', remote.url, '--json', '--timeout', '2s', ...args], { cwd, env: remote.env });
      for (const args of [['rcreate', '--encryption', 'repokey'], ['create', 'day1', '.']]) {
        const r = await cairn(args, src);
        assert.equal(r.code, 0, r.stderr);
      }

      if (name === 'sftp') (remote.proxy as TcpFaultProxy).stallNext(600 * 1024); // mid-way through the 3 MiB
      else (remote.proxy as HttpFaultProxy).injectNext('get', 'stallBody');
      const target = join(ws.dir, 'restore');
      await mkdir(target);
      const r = await cairn(['extract', 'day1'], target);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.elapsed < RECOVERED_WITHIN_MS, `recovered after ${r.elapsed} ms (--timeout 2s)`);
      const injected = 'stallBody' in remote.proxy.counts.injected ? remote.proxy.counts.injected.stallBody : remote.proxy.counts.injected.stall;
      assert.equal(injected, 1, 'the proxy stalled one transfer');
      assertSameTree(await describeTree(target), await describeTree(src));
      const usage = (JSON.parse(r.stdout.trim().split('\n').pop() as string) as { backend: { retries: number } }).backend;
      assert.ok(usage.retries >= 1, `the stalled try was retried (${JSON.stringify(usage)})`);
      const lines = cairnLines(r.stderr);
      assert.equal(lines.length, 2, `one line for the failure, one for the recovery: ${r.stderr}`);
      assert.match(lines[0] as string, /; retrying for up to 1[45]m( \d+s)?$/);
      assert.match(lines[1] as string, /^cairn: the store answers again: recovered after \d+ retr(y|ies) in \d+s$/);
    } finally {
      await remote.close();
      await ws.cleanup();
    }
  });
}
