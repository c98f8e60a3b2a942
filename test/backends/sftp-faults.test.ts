/**
 * SFTP failure behaviour against a real sshd: the shared fault suite (test/conformance/faults.ts:
 * a refused key, a missing root folder, resets and refused connections through the harness's TCP
 * proxy), plus what is SFTP's own: a killed session is reopened, unknown and changed host keys.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSftpBackend } from '../../backends/sftp/index.js';
import { fingerprint } from '../../backends/sftp/known-hosts.js';
import { PermissionError, TransientError, withRetry } from '../../src/store/index.js';
import { faultSuite } from '../conformance/faults.js';
import { tryStartServer } from '../helpers/servers.js';
import { sftpUrl } from './factories/sftp.js';

const server = await tryStartServer('sftp');
const scratch = mkdtempSync(join(tmpdir(), 'cairn-sftp-faults-'));
after(async () => {
  if (!(server instanceof Error)) await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});
const fast = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const bytes = new Uint8Array([1, 2, 3, 4]);

/** PIDs of the sshd session processes (children of the listener), as start.mjs finds them. */
function sessionPids(listener: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === listener) out.push(Number(name));
    } catch { /* ended meanwhile */ }
  }
  return out;
}

if (server instanceof Error) {
  test('sftp faults: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const env = server.env;
  /** known_hosts naming the server's key at `port` (a proxy's port: only the dialled port differs). */
  const knownHostsFor = (port: number) => {
    const file = join(scratch, `known_hosts_${port}`);
    writeFileSync(file, readFileSync(env.SFTP_KNOWN_HOSTS as string, 'utf8').replace(`]:${env.SFTP_PORT} `, `]:${port} `));
    return file;
  };
  faultSuite('sftp', {
    make: (root, via) => createSftpBackend(sftpUrl(via ? { ...env, SFTP_PORT: String(via.port), SFTP_KNOWN_HOSTS: knownHostsFor(via.port) } : env, root)),
    makeWithBadCredentials: async (root) => {
      const key = join(scratch, 'other_key');
      assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
      return { backend: await createSftpBackend(sftpUrl(env, root, { identity: key })), secrets: [readFileSync(key, 'utf8').split('\n')[1] as string] };
    },
    makeMissingRoot: () => createSftpBackend(sftpUrl(env, 'never-created')),
    target: { host: env.SFTP_HOST as string, port: Number(env.SFTP_PORT) },
    proxy: 'tcp',
  });
  test('a dropped connection is reopened: the retry wrapper sees at most a transient error', async () => {
    const b = await createSftpBackend(sftpUrl(env, 'drop'));
    const retries: unknown[] = [];
    const r = withRetry(b, { ...fast, onRetry: ({ error }) => retries.push(error) });
    try {
      await r.create();
      await r.put('k', bytes);
      const sessions = sessionPids(Number(env.SFTP_SSHD_PID));
      assert.ok(sessions.length > 0, 'a session process serves the connection');
      for (const pid of sessions) process.kill(pid, 'SIGKILL');
      assert.deepEqual(new Uint8Array(await r.get('k')), bytes);
      for (const err of retries) assert.ok(err instanceof TransientError, `retried ${String(err)}`);
    } finally {
      await r.destroy();
      await r.close();
    }
  });

  test('unknown host → PermissionError showing the SHA256 fingerprint; accept-unknown-host=1 connects', async () => {
    const empty = join(scratch, 'known_hosts_empty');
    writeFileSync(empty, '');
    const hostKey = Buffer.from(readFileSync(env.SFTP_KNOWN_HOSTS as string, 'utf8').trim().split(/\s+/)[2] as string, 'base64');
    const refused = await createSftpBackend(sftpUrl(env, 'unknown', { 'known-hosts': empty }));
    const accepted = await createSftpBackend(sftpUrl(env, 'unknown', { 'known-hosts': empty, 'accept-unknown-host': '1' }));
    try {
      const err = await refused.stat('k').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PermissionError);
      assert.ok(err.message.includes(fingerprint(hostKey)), 'the fingerprint is shown');
      await accepted.create();
      assert.equal(await accepted.stat('k'), undefined);
    } finally {
      await accepted.destroy();
      await refused.close();
      await accepted.close();
    }
  });

  test('a changed host key is refused even with accept-unknown-host=1', async () => {
    const other = join(scratch, 'other_host');
    assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]).status, 0);
    const wrong = join(scratch, 'known_hosts_wrong');
    writeFileSync(wrong, `[127.0.0.1]:${env.SFTP_PORT} ${readFileSync(`${other}.pub`, 'utf8')}`);
    const b = await createSftpBackend(sftpUrl(env, 'changed', { 'known-hosts': wrong, 'accept-unknown-host': '1' }));
    try {
      await assert.rejects(b.stat('k'), (e: unknown) => e instanceof PermissionError && e.code === 'EPERMISSION');
    } finally {
      await b.close();
    }
  });
}
