/** Builds the @azure/storage-blob container client for an AzureConfig, with the SDK's own retries off. */
import { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { connectionStringValue, type AzureConfig } from './config.js';

// Retries belong to cairn's withRetry wrapper (one policy for every backend): one try here.
const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };

/** The container of `config`, talking to `endpoint=` when given, else to the connection string's or Azure's endpoint. */
export function containerClient(config: AzureConfig): ContainerClient {
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
