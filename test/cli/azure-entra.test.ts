// Microsoft Entra ID sign-in for Azure Blob (issue 12), through the `cairn` executable, against
// Azurite in OAuth mode (localstack/azure/start.mjs, CAIRN_AZURE_MODE=oauth): HTTPS with a
// certificate made for the run, `--oauth basic` (a bearer token's issuer, audience and lifetime
// are checked; anonymous requests are refused), and a local Entra ID token endpoint reached as
// login.microsoftonline.com through a CONNECT proxy (token-server.mjs). The token endpoint gives a
// token only for the right client secret or federated token. No shared key, SAS or connection
// string reaches cairn: every request it makes is authorised by the token it obtained.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSameTree, cairn, describeTree, ok, oneLine } from './helpers.js';
import { tryStartServer } from '../helpers/servers.js';

const server = await tryStartServer('azure', { env: { CAIRN_AZURE_MODE: 'oauth' } });

if (server instanceof Error) {
  test('azure entra: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const e = server.env;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-azure-entra-'));
  after(async () => { await server.stop(); await rm(dir, { recursive: true, force: true }); });
  const ca = await readFile(e.AZURE_CA_CERT as string);

  /** Tokens the local Entra ID issued and refused so far. */
  const stats = () => new Promise<{ issued: number; refused: number }>((resolve, reject) => {
    get(e.AZURE_TOKEN_STATS as string, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve(JSON.parse(body) as { issued: number; refused: number }));
    }).on('error', reject);
  });

  // Nothing of the machine's own Azure setup, and no shared credential: only what each test gives.
  const blank: NodeJS.ProcessEnv = {};
  for (const k of ['AZURE_STORAGE_CONNECTION_STRING', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_SAS_TOKEN', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID',
    'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST', 'AZURE_USERNAME', 'IDENTITY_ENDPOINT', 'MSI_ENDPOINT']) blank[k] = '';
  const network = {
    ...blank, NODE_EXTRA_CA_CERTS: e.AZURE_CA_CERT, HTTPS_PROXY: e.AZURE_ENTRA_PROXY, NO_PROXY: '127.0.0.1,localhost',
    CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache'),
  };
  const servicePrincipal = { ...network, AZURE_TENANT_ID: e.AZURE_TENANT_ID, AZURE_CLIENT_ID: e.AZURE_CLIENT_ID, AZURE_CLIENT_SECRET: e.AZURE_CLIENT_SECRET };
  const urlOf = (root: string, query = '') => `az://${e.AZURE_ACCOUNT}/${e.AZURE_CONTAINER}/${root}?endpoint=${encodeURIComponent(e.AZURE_BLOB_ENDPOINT as string)}${query}`;

  test('environment service principal, no key: rcreate, create, extract and check all sign in through Entra ID', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'signed in with a token\n');
    await writeFile(join(src, 'sub', 'b.bin'), Buffer.alloc(1024 * 1024 + 3).map((_, i) => (i * 2654435761) >>> 24));
    const before = await stats();
    const url = urlOf('sp');
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env: servicePrincipal });
    await ok(['-r', url, 'create', 'one', src], { env: servicePrincipal });
    const target = join(dir, 'restored');
    await mkdir(target);
    await ok(['-r', url, 'extract', 'one'], { env: servicePrincipal, cwd: target });
    assertSameTree(await describeTree(join(target, src.slice(1))), await describeTree(src));
    await ok(['-r', url, 'check', '--verify-data'], { env: servicePrincipal });
    const after = await stats();
    assert.ok(after.issued >= before.issued + 4, `a token per command at least: ${JSON.stringify({ before, after })}`);
  });

  test('workload identity (federated token file, no secret); auth=entra wins over a shared key that is set', async () => {
    const workload = { ...network, AZURE_TENANT_ID: e.AZURE_TENANT_ID, AZURE_CLIENT_ID: e.AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE: e.AZURE_FEDERATED_TOKEN_FILE,
      AZURE_STORAGE_KEY: Buffer.alloc(64, 1).toString('base64') }; // a wrong key: used, it would be refused
    const url = urlOf('wi', '&auth=entra');
    await ok(['-r', url, 'rcreate', '-e', 'none'], { env: workload });
    const out = JSON.parse(await ok(['-r', url, '--json', 'rinfo'], { env: workload })) as Record<string, unknown>;
    assert.ok(out, 'rinfo answered');
  });

  test('a refused client secret: exit 2, one line, EPERMISSION, the secret not shown', async () => {
    const before = await stats();
    const secret = 'not-the-secret-0123456789';
    const r = await cairn(['-r', urlOf('refused'), '--json', '--retry-budget', '5s', 'rcreate', '-e', 'repokey'], { env: { ...servicePrincipal, AZURE_CLIENT_SECRET: secret } });
    assert.equal(r.code, 2, r.stderr);
    const error = (JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error;
    assert.equal(error.code, 'EPERMISSION', r.stderr);
    assert.ok(!r.stderr.includes(secret));
    assert.ok((await stats()).refused > before.refused, 'Entra ID was asked and refused');
  });

  test('no credential anywhere: exit 2, one line, EPERMISSION naming what to set', async () => {
    const r = await cairn(['-r', urlOf('none'), '--json', '--retry-budget', '5s', 'rcreate', '-e', 'repokey'],
      { env: { ...network, AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential' } });
    assert.equal(r.code, 2, r.stderr);
    const error = (JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error;
    assert.equal(error.code, 'EPERMISSION', r.stderr);
  });

  test('Entra ID over a plain-http endpoint is refused before any request (bearer tokens need https)', async () => {
    const http = (e.AZURE_BLOB_ENDPOINT as string).replace(/^https:/, 'http:');
    const r = await cairn(['-r', `az://${e.AZURE_ACCOUNT}/${e.AZURE_CONTAINER}/x?endpoint=${encodeURIComponent(http)}`, '--json', 'rcreate', '-e', 'repokey'], { env: servicePrincipal });
    assert.equal(r.code, 2, r.stderr);
    assert.equal((JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error.code, 'EINVALID_URL', r.stderr);
  });
}
