// Runs Azurite's blob service in the foreground on 127.0.0.1:$PORT with its data in $STATE_DIR
// for cairn's Azure tests; prints `CAIRN_READY {env}` once it listens; stops on SIGTERM.
// Telemetry is always disabled: with it on, Azurite probes a cloud metadata address from this
// machine and takes two minutes to shut down.
//
// CAIRN_AZURE_MODE=oauth: Azurite serves HTTPS (a self-signed certificate made here for 127.0.0.1,
// announced as AZURE_CA_CERT for NODE_EXTRA_CA_CERTS) with `--oauth basic`, so it accepts Microsoft
// Entra ID bearer tokens; token-server.mjs plays Entra ID on another port and the ready line
// carries an environment service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)
// and a federated token file (AZURE_FEDERATED_TOKEN_FILE) it accepts, and AZURE_ENTRA_PROXY: the
// HTTPS_PROXY through which login.microsoftonline.com reaches token-server.mjs.
import { setTimeout } from 'node:timers';
import { spawn, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ENTRA_HOST, startEntraProxy, startTokenServer } from './token-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Detached by localstack/up, the launcher closes our stdout/stderr once we are ready.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const state = process.env.STATE_DIR;
const port = Number(process.env.PORT);
if (!state || !port) { console.error('STATE_DIR and PORT must be set'); process.exit(2); }

// The public, documented development account of every Azure Storage emulator (not a secret).
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const oauth = process.env.CAIRN_AZURE_MODE === 'oauth';
if (process.env.CAIRN_AZURE_MODE && !oauth) { console.error(`CAIRN_AZURE_MODE=${process.env.CAIRN_AZURE_MODE}: only "oauth" is known`); process.exit(2); }

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
}

/** A self-signed certificate for 127.0.0.1 and localhost, by openssl; returns the file paths. */
function makeCertificate() {
  const cert = join(state, 'tls-cert.pem');
  const key = join(state, 'tls-key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${ENTRA_HOST}`], { encoding: 'utf8' });
  if (r.status !== 0) { console.error(`openssl could not make a certificate: ${r.error?.message ?? r.stderr}`); process.exit(1); }
  return { cert, key };
}

let tls;
let tokenServer;
let entraProxy;
let entraEnv = {};
if (oauth) {
  tls = makeCertificate();
  const client = { tenantId: randomUUID(), clientId: randomUUID(), clientSecret: randomBytes(24).toString('base64url'), federatedToken: `eyJ.${randomBytes(32).toString('base64url')}.sig` };
  const federatedFile = join(state, 'federated-token');
  writeFileSync(federatedFile, client.federatedToken, { mode: 0o600 });
  const tokenPort = await freePort();
  tokenServer = await startTokenServer({ port: tokenPort, cert: readFileSync(tls.cert), key: readFileSync(tls.key), client });
  entraProxy = await startEntraProxy({ port: await freePort(), tokenPort });
  entraEnv = {
    AZURE_CA_CERT: tls.cert, AZURE_ENTRA_PROXY: entraProxy.url, AZURE_TENANT_ID: client.tenantId,
    AZURE_CLIENT_ID: client.clientId, AZURE_CLIENT_SECRET: client.clientSecret, AZURE_FEDERATED_TOKEN_FILE: federatedFile,
    AZURE_TOKEN_STATS: `${tokenServer.origin}/_cairn/stats`,
  };
}

const main = join(here, '..', 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
const child = spawn(process.execPath, [
  main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', state,
  '--disableTelemetry', '--skipApiVersionCheck',
  ...(oauth ? ['--oauth', 'basic', '--cert', tls.cert, '--key', tls.key] : []),
], { stdio: ['ignore', 'pipe', 'pipe'], cwd: state });

let ready = false;
let log = '';
const onOutput = (chunk) => {
  if (ready) return;
  log += chunk;
  process.stderr.write(chunk);
  if (/successfully listens/.test(log)) {
    ready = true;
    const scheme = oauth ? 'https' : 'http';
    const endpoint = `${scheme}://127.0.0.1:${port}/${ACCOUNT}`;
    process.stdout.write(`CAIRN_READY ${JSON.stringify({
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=${scheme};AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${endpoint};`,
      AZURE_ACCOUNT: ACCOUNT,
      AZURE_BLOB_ENDPOINT: endpoint,
      AZURE_CONTAINER: 'cairn-test',
      ...entraEnv,
    })}\n`);
  }
};
child.stdout.setEncoding('utf8').on('data', onOutput);
child.stderr.setEncoding('utf8').on('data', onOutput);
child.on('exit', (code, signal) => {
  if (!stopping) console.error(`azurite exited (${code ?? signal})`);
  process.exit(stopping ? 0 : 1);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  tokenServer?.close();
  entraProxy?.close();
  try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ }
  setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } process.exit(0); }, 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
