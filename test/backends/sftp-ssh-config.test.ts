/**
 * How an sftp:// URL and an OpenSSH client configuration combine (backends/sftp/config.ts and
 * ssh-config.ts), without a server: what reaches the connection settings. The end-to-end test
 * against sshd is test/cli/sftp-ssh-config.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../backends/sftp/config.js';

const dir = await mkdtemp(join(tmpdir(), 'cairn-ssh-config-'));
after(() => rm(dir, { recursive: true, force: true }));
const key = join(dir, 'id_test');
await writeFile(key, 'not really a key, only read');
const file = join(dir, 'config');
await writeFile(file, [
  'Host aliased',
  '  HostName real.example.org',
  '  HostKeyAlias pinned-name',
  '  Port 2200',
  `  IdentityFile ${join(dir, 'missing')}`,
  '  IdentityFile %d/id_test',
  '  IdentitiesOnly yes',
  '  UserKnownHostsFile ~/kh1 ~/kh2',
  '  GlobalKnownHostsFile none',
  'Host behind',
  '  ProxyJump me@hop1:2022,hop2',
  'Host hop2',
  '  HostName hop2.example.org',
  '  Port 2023',
  'Host proxied',
  '  ProxyCommand nc %h %p',
  'Host *',
  '  User fallback-user',
  '  Port 2999',
  '',
].join('\n'));
const env = { CAIRN_SSH_CONFIG: file, HOME: dir, SSH_AUTH_SOCK: '/agent.sock', USER: 'local' };

test('HostName, HostKeyAlias, Port, IdentityFile (missing ones skipped), IdentitiesOnly and known_hosts files come from the config', () => {
  const c = readConfig(new URL('sftp://aliased/srv/repo'), env);
  assert.equal(c.host, 'real.example.org');
  assert.equal(c.port, 2200, 'the first Port found wins over the later Host *');
  assert.equal(c.username, 'fallback-user');
  assert.equal(c.hostKeyName, 'pinned-name');
  assert.equal(c.hostKeyPort, 22, 'a HostKeyAlias is looked up as given, without the port');
  assert.deepEqual(c.keys.map((k) => k.path), [key]);
  assert.equal(c.agent, undefined, 'IdentitiesOnly yes: no agent');
  assert.deepEqual(c.knownHosts, [join(dir, 'kh1'), join(dir, 'kh2')]);
  assert.equal(c.location, 'sftp://fallback-user@aliased/srv/repo');
});

test('the URL wins over the config: user, port, identity= and known-hosts=', () => {
  const url = new URL(`sftp://me@aliased:4000/srv/repo?identity=${encodeURIComponent(key)}&known-hosts=/kh`);
  const c = readConfig(url, env);
  assert.equal(c.username, 'me');
  assert.equal(c.port, 4000);
  assert.deepEqual(c.knownHosts, ['/kh']);
  assert.deepEqual(c.keys.map((k) => k.path), [key]);
});

test('ProxyJump hops are resolved through the config too, outermost first', () => {
  const c = readConfig(new URL('sftp://behind/srv/repo'), env);
  assert.deepEqual(c.jumps.map((j) => [j.username, j.host, j.port]), [['me', 'hop1', 2022], ['fallback-user', 'hop2.example.org', 2023]]);
  assert.equal(c.host, 'behind');
  assert.equal(c.port, 2999);
});

test('ProxyCommand is refused in one line; CAIRN_SSH_CONFIG=none reads nothing; a missing named file is an error', () => {
  assert.throws(() => readConfig(new URL('sftp://proxied/srv/repo'), env), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'EBACKEND');
    assert.match(err.message, /ProxyCommand/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  const plain = readConfig(new URL('sftp://aliased/srv/repo'), { ...env, CAIRN_SSH_CONFIG: 'none' });
  assert.equal(plain.host, 'aliased');
  assert.equal(plain.port, 22);
  assert.equal(plain.username, 'local');
  assert.throws(() => readConfig(new URL('sftp://aliased/srv/repo'), { ...env, CAIRN_SSH_CONFIG: join(dir, 'nope') }), { code: 'EBACKEND' });
});
