/** Builds the @azure/storage-blob container client for an AzureConfig, with the SDK's own retries off. */
import type { TokenCredential } from '@azure/core-auth';
import { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { connectionStringValue, type AzureConfig } from './config.js';

// Retries belong to cairn's withRetry wrapper (one policy for every backend): one try here.
const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };

/**
 * The container of `config`, talking to `endpoint=` when given, else to the connection string's or
 * Azure's endpoint. `token`: the Entra ID credential, used when `config.auth` is `entra`.
 */
export function containerClient(config: AzureConfig, token?: TokenCredential): ContainerClient {
  if (config.auth === 'entra') {
    if (!token) throw new Error('azure: auth=entra needs a token credential');
    const endpoint = config.endpoint ?? `https://${config.account}.blob.core.windows.net`;
    return new BlobServiceClient(endpoint, token, PIPELINE).getContainerClient(config.container);
  }
  const cs = config.connectionString;
  const key = (cs && connectionStringValue(cs, 'AccountKey')) || config.accountKey;
  const sas = (cs && connectionStringValue(cs, 'SharedAccessSignature')) || config.sasToken;
  let service: BlobServiceClient;
  if (cs && !config.endpoint) {
    service = BlobServiceClient.fromConnectionString(cs, PIPELINE);
  } else {
    const endpoint = config.endpoint ?? `https://${config.account}.blob.core.windows.net`;
    service = key
      ? new BlobServiceClient(endpoint, new StorageSharedKeyCredential(config.account, key), PIPELINE)
      : new BlobServiceClient(`${endpoint}?${sas ?? ''}`, new AnonymousCredential(), PIPELINE);
  }
  return service.getContainerClient(config.container);
}

/**
 * Microsoft Entra ID sign-in: @azure/identity's DefaultAzureCredential (environment service
 * principal, workload identity, managed identity, Azure CLI, ...), imported only when a store
 * signs in this way. It reads the process environment (AZURE_CLIENT_ID, AZURE_TENANT_ID,
 * AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE,
 * AZURE_TOKEN_CREDENTIALS, ...), as Azure's own tools do.
 */
export async function entraCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
