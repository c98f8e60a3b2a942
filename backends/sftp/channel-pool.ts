/**
 * One SSH connection carrying a small pool of SFTP channels, opened on first use and opened
 * again after the connection drops. Requests fail fast while it is down (TransientError, for the
 * retry wrapper to handle); the next request after a drop reconnects.
 */
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ConnectConfig, SFTPWrapper } from 'ssh2';
import { BackendError, PermissionError } from '../../src/store/errors.js';
import type { Duplex } from 'node:stream';
import type { SftpConfig, SshEndpoint } from './config.js';
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
function authMethods(config: SshEndpoint): AnyAuthMethod[] {
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

  async #open(): Promise<Connection> {
    const config = this.#config;
    // ProxyJump: log in to each hop, then reach the next host through a forwarded channel of it.
    const hops: InstanceType<typeof Client>[] = [];
    let sock: Duplex | undefined;
    let client: InstanceType<typeof Client> | undefined;
    try {
      for (const [i, hop] of config.jumps.entries()) {
        const hopClient = await login(hop, sock);
        hops.push(hopClient);
        hopClient.on('close', () => client?.end()); // the path to the server is gone
        const next = config.jumps[i + 1] ?? config;
        sock = await new Promise<Duplex>((resolve, reject) => {
          hopClient.forwardOut('127.0.0.1', 0, next.host, next.port, (err, stream) => (err
            ? reject(new BackendError(`sftp: jump host ${hostEntryName(hop.host, hop.port)} could not reach ${hostEntryName(next.host, next.port)} (${err.message})`, { backend: 'sftp', cause: err }))
            : resolve(stream)));
        });
      }
      client = await login(config, sock);
    } catch (err) {
      for (const hop of hops) hop.end();
      throw err;
    }
    const server = client;
    const conn: Connection = { client: server, channels: [], next: 0, dead: false };
    const endAll = () => { conn.dead = true; server.end(); for (const hop of hops) hop.end(); };
    server.on('close', endAll);
    try {
      conn.channels = await Promise.all(Array.from({ length: this.#size }, () => new Promise<SFTPWrapper>((res, rej) => {
        server.sftp((err, sftp) => (err ? rej(err) : res(sftp)));
      })));
    } catch (err) {
      endAll();
      throw translateError(err, undefined, `sftp connect to ${hostEntryName(config.host, config.port)}`);
    }
    for (const channel of conn.channels) channel.on('close', endAll);
    if (this.#closed) endAll();
    return conn;
  }
}

/** Connects and authenticates to `endpoint` (over `sock` when given: a ProxyJump hop's channel). */
function login(endpoint: SshEndpoint, sock?: Duplex): Promise<InstanceType<typeof Client>> {
  const methods = authMethods(endpoint);
  const name = hostEntryName(endpoint.host, endpoint.port);
  if (methods.length === 0) {
    return Promise.reject(new PermissionError(`sftp: no key to offer to ${name}: pass identity=PATH, name one with IdentityFile in ~/.ssh/config, put a key in ~/.ssh or start an ssh agent`, { backend: 'sftp' }));
  }
  let refusal: BackendError | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    const verdict = checkHostKey(endpoint.knownHosts, endpoint.hostKeyName, endpoint.hostKeyPort, key);
    if (verdict === 'known' || (verdict === 'unknown' && endpoint.acceptUnknownHost)) return true;
    const type = key.subarray(4, 4 + key.readUInt32BE(0)).toString();
    const entry = hostEntryName(endpoint.hostKeyName, endpoint.hostKeyPort);
    const print = `${type} ${fingerprint(key)}`;
    refusal = new PermissionError(verdict === 'unknown'
      ? `sftp: host ${entry} is not in known_hosts (${endpoint.knownHosts.join(', ')}); its key is ${print}. Check that fingerprint, then add the host (ssh-keyscan -p ${endpoint.port} ${endpoint.host} >> ~/.ssh/known_hosts) or pass accept-unknown-host=1`
      : `sftp: host ${entry} presented ${verdict === 'revoked' ? 'a revoked' : 'a different'} key (${print}) than known_hosts lists: refusing to connect`, { backend: 'sftp' });
    return false;
  };
  const preferred = knownKeyTypes(endpoint.knownHosts, endpoint.hostKeyName, endpoint.hostKeyPort).flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? [t]);
  const connect: ConnectConfig = {
    ...(sock ? { sock } : { host: endpoint.host, port: endpoint.port }),
    username: endpoint.username,
    authHandler: methods as ConnectConfig['authHandler'],
    hostVerifier,
    readyTimeout: 20_000,
    keepaliveInterval: 10_000,
    keepaliveCountMax: 3,
    ...(preferred.length ? { algorithms: { serverHostKey: { prepend: preferred, append: [], remove: [] } as never } } : {}),
  };
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(refusal ?? translateError(err, undefined, `sftp connect to ${name}`));
    };
    client.on('error', fail);
    client.on('close', () => fail(new Error('Not connected')));
    client.on('ready', () => {
      settled = true; // later errors are followed by 'close', which the caller handles
      // Nagle's algorithm held each small request (open, fstat, close, window adjustments) until the
      // server's delayed ACK, ~44 ms: a 10 KiB get took 176 ms on loopback, 1.6 ms without it.
      client.setNoDelay(true);
      resolve(client);
    });
    client.connect(connect);
  });
}
