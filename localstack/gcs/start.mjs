// Runs the GCS test server in the foreground: the StorageEmulator class of firebase-tools (pinned
// in ../package.json) in this process on an internal port, its security-rules runtime stubbed
// (the GCS JSON API routes never evaluate rules, and the real runtime needs Java and a download),
// behind the front layer (front.mjs) on 127.0.0.1:$PORT. Object bytes go under $TMPDIR, which
// launch.mjs sets to $STATE_DIR. Prints `CAIRN_READY {env}` when ready; stops on SIGTERM.
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { PRESET_SUFFIXES, startFront } from './front.mjs';
import { createCredentials } from './auth.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'package.json'));
const emulatorLib = join(here, '..', 'node_modules', 'firebase-tools', 'lib', 'emulator');
const { StorageEmulator } = require(join(emulatorLib, 'storage', 'index.js'));
// The emulator builds bucket metadata from its registry entry (host and port), so it must be registered.
const { EmulatorRegistry } = require(join(emulatorLib, 'registry.js'));

const port = Number(process.env.PORT);
const stateDir = process.env.STATE_DIR;
if (!port || !stateDir) throw new Error('start.mjs needs PORT and STATE_DIR (see localstack/launch.mjs)');
mkdirSync(stateDir, { recursive: true });
const PROJECT = 'demo-cairn'; // a demo- project id makes firebase-tools skip every Google API call
const BUCKET = 'cairn-test';

/** A StorageEmulator whose rules manager and runtime do nothing. */
class RulelessStorageEmulator extends StorageEmulator {
  constructor(args) {
    super(args);
    this._rulesRuntime = { start: async () => {}, stop: async () => {} };
  }

  createRulesManager() {
    return { start: async () => ({ errors: [], warnings: [] }), stop: async () => {}, getRuleset: () => undefined };
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
}

const innerPort = await freePort();
const emulator = new RulelessStorageEmulator({ projectId: PROJECT, host: '127.0.0.1', port: innerPort, auto_download: false });
await EmulatorRegistry.start(emulator);
const credentials = createCredentials(stateDir, PROJECT, port);
const { server, addBucket } = await startFront({
  port, inner: `http://127.0.0.1:${innerPort}`, auth: credentials, stateDir, projectId: PROJECT,
});
// The buckets of the role-restricted modes exist already, as an administrator made them: their
// callers may not create buckets (front.mjs, ROLES).
for (const suffix of PRESET_SUFFIXES) addBucket(`${BUCKET}${suffix}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections?.();
  server.close();
  await emulator.stop().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const env = {
  GCS_ENDPOINT: `http://127.0.0.1:${port}`,
  GCS_BUCKET: BUCKET,
  GCS_PROJECT: PROJECT,
  GOOGLE_APPLICATION_CREDENTIALS: credentials.path,
  // Workload identity federation: an external_account file for GOOGLE_APPLICATION_CREDENTIALS (auth.mjs).
  GCS_EXTERNAL_ACCOUNT_FILE: credentials.federation.path,
};
process.stdout.write(`CAIRN_READY ${JSON.stringify(env)}\n`);
