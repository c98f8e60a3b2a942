// Runs Debian's OpenSSH sshd in the foreground on 127.0.0.1:$PORT for cairn's SFTP tests, with
// its own config, host key and a generated ed25519 user key, all in $STATE_DIR; prints
// `CAIRN_READY {env}` once sshd listens; on SIGTERM stops sshd and every session it forked.
//
// StrictModes is off on purpose: launch.mjs puts $STATE_DIR under /tmp, and StrictModes refuses
// any authorized_keys file whose path crosses a world-writable directory (/tmp), sticky bit or
// not. What StrictModes guards against — another local user editing the keys file — is already
// prevented here: $STATE_DIR is a mkdtemp folder (mode 0700) owned by the user running the tests,
// and the server only listens on the loopback address for the life of one test run.
import { setTimeout } from 'node:timers';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';
// Detached by localstack/up, the launcher closes our stdout/stderr once we are ready.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const state = process.env.STATE_DIR;
const port = Number(process.env.PORT);
if (!state || !port) { console.error('STATE_DIR and PORT must be set'); process.exit(2); }
chmodSync(state, 0o700);

function keygen(file, comment) {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr || r.error}`);
}

// sshd refuses to start without its privilege-separation directory.
try { mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); } catch (err) {
  console.error(`cannot create /run/sshd (${err.code}): create it once as root`);
  process.exit(1);
}

const hostKey = join(state, 'ssh_host_ed25519_key');
const userKey = join(state, 'id_ed25519');
keygen(hostKey, 'cairn-test-host');
keygen(userKey, 'cairn-test-user');
writeFileSync(join(state, 'authorized_keys'), readFileSync(`${userKey}.pub`), { mode: 0o600 });
const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
const knownHosts = join(state, 'known_hosts');
writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`, { mode: 0o600 });
const dataDir = join(state, 'data');
mkdirSync(dataDir, { mode: 0o700 });

// The SFTP subsystem: OpenSSH's internal-sftp, or a server other than OpenSSH modelled for
// cairn's tests. SFTP_DENY=request,... (names as `sftp-server -Q requests` lists them, e.g.
// posix-rename,hardlink) refuses those requests while still advertising the extensions
// (internal-sftp -P, as an administrator's sshd_config may); SFTP_HIDE=ext,... does not offer them
// at all and SFTP_RENAME_REPLACES=1 makes plain rename replace an existing target (filter.mjs).
const hide = process.env.SFTP_HIDE ?? '';
let subsystem = hide || process.env.SFTP_RENAME_REPLACES === '1'
  ? `${process.execPath} ${join(import.meta.dirname, 'filter.mjs')}${hide ? ` --hide ${hide}` : ''}${process.env.SFTP_RENAME_REPLACES === '1' ? ' --rename-replaces' : ''}`
  : `internal-sftp${process.env.SFTP_DENY ? ` -P ${process.env.SFTP_DENY}` : ''}`;
// SFTP_REQUEST_LOG=1: every SFTP request is logged (OpenSSH's sftp-server at DEBUG3, one line per
// request: `debug3: request 12: open flags 26`) to $STATE_DIR/sftp-requests.log, so a benchmark can
// count the protocol requests of any client (restic's included) the same way. Off by default: the
// log costs a write per request. Plain OpenSSH only (not with the modes above).
const requestLog = process.env.SFTP_REQUEST_LOG === '1' ? join(state, 'sftp-requests.log') : undefined;
if (requestLog) {
  if (subsystem !== 'internal-sftp') { console.error('SFTP_REQUEST_LOG cannot be combined with SFTP_DENY, SFTP_HIDE or SFTP_RENAME_REPLACES'); process.exit(2); }
  subsystem = join(state, 'sftp-logged.sh');
  writeFileSync(subsystem, `#!/bin/sh\nexec /usr/lib/openssh/sftp-server -e -l DEBUG3 2>>'${requestLog}'\n`, { mode: 0o755 });
}
if (/[^\w@.,/ -]/.test(subsystem)) { console.error(`unsafe subsystem command: ${subsystem}`); process.exit(2); }

const config = join(state, 'sshd_config');
writeFileSync(config, [
  'ListenAddress 127.0.0.1',
  `Port ${port}`,
  `HostKey ${hostKey}`,
  `PidFile ${join(state, 'sshd.pid')}`,
  `AuthorizedKeysFile ${join(state, 'authorized_keys')}`,
  'PubkeyAuthentication yes',
  'PasswordAuthentication no',
  'KbdInteractiveAuthentication no',
  'PermitRootLogin prohibit-password',
  'UsePAM no',
  'StrictModes no',
  'MaxSessions 32',
  'MaxStartups 64:30:128',
  'LogLevel INFO',
  `Subsystem sftp ${subsystem}`,
  '',
].join('\n'));

const sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
let ready = false;
let log = '';
const onOutput = (chunk) => {
  if (ready) return;
  log += chunk;
  if (/Server listening on 127\.0\.0\.1 port/.test(log)) {
    ready = true;
    log = '';
    process.stdout.write(`CAIRN_READY ${JSON.stringify({
      SFTP_HOST: '127.0.0.1',
      SFTP_PORT: String(port),
      SFTP_USER: userInfo().username,
      SFTP_IDENTITY: userKey,
      SFTP_KNOWN_HOSTS: knownHosts,
      SFTP_ROOT: dataDir,
      SFTP_SSHD_PID: String(sshd.pid),
      ...(requestLog ? { SFTP_REQUEST_LOG: requestLog } : {}),
    })}\n`);
  }
};
sshd.stdout.setEncoding('utf8').on('data', onOutput);
sshd.stderr.setEncoding('utf8').on('data', (c) => { onOutput(c); if (!ready) process.stderr.write(c); });
sshd.on('exit', (code, signal) => {
  if (!stopping) console.error(`sshd exited (${code ?? signal})`);
  process.exit(stopping ? 0 : 1);
});

/** PIDs of every descendant of `root`, found through /proc (sshd's session children call setsid). */
function descendants(root) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch { /* process ended while we looked */ }
  }
  const out = [];
  const walk = (pid) => { for (const [child, ppid] of parents) if (ppid === pid) { out.push(child); walk(child); } };
  walk(root);
  return out;
}

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // Sessions outlive the listener otherwise: a stopped server must drop its connections.
  for (const pid of [...descendants(sshd.pid), sshd.pid]) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
