/**
 * Reads an `az://account/container/prefix?endpoint=&tier=&auth=` URL and the environment into the
 * settings of one Azure store. Credentials, in order: AZURE_STORAGE_CONNECTION_STRING,
 * AZURE_STORAGE_KEY (shared key of the URL's account), AZURE_STORAGE_SAS_TOKEN; with none of them
 * (or `auth=entra`), Microsoft Entra ID through @azure/identity's DefaultAzureCredential.
 */
import { BackendError, InvalidUrlError } from '../../src/store/errors.js';

export type AccessTier = 'Hot' | 'Cool' | 'Cold' | 'Archive';

/** `shared`: connection string, account key or SAS; `entra`: a Microsoft Entra ID bearer token. */
export type AzureAuth = 'shared' | 'entra';

export interface AzureConfig {
  account: string;
  container: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
  /** Blob service URL (no trailing slash), when not taken from the connection string. */
  endpoint: string | undefined;
  connectionString: string | undefined;
  accountKey: string | undefined;
  sasToken: string | undefined;
  /** How requests are authorised (see AzureAuth). */
  auth: AzureAuth;
  /** Access tier for keys under `data/`; other keys keep the account's default tier. */
  tier: AccessTier | undefined;
  location: string;
}

const TIERS: readonly AccessTier[] = ['Hot', 'Cool', 'Cold', 'Archive'];
const OPTIONS = new Set(['endpoint', 'tier', 'auth']);

function invalid(message: string): InvalidUrlError {
  return new InvalidUrlError(`azure URL: ${message}`, { backend: 'azure' });
}

/** Value of `name` in a `k=v;k=v` connection string. */
export function connectionStringValue(cs: string, name: string): string | undefined {
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim().toLowerCase() === name.toLowerCase()) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Parses `url`; throws `InvalidUrlError` (one line) for a malformed URL, `BackendError` for missing credentials. */
export function readConfig(url: URL, env: NodeJS.ProcessEnv = process.env): AzureConfig {
  for (const name of url.searchParams.keys()) if (!OPTIONS.has(name)) throw invalid(`unknown option "${name}"`);
  const account = url.hostname;
  const [container = '', ...rest] = decodeURIComponent(url.pathname).split('/').filter(Boolean);
  if (!account || !container) throw invalid('expected az://account/container[/prefix]');
  const prefix = rest.length ? `${rest.join('/')}/` : '';
  const tierOption = url.searchParams.get('tier');
  const tier = tierOption === null ? undefined : TIERS.find((t) => t.toLowerCase() === tierOption.toLowerCase());
  if (tierOption !== null && !tier) throw invalid(`tier must be one of ${TIERS.join(', ')}`);
  // Archive blobs cannot be read until rehydrated (hours), and cairn reads segments to list, extract, check and compact.
  if (tier === 'Archive') throw invalid('tier=Archive needs a rehydration before any read, and cairn reads segments to list, extract, check and compact: use Cool or Cold');
  const endpoint = url.searchParams.get('endpoint')?.replace(/\/+$/, '') || undefined;
  const connectionString = env.AZURE_STORAGE_CONNECTION_STRING || undefined;
  const csAccount = connectionString && (connectionStringValue(connectionString, 'UseDevelopmentStorage') === 'true'
    ? 'devstoreaccount1' : connectionStringValue(connectionString, 'AccountName'));
  if (csAccount && csAccount !== account) {
    throw new BackendError(`azure: AZURE_STORAGE_CONNECTION_STRING is for account "${csAccount}", the URL names "${account}"`, { backend: 'azure' });
  }
  const accountKey = env.AZURE_STORAGE_KEY || undefined;
  const sasToken = env.AZURE_STORAGE_SAS_TOKEN?.replace(/^\?/, '') || undefined;
  const authOption = url.searchParams.get('auth');
  if (authOption !== null && authOption !== 'entra' && authOption !== 'shared') throw invalid('auth must be entra or shared');
  const hasShared = Boolean(connectionString || accountKey || sasToken);
  if (authOption === 'shared' && !hasShared) {
    throw new BackendError('azure: auth=shared but no credentials: set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN', { backend: 'azure' });
  }
  // No shared credential: Entra ID (many accounts have shared-key access disabled, and a managed or
  // workload identity has no key at all). auth=entra picks it even when a shared one is set.
  const auth: AzureAuth = authOption === 'entra' || !hasShared ? 'entra' : 'shared';
  if (auth === 'entra' && endpoint !== undefined && !/^https:/i.test(endpoint)) {
    throw invalid(`Microsoft Entra ID sign-in sends a bearer token, which Azure accepts over https only: endpoint ${endpoint} is not https`);
  }
  return {
    account, container, prefix, endpoint, connectionString, accountKey, sasToken, auth, tier,
    location: `az://${account}/${container}${prefix ? `/${prefix.slice(0, -1)}` : ''}`,
  };
}
