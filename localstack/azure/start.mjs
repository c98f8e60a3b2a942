// Runs Azurite's blob service in the foreground on 127.0.0.1:$PORT with its data in $STATE_DIR
// for cairn's Azure tests; prints `CAIRN_READY {env}` once it listens; stops on SIGTERM.
// Telemetry is always disabled: with it on, Azurite probes a cloud metadata address from this
// machine and takes two minutes to shut down.
import { setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const main = join(here, '..', 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
const child = spawn(process.execPath, [
  main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', state,
  '--disableTelemetry', '--skipApiVersionCheck',
], { stdio: ['ignore', 'pipe', 'pipe'], cwd: state });

let ready = false;
let log = '';
const onOutput = (chunk) => {
  if (ready) return;
  log += chunk;
  process.stderr.write(chunk);
  if (/successfully listens/.test(log)) {
    ready = true;
    const endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
    process.stdout.write(`CAIRN_READY ${JSON.stringify({
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${endpoint};`,
      AZURE_ACCOUNT: ACCOUNT,
      AZURE_BLOB_ENDPOINT: endpoint,
      AZURE_CONTAINER: 'cairn-test',
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
  try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ }
  setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } process.exit(0); }, 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
