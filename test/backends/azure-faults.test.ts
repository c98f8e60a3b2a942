/** Azure failure behaviour and options against a real Azurite: a stopped server, a wrong key, a missing container, tiers. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { createAzureBackend } from '../../backends/azure/index.js';
import { PermissionError, StoreMissingError, TransientError, withRetry } from '../../src/store/index.js';
import { tryStartServer } from '../helpers/servers.js';
import { azureUrl } from './factories/azure.js';

const server = await tryStartServer('azure');
after(async () => { if (!(server instanceof Error)) await server.stop(); });
const fast = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const bytes = new Uint8Array([1, 2, 3, 4]);

if (server instanceof Error) {
  test('azure faults: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const env = { ...process.env, ...server.env };

  test('wrong account key → PermissionError in one line', async () => {
    const cs = (env.AZURE_STORAGE_CONNECTION_STRING as string).replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.alloc(64, 7).toString('base64')}`);
    const b = await createAzureBackend(azureUrl(env as Record<string, string>, 'perm'), { env: { ...env, AZURE_STORAGE_CONNECTION_STRING: cs } });
    for (const call of [() => b.stat('k'), () => b.put('k', bytes), () => b.get('k')]) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PermissionError, String(err));
      assert.equal(err.code, 'EPERMISSION');
      assert.ok(!err.message.includes('\n'));
    }
  });

  test('a missing container → StoreMissingError in one line', async () => {
    const b = await createAzureBackend(new URL(`az://${env.AZURE_ACCOUNT}/no-such-container/x`), { env });
    for (const call of [() => b.get('k'), () => b.put('k', bytes), () => b.stat('k'), () => b.delete('k'), async () => { for await (const e of b.list('')) void e; }]) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof StoreMissingError, String(err));
      assert.equal(err.code, 'ENO_REPOSITORY_STORE');
      assert.ok(!err.message.includes('\n'));
    }
    await b.destroy(); // nothing to destroy is fine
  });

  test('tier= applies to keys under data/ only', async () => {
    const b = await createAzureBackend(azureUrl(env as Record<string, string>, 'tiers', '?tier=cool'), { env });
    try {
      await b.create();
      await b.put('data/00/1', bytes);
      await b.put('config', bytes);
      const container = BlobServiceClient.fromConnectionString(env.AZURE_STORAGE_CONNECTION_STRING as string).getContainerClient(env.AZURE_CONTAINER as string);
      assert.equal((await container.getBlobClient('tiers/data/00/1').getProperties()).accessTier, 'Cool');
      assert.notEqual((await container.getBlobClient('tiers/config').getProperties()).accessTier, 'Cool');
    } finally {
      await b.destroy();
    }
  });

  test('server stopped mid-run: transient errors, retried, then a clear TransientError', async () => {
    const b = await createAzureBackend(azureUrl(env as Record<string, string>, 'stopped'), { env });
    let attempts = 0;
    const r = withRetry(b, { ...fast, onRetry: ({ error }) => { attempts += 1; assert.ok(error instanceof TransientError); } });
    await r.create();
    await r.put('k', bytes);
    await server.stop();
    for (const call of [() => r.get('k'), () => r.put('k2', bytes), () => r.stat('k')]) {
      attempts = 0;
      const err = await call().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TransientError, String(err));
      assert.equal(err.code, 'ETRANSIENT');
      assert.ok(!err.message.includes('\n'));
      assert.equal(attempts, fast.maxAttempts - 1, 'every try was made');
    }
  });
}
