/**
 * Azure failure behaviour against a real Azurite: the shared fault suite (test/conformance/faults.ts:
 * a wrong key, a missing container, ServerBusy answers and refused connections through the
 * harness's proxy), plus what is Azure's own: the tier option.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { createAzureBackend } from '../../backends/azure/index.js';
import { faultSuite } from '../conformance/faults.js';
import { tryStartServer } from '../helpers/servers.js';
import { azureUrl } from './factories/azure.js';

const server = await tryStartServer('azure');
after(async () => { if (!(server instanceof Error)) await server.stop(); });
const bytes = new Uint8Array([1, 2, 3, 4]);

if (server instanceof Error) {
  test('azure faults: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const env = { ...process.env, ...server.env };
  const cs = env.AZURE_STORAGE_CONNECTION_STRING as string;
  const endpoint = new URL(env.AZURE_BLOB_ENDPOINT as string);
  faultSuite('azure', {
    make: (root, via) => createAzureBackend(azureUrl(env as Record<string, string>, root), {
      env: via ? { ...env, AZURE_STORAGE_CONNECTION_STRING: cs.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${via.url}${endpoint.pathname}`) } : env,
    }),
    makeWithBadCredentials: async (root) => {
      const wrong = Buffer.alloc(64, 7).toString('base64');
      const backend = await createAzureBackend(azureUrl(env as Record<string, string>, root), { env: { ...env, AZURE_STORAGE_CONNECTION_STRING: cs.replace(/AccountKey=[^;]+/, `AccountKey=${wrong}`) } });
      return { backend, secrets: [wrong, /AccountKey=([^;]+)/.exec(cs)![1] as string] };
    },
    makeMissingRoot: () => createAzureBackend(new URL(`az://${env.AZURE_ACCOUNT}/no-such-container/x`), { env }),
    target: { host: endpoint.hostname, port: Number(endpoint.port) },
    proxy: 'azure',
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
}
