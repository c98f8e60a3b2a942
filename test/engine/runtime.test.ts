/**
 * The native addons under the Node that runs the tests. @napi-rs/xattr is N-API (one build serves
 * every Node); ssh2's crypto binding and cpu-features are nan addons built for one Node's ABI:
 * under another Node they do not load and ssh2 silently falls back to slower code. .ci/run rebuilds
 * them (`npm rebuild`) before it runs the suite on its second Node, and this test proves it did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCI } from '../helpers/servers.js';

const require = createRequire(import.meta.url);

test('the N-API xattr addon loads and runs on this Node', () => {
  const xattr = require('@napi-rs/xattr') as { listAttributesSync(path: string): string[] };
  const dir = mkdtempSync(join(tmpdir(), 'cairn-runtime-'));
  try {
    writeFileSync(join(dir, 'f'), 'x');
    assert.ok(Array.isArray(xattr.listAttributesSync(join(dir, 'f'))), `Node ${process.version}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function loads(id: string): boolean {
  try {
    require(id);
    return true;
  } catch {
    return false;
  }
}

const sshBinding = (require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean }).bindingAvailable;
const cpuFeatures = loads('cpu-features');

test('ssh2\'s crypto binding and cpu-features are built for this Node (required in CI)', {
  skip: !inCI && !(sshBinding && cpuFeatures) && `not built for Node ${process.version} (ABI ${process.versions.modules}): \`npm rebuild\` under it`,
}, () => {
  assert.ok(sshBinding, `ssh2's crypto binding does not load on Node ${process.version} (ABI ${process.versions.modules}): run \`npm rebuild\` under it`);
  assert.ok(cpuFeatures, `cpu-features does not load on Node ${process.version}: run \`npm rebuild\` under it`);
});
