// End to end: an sftp:// URL whose host is an alias of ~/.ssh/config. The cairn executable runs
// with HOME set to a folder whose .ssh/config maps the alias to the local sshd (localstack/sftp):
// HostName, Port, User, IdentityFile and UserKnownHostsFile come from the config, URL parts win
// over it, and ProxyJump reaches the server through a jump host (the same sshd behind a TCP
// proxy that counts the bytes, so the test sees the backup pass through the jump).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tryStartServer } from '../helpers/servers.js';
import { startTcpFaultProxy } from '../helpers/fault-proxy.js';
import { cairn, ok, workspace } from './helpers.js';

const server = await tryStartServer('sftp');
if (server instanceof Error) {
  test('sftp with ~/.ssh/config: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const { SFTP_PORT, SFTP_USER, SFTP_IDENTITY, SFTP_KNOWN_HOSTS, SFTP_ROOT } = server.env as Record<string, string>;
  const jump = await startTcpFaultProxy({ host: '127.0.0.1', port: Number(SFTP_PORT) });
  after(async () => { await jump.close(); await server.stop(); });
  const ws = await workspace();
  after(() => ws.cleanup());
  const home = join(ws.dir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  // The server's host key, listed for the server and for the jump host's address.
  const hostKey = (await readFile(SFTP_KNOWN_HOSTS, 'utf8')).trim().split(/\s+/).slice(1).join(' ');
  const knownHosts = join(home, 'known-hosts-elsewhere');
  await writeFile(knownHosts, `[127.0.0.1]:${SFTP_PORT} ${hostKey}\n[127.0.0.1]:${jump.port} ${hostKey}\n`);
  await writeFile(join(home, '.ssh', 'config'), [
    'Host myalias wrongport wronguser',
    '  HostName 127.0.0.1',
    `  IdentityFile ${SFTP_IDENTITY}`,
    `  UserKnownHostsFile ${knownHosts}`,
    'Host myalias',
    `  Port ${SFTP_PORT}`,
    `  User ${SFTP_USER}`,
    'Host wrongport',
    `  Port ${jump.port}`,
    `  User ${SFTP_USER}`,
    'Host wronguser',
    `  Port ${SFTP_PORT}`,
    '  User no-such-user-here',
    'Host jumphost',
    '  HostName 127.0.0.1',
    `  Port ${jump.port}`,
    `  User ${SFTP_USER}`,
    `  IdentityFile ${SFTP_IDENTITY}`,
    `  UserKnownHostsFile ${knownHosts}`,
    'Host behindjump',
    '  HostName 127.0.0.1',
    `  Port ${SFTP_PORT}`,
    `  User ${SFTP_USER}`,
    `  IdentityFile ${SFTP_IDENTITY}`,
    `  UserKnownHostsFile ${knownHosts}`,
    '  ProxyJump jumphost',
    '',
  ].join('\n'));
  // No agent: only the config may supply the key.
  const env = { HOME: home, SSH_AUTH_SOCK: '' };
  const src = join(ws.dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'file.bin'), randomBytes(300_000));
  await writeFile(join(src, 'note.txt'), 'through an ssh config alias\n');

  const roundTrip = async (url: string, name: string) => {
    await ok(['-r', url, 'rcreate', '--encryption', 'repokey'], { env });
    await ok(['-r', url, 'create', 'a1', 'src'], { env, cwd: ws.dir });
    const out = join(ws.dir, `out-${name}`);
    await mkdir(out);
    await ok(['-r', url, 'extract', 'a1'], { env, cwd: out });
    for (const f of ['file.bin', 'note.txt']) assert.deepEqual(await readFile(join(out, 'src', f)), await readFile(join(src, f)));
  };

  describe('sftp: ~/.ssh/config for the host in the URL', () => {
    test('an alias gets HostName, Port, User, IdentityFile and UserKnownHostsFile from the config', async () => {
      await roundTrip(`sftp://myalias${SFTP_ROOT}/alias-repo`, 'alias');
      // Every file and folder the backend made on the server is private to the user (0600/0700).
      const walk = async (dir: string): Promise<[string, number][]> => {
        const out: [string, number][] = [[dir, (await stat(dir)).mode & 0o777]];
        for (const e of await readdir(dir, { withFileTypes: true })) {
          if (e.isDirectory()) out.push(...await walk(join(dir, e.name)));
          else out.push([join(dir, e.name), (await stat(join(dir, e.name))).mode & 0o777]);
        }
        return out;
      };
      const modes = await walk(join(SFTP_ROOT, 'alias-repo'));
      assert.ok(modes.length > 5);
      for (const [path, mode] of modes) assert.equal(mode & 0o077, 0, `${path} is ${mode.toString(8)}`);
    });

    test('URL parts win over the config: port and user', async () => {
      // The config's Port for "wrongport" is the counting proxy: used without a URL port, not with one.
      jump.resetCounts();
      await ok(['-r', `sftp://wrongport${SFTP_ROOT}/p-repo`, 'rcreate', '--encryption', 'none'], { env });
      assert.ok(jump.counts.connections >= 1, 'the config\'s Port is used when the URL names none');
      jump.resetCounts();
      await ok(['-r', `sftp://wrongport:${SFTP_PORT}${SFTP_ROOT}/p2-repo`, 'rcreate', '--encryption', 'none'], { env });
      assert.equal(jump.counts.connections, 0, 'the URL\'s port wins');
      const refused = await cairn(['-r', `sftp://wronguser${SFTP_ROOT}/u-repo`, 'rcreate', '--encryption', 'none'], { env });
      assert.equal(refused.code, 2, `the config's User is used when the URL names none: ${refused.stderr}`);
      await ok(['-r', `sftp://${SFTP_USER}@wronguser${SFTP_ROOT}/u-repo`, 'rcreate', '--encryption', 'none'], { env });
    });

    test('ProxyJump: the connection goes through the jump host', async () => {
      jump.resetCounts();
      await roundTrip(`sftp://behindjump${SFTP_ROOT}/jump-repo`, 'jump');
      assert.ok(jump.counts.connections >= 1, 'the jump host was used');
      assert.ok(jump.counts.bytesUp > 300_000, `the backup went through the jump host (${jump.counts.bytesUp} bytes up)`);
    });

    test('CAIRN_SSH_CONFIG=none ignores the config: the alias is then an unknown host', async () => {
      const r = await cairn(['-r', `sftp://myalias${SFTP_ROOT}/none-repo`, 'rcreate', '--encryption', 'none'], { env: { ...env, CAIRN_SSH_CONFIG: 'none' } });
      assert.notEqual(r.code, 0);
    });
  });
}
