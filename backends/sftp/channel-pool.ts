/**
 * One SSH connection carrying a small pool of SFTP channels, opened on first use and opened
 * again after the connection drops. Requests fail fast while it is down (TransientError, for the
 * retry wrapper to handle); the next request after a drop reconnects.
 */
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ConnectConfig, SFTPWrapper } from 'ssh2';
import { BackendError, PermissionError } from '../../src/store/errors.js';
import type { SftpConfig } from './config.js';
import { checkHostKey, fingerprint, hostEntryName, knownKeyTypes } from './known-hosts.js';
import { translateError } from './translate-error.js';

const { Client, utils } = ssh2;

interface Connection {
  client: InstanceType<typeof Client>;
  channels: SFTPWrapper[];
  next: number;
  dead: boolean;
}

/** Host key algorithms to prefer for each key type found in known_hosts (as OpenSSH does). */
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Authentication methods in order: the agent, then each readable unencrypted key file. */
function authMethods(config: SftpConfig): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (config.agent) methods.push({ type: 'agent', username: config.username, agent: config.agent });
  for (const key of config.keys) {
    // Encrypted keys need a passphrase we do not ask for: the agent is the way to use them.
    if (utils.parseKey(key.data) instanceof Error) continue;
    methods.push({ type: 'publickey', username: config.username, key: key.data });
  }
  return methods;
}

export class ChannelPool {
  readonly #config: SftpConfig;
  readonly #size: number;
  #current: Promise<Connection> | undefined;
  #closed = false;

  constructor(config: SftpConfig, size: number) {
    this.#config = config;
    this.#size = size;
  }

  /** A channel of a live connection (round-robin), connecting first when needed. */
  async channel(): Promise<SFTPWrapper> {
    if (this.#closed) throw new BackendError('sftp: the backend was closed', { backend: 'sftp' });
    const pending = (this.#current ??= this.#connect());
    let conn = await pending;
    if (conn.dead) {
      if (this.#current === pending) this.#current = undefined;
      conn = await (this.#current ??= this.#connect());
    }
    const channel = conn.channels[conn.next++ % conn.channels.length];
    if (!channel) throw new BackendError('sftp: no channel', { backend: 'sftp' });
    return channel;
  }

  /**
   * Tears down the connection that carries `channel`, if it is still the current one (a request on
   * it timed out: the connection may be stalled). Its other requests fail as connection lost; the
   * next `channel()` connects again.
   */
  discard(channel: SFTPWrapper): void {
    const pending = this.#current;
    if (!pending) return;
    void pending.then((conn) => {
      if (!conn.channels.includes(channel)) return;
      conn.dead = true;
      if (this.#current === pending) this.#current = undefined;
      conn.client.destroy();
    }, () => undefined);
  }

  /** Ends the connection; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#current;
    this.#current = undefined;
    if (!pending) return;
    try { (await pending).client.end(); } catch { /* it never connected */ }
  }

  #connect(): Promise<Connection> {
    const attempt = this.#open();
    attempt.catch(() => { if (this.#current === attempt) this.#current = undefined; });
    return attempt;
  }

  #open(): Promise<Connection> {
    const config = this.#config;
    const methods = authMethods(config);
    if (methods.length === 0) {
      return Promise.reject(new PermissionError('sftp: no key to offer: pass identity=PATH, put a key in ~/.ssh or start an ssh agent', { backend: 'sftp' }));
    }
    let refusal: BackendError | undefined;
    const hostVerifier = (key: Buffer): boolean => {
      const verdict = checkHostKey(config.knownHosts, config.host, config.port, key);
      if (verdict === 'known' || (verdict === 'unknown' && config.acceptUnknownHost)) return true;
      const type = key.subarray(4, 4 + key.readUInt32BE(0)).toString();
      const name = hostEntryName(config.host, config.port);
      const print = `${type} ${fingerprint(key)}`;
      refusal = new PermissionError(verdict === 'unknown'
        ? `sftp: host ${name} is not in known_hosts (${config.knownHosts.join(', ')}); its key is ${print}. Check that fingerprint, then add the host (ssh-keyscan -p ${config.port} ${config.host} >> ~/.ssh/known_hosts) or pass accept-unknown-host=1`
        : `sftp: host ${name} presented ${verdict === 'revoked' ? 'a revoked' : 'a different'} key (${print}) than known_hosts lists: refusing to connect`, { backend: 'sftp' });
      return false;
    };
    const preferred = knownKeyTypes(config.knownHosts, config.host, config.port).flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? [t]);
    const connect: ConnectConfig = {
      host: config.host,
      port: config.port,
      username: config.username,
      authHandler: methods as ConnectConfig['authHandler'],
      hostVerifier,
      readyTimeout: 20_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      ...(preferred.length ? { algorithms: { serverHostKey: { prepend: preferred, append: [], remove: [] } as never } } : {}),
    };
    return new Promise<Connection>((resolve, reject) => {
      const client = new Client();
      const conn: Connection = { client, channels: [], next: 0, dead: false };
      let settled = false;
      const fail = (err: unknown) => {
        conn.dead = true;
        if (settled) return;
        settled = true;
        client.end();
        reject(refusal ?? translateError(err, undefined, `sftp connect to ${hostEntryName(config.host, config.port)}`));
      };
      client.on('error', fail);
      client.on('close', () => fail(new Error('Not connected')));
      client.on('ready', () => {
        const opened = Array.from({ length: this.#size }, () => new Promise<SFTPWrapper>((res, rej) => {
          client.sftp((err, sftp) => (err ? rej(err) : res(sftp)));
        }));
        Promise.all(opened).then((channels) => {
          for (const channel of channels) channel.on('close', () => { conn.dead = true; client.end(); });
          conn.channels = channels;
          if (settled) { client.end(); return; }
          settled = true;
          resolve(conn);
        }, fail);
      });
      client.connect(connect);
    });
  }
}
