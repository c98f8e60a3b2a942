// Runs s3rver 3.7.1 as a library behind cairn's front layer on 127.0.0.1:$PORT with its
// objects under $STATE_DIR, prints `CAIRN_READY {env}` once it accepts requests, stops on SIGTERM.
// The front layer and the store fixes make it behave like real S3 where cairn depends on it.
import { setTimeout } from 'node:timers';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyStoreFixes } from './store-fixes.mjs';
import { DEFAULT_MODES, createFrontHandler } from './front.mjs';

const PINNED = '3.7.1';
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'package.json'));

const version = JSON.parse(readFileSync(require.resolve('s3rver/package.json'), 'utf8')).version;
if (version !== PINNED) {
  console.error(`localstack/s3: s3rver ${version} installed, but the fixes here are written for ${PINNED} exactly`);
  process.exit(1);
}
const S3rver = require('s3rver');
const S3Object = require('s3rver/lib/models/object');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const port = Number(process.env.PORT ?? 0);
const stateDir = process.env.STATE_DIR ?? process.exit(2);
const directory = join(stateDir, 's3');
mkdirSync(directory, { recursive: true });

// Fresh credentials per run (or the pair given, so a restarted server accepts the same clients);
// s3rver's built-in S3RVER/S3RVER pair is withdrawn.
const accessKeyId = process.env.CAIRN_S3_ACCESS_KEY_ID || `CAIRN${randomBytes(8).toString('hex').toUpperCase()}`;
const secretAccessKey = process.env.CAIRN_S3_SECRET_ACCESS_KEY || randomBytes(24).toString('base64url');
DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
const secrets = new Map([[accessKeyId, secretAccessKey]]);

const bucket = process.env.S3_BUCKET ?? 'cairn-test';
// Beside the default bucket, one per mode of a real store that AWS's defaults do not show (README.md, "Bucket modes").
const modes = new Map([
  [bucket, DEFAULT_MODES],
  [`${bucket}-objectlock`, { ...DEFAULT_MODES, objectLock: true }],
  [`${bucket}-nocond`, { ...DEFAULT_MODES, conditional: 'ignore' }],
  [`${bucket}-cond501`, { ...DEFAULT_MODES, conditional: '501' }],
  [`${bucket}-euwest3`, { ...DEFAULT_MODES, region: 'eu-west-3' }],
]);
const s3rver = new S3rver({ directory, silent: true, vhostBuckets: false, configureBuckets: [...modes.keys()].map((name) => ({ name })) });
applyStoreFixes(s3rver.store, S3Object);
await s3rver.configureBuckets();

const server = createServer(createFrontHandler({
  s3rverHandler: s3rver.callback(),
  store: s3rver.store,
  secretFor: (id) => secrets.get(id),
  modesOf: (name) => modes.get(name) ?? DEFAULT_MODES,
}));
server.keepAliveTimeout = 30_000;
await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${server.address().port}`;

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

console.log(`CAIRN_READY ${JSON.stringify({
  S3_ENDPOINT: endpoint,
  S3_BUCKET: bucket,
  S3_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: accessKeyId,
  AWS_SECRET_ACCESS_KEY: secretAccessKey,
})}`);
