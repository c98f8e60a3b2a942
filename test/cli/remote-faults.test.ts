/**
 * The cloud path as users run it: the real `cairn` executable against each remote backend's local
 * server (sftp, s3, gcs, azure) through a fault-injecting proxy of the test harness
 * (test/helpers/fault-proxy.ts).
 *
 * - Under ~10 % injected faults (busy answers with and without Retry-After, resets of the request
 *   and mid-response, stalls cut by the request timeout) every command of a full cycle succeeds
 *   (rcreate, create ×2, list, extract, check --verify-data, prune, compact), the restore is byte-
 *   and metadata-exact, and the `backend.requests` each command reports in --json equal the
 *   requests the proxy received, by kind. For SFTP (encrypted, so the TCP proxy sees no requests)
 *   the comparable figures are bytes: the SSH stream carries at least the object bytes cairn
 *   reports, and not more than twice them plus a fixed allowance for the protocol.
 * - With the proxy failing 100 %, a command ends within its (short) retry budget with a one-line
 *   error and exit 2, and the repository is unchanged.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBackend } from '../../backends/index.js';
import { startRemoteRepo, type RemoteRepo } from '../helpers/remote-repo.js';
import { assertSameTree, buildTree, cairn, describeTree, oneLine, workspace } from './helpers.js';

interface Usage { requests: Record<'get' | 'put' | 'list' | 'head' | 'delete', number>; retries: number; bytesUp: number; bytesDown: number }

/** The `backend` object of a --json output: the result's, or the last line's for streaming commands. */
function usageOf(stdout: string): Usage {
  const lines = stdout.trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const doc = JSON.parse(lines[i] as string) as { backend?: Usage };
    if (doc.backend) return doc.backend;
  }
  throw new Error(`no "backend" object in --json output: ${stdout.slice(-300)}`);
}

/**
 * stderr without the AWS SDK's own multi-line notice that its 2027 releases need Node >= 22
 * (printed by the SDK on Node 20 whatever cairn does; reported, not cairn's error line).
 */
function withoutSdkNotice(stderr: string): string {
  return stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning: The AWS SDK for JavaScript[\s\S]*?\(Use `node --trace-warnings[^\n]*\n/, '');
}

/** Faults per HTTP request: ~10 % in all. */
const HTTP_FAULTS = { busy: 0.05, resetRequest: 0.02, resetResponse: 0.02, stall: 0.01 };
/** SFTP runs on one or two long connections: a reset or stall per connection, so most commands meet one. */
const TCP_FAULTS = { resetResponse: 0.35, stall: 0.1 };
/** Short request timeout, so a stall costs seconds; retries keep the default 15 min budget. */
const LIMITS = ['--timeout', '2s'];

/** Every object of the store (key, size), read directly from the server. */
async function snapshot(r: RemoteRepo): Promise<string[]> {
  const b = await openBackend(r.directUrl, { env: { ...process.env, ...r.directEnv } });
  try {
    const out: string[] = [];
    for await (const entry of b.list('')) out.push(`${entry.key} ${entry.size}`);
    return out.sort();
  } finally {
    await b.close();
  }
}

/** A command that has not ended after this long is killed and fails the test (a hang, not slowness). */
const COMMAND_LIMIT_MS = 180_000;
/** `cairn` killed after COMMAND_LIMIT_MS ms: a hang fails the test. */
const bounded = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }) => cairn(args, { ...options, limitMs: COMMAND_LIMIT_MS });

for (const [name, seed] of [['sftp', 101], ['s3', 202], ['gcs', 303], ['azure', 404]] as const) {
  test(`${name}: a full cycle through ~10 % injected faults succeeds, restores exactly, and reports the requests the proxy saw; at 100 % failure a command fails cleanly`, async (t) => {
    const remote = await startRemoteRepo(name, `e2e-${seed}`, { seed });
    if (remote instanceof Error) return t.skip(remote.message.split('\n')[0]);
    const ws = await workspace();
    const { proxy } = remote;
    const run = async (args: string[], cwd?: string) => {
      proxy.resetCounts();
      const t0 = Date.now();
      const r = await bounded(['-r', remote.url, '--json', ...LIMITS, ...args], { cwd, env: remote.env });
      if (process.env.CAIRN_E2E_TRACE) process.stderr.write(`${name} ${args[0]}: exit ${r.code} in ${Date.now() - t0} ms, ${JSON.stringify(proxy.counts)}\n`);
      assert.equal(r.code, 0, `cairn ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      const usage = usageOf(r.stdout);
      checkCounts(args[0] as string, usage);
      return r.stdout;
    };
    const injected = { http: 0, tcp: 0 };
    const checkCounts = (command: string, usage: Usage) => {
      const c = proxy.counts;
      if ('byKind' in c) {
        injected.http += Object.values(c.injected).reduce((a, b) => a + b, 0);
        const { other, bucket, ...byKind } = c.byKind;
        assert.equal(other, 0, `${command}: every request has a kind`);
        // cairn counts a request by the call it served (docs/backends.md); the proxy puts requests
        // about the bucket or container itself apart: those may stand in any of cairn's kinds.
        const extra = (Object.keys(byKind) as (keyof typeof byKind)[]).map((k) => usage.requests[k] - byKind[k]);
        assert.ok(extra.every((d) => d >= 0) && extra.reduce((a, b) => a + b, 0) === bucket,
          `${command}: cairn's request counts ${JSON.stringify(usage.requests)} equal the proxy's ${JSON.stringify(c.byKind)}`);
      } else {
        injected.tcp += c.injected.reset + c.injected.stall;
        assert.ok(c.bytesUp >= usage.bytesUp && c.bytesDown >= usage.bytesDown, `${command}: SSH carried at least the object bytes (${JSON.stringify(c)} vs ${JSON.stringify(usage)})`);
        assert.ok(c.bytesUp <= 2 * usage.bytesUp + 512 * 1024 * (1 + c.connections), `${command}: SSH upload ${c.bytesUp} B for ${usage.bytesUp} B of objects`);
      }
    };
    try {
      const src = join(ws.dir, 'src');
      await buildTree(src);
      remote.setFaults(name === 'sftp' ? TCP_FAULTS : HTTP_FAULTS);

      await run(['rcreate', '--encryption', 'repokey']);
      await run(['create', 'day1', '.'], src);
      await appendFile(join(src, 'text.txt'), 'day two\n');
      await mkdir(join(src, 'new'), { recursive: true });
      await writeFile(join(src, 'new', 'file.bin'), Buffer.alloc(300_000, 7));
      await run(['create', 'day2', '.'], src);
      const listed = (await run(['list', 'day2', '--json-lines'])).trim().split('\n').filter((l) => !l.includes('"backend"'));
      assert.equal(listed.length, (await describeTree(src)).size);
      const target = join(ws.dir, 'restore');
      await mkdir(target);
      await run(['extract', 'day2'], target);
      assertSameTree(await describeTree(target), await describeTree(src));
      const checked = JSON.parse((await run(['check', '--verify-data'])).trim().split('\n').pop() as string) as { ok?: boolean; errors?: unknown[] };
      assert.notEqual(checked.ok, false, 'check finds no damage');
      await run(['prune', '--keep-last', '1']);
      await run(['compact']);
      t.diagnostic(`${name}: ${injected.http + injected.tcp} faults injected over the cycle`);
      // SFTP draws one fault per connection (about one per command), HTTP one per request.
      assert.ok(injected.http + injected.tcp >= (name === 'sftp' ? 2 : 3), `the cycle met faults (${JSON.stringify(injected)})`);

      // 100 % failure: the command gives up within its retry budget, in one line, exit 2, and
      // nothing in the store changed.
      remote.setFaults({});
      const before = await snapshot(remote);
      remote.failAll(true);
      const started = Date.now();
      const failed = await bounded(['-r', remote.url, '--retry-budget', '3s', '--timeout', '2s', 'create', 'day3', '.'], { cwd: src, env: remote.env });
      const elapsed = Date.now() - started;
      assert.equal(failed.code, 2, failed.stderr);
      // The retry line that opened the streak (docs/cli.md, "Retries you can see"), then the one-line error.
      const lines = withoutSdkNotice(failed.stderr).split('\n').filter(Boolean);
      assert.match(lines[0] as string, /^cairn: .*; retrying for up to [0-3]s$/, failed.stderr);
      oneLine(lines.slice(1).join('\n'));
      assert.ok(elapsed < 3_000 + 2 * 2_000 + 15_000, `gave up after ${elapsed} ms (budget 3 s, timeout 2 s, start-up)`);
      remote.failAll(false);
      assert.deepEqual(await snapshot(remote), before, 'the repository is unchanged');
    } finally {
      await remote.close();
      await ws.cleanup();
    }
  });
}
