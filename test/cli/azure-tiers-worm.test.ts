// Azure's cold and immutable blobs (issue 12), through the `cairn` executable, each with its own
// error instead of "already exists":
// - Archive tier: Azurite itself answers a read of an Archive-tier blob 409 `BlobArchived`, as
//   Azure does; a lifecycle rule moving the segments to Archive is modelled by setting their tier.
// - Immutability (a container's time-based retention policy, version-level WORM): Azurite does not
//   implement it (its immutability calls are 501), so a front proxy here models it: once "locked",
//   every blob that existed then refuses deletes and overwrites with 409
//   `BlobImmutableDueToPolicy`, as Azure does; new blobs can still be written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { cairn, ok, oneLine } from './helpers.js';
import { tryStartServer } from '../helpers/servers.js';

const server = await tryStartServer('azure');

/** A relay to Azurite that refuses deletes and overwrites of the blob paths in `locked` as Azure's WORM does. */
async function wormProxy(target: URL): Promise<{ url: string; locked: Set<string>; refused: number; close(): Promise<void> }> {
  const state = { locked: new Set<string>(), refused: 0 };
  const srv: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    const blobCall = !url.searchParams.has('restype');
    const writes = req.method === 'DELETE' || (req.method === 'PUT' && !url.searchParams.has('comp'));
    if (blobCall && writes && state.locked.has(decodeURIComponent(url.pathname))) {
      state.refused += 1;
      req.resume();
      req.once('end', () => {
        const body = '\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobImmutableDueToPolicy</Code><Message>This operation is not permitted as the blob is immutable due to a policy.</Message></Error>';
        res.writeHead(409, { 'content-type': 'application/xml', 'x-ms-error-code': 'BlobImmutableDueToPolicy', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`,
    locked: state.locked,
    get refused() { return state.refused; },
    close: () => new Promise<void>((resolve) => { srv.closeAllConnections(); srv.close(() => resolve()); }),
  };
}

if (server instanceof Error) {
  test('azure tiers and WORM: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const e = server.env;
  const dir = await mkdtemp(join(tmpdir(), 'cairn-azure-cold-'));
  const endpoint = new URL(e.AZURE_BLOB_ENDPOINT as string);
  const proxy = await wormProxy(new URL(endpoint.origin));
  after(async () => { await proxy.close(); await server.stop(); await rm(dir, { recursive: true, force: true }); });
  const cs = e.AZURE_STORAGE_CONNECTION_STRING as string;
  const base = { CAIRN_SECURITY_DIR: join(dir, 'security'), XDG_CACHE_HOME: join(dir, 'cache'), AZURE_STORAGE_KEY: '', AZURE_STORAGE_SAS_TOKEN: '' };
  const direct = { ...base, AZURE_STORAGE_CONNECTION_STRING: cs };
  const viaProxy = { ...base, AZURE_STORAGE_CONNECTION_STRING: cs.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxy.url}${endpoint.pathname}`) };
  const container = BlobServiceClient.fromConnectionString(cs).getContainerClient(e.AZURE_CONTAINER as string);
  const urlOf = (root: string) => `az://${e.AZURE_ACCOUNT}/${e.AZURE_CONTAINER}/${root}`;
  const source = async (name: string) => {
    const src = join(dir, name);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'f.txt'), `${name}\n`.repeat(100));
    return src;
  };

  test('segments moved to the Archive tier: extract fails with one line, EARCHIVED (rehydrate), not "already exists" nor credentials', async () => {
    const url = urlOf('cold');
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env: direct });
    await ok(['-r', url, 'create', 'one', await source('cold-src')], { env: direct });
    let archived = 0;
    for await (const blob of container.listBlobsFlat({ prefix: 'cold/data/' })) {
      await container.getBlobClient(blob.name).setAccessTier('Archive');
      archived += 1;
    }
    assert.ok(archived > 0);
    const target = join(dir, 'cold-restore');
    await mkdir(target);
    const r = await cairn(['-r', url, '--json', '--retry-budget', '5s', 'extract', 'one'], { env: direct, cwd: target });
    assert.equal(r.code, 2, r.stderr);
    assert.equal((JSON.parse(oneLine(r.stderr)) as { error: { code: string } }).error.code, 'EARCHIVED', r.stderr);
  });

  test('blobs under an immutability policy: deleting an archive is postponed (ERETAINED from the store), said in one line, and the archive is still there', async () => {
    const url = urlOf('worm');
    await ok(['-r', url, 'rcreate', '-e', 'repokey'], { env: direct });
    await ok(['-r', url, 'create', 'one', await source('worm-src')], { env: direct });
    for await (const blob of container.listBlobsFlat({ prefix: 'worm/' })) proxy.locked.add(`${endpoint.pathname}/${e.AZURE_CONTAINER}/${blob.name}`);
    // New blobs (locks, a new archive) can still be written: a backup still works.
    await ok(['-r', url, 'create', 'two', await source('worm-src-2')], { env: viaProxy });
    // The store refuses the record's delete (409 BlobImmutableDueToPolicy → ERETAINED): the delete is
    // postponed, as in a repository with its own retention (ADR 0056), not a failure.
    const r = await cairn(['-r', url, '--json', '--retry-budget', '5s', 'delete', 'one'], { env: viaProxy });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { deleted: string[]; postponed?: { name: string }[] };
    assert.deepEqual(result.deleted, []);
    assert.deepEqual(result.postponed?.map((p) => p.name), ['one']);
    assert.ok(proxy.refused >= 1, 'the policy refused a delete');
    // The record could not be deleted: the archive is still listed (with a warning, exit 1, that
    // its deletion was begun).
    const list = await cairn(['-r', url, '--json', 'rlist'], { env: direct });
    assert.ok(list.code === 0 || list.code === 1, list.stderr);
    const names = (JSON.parse(list.stdout) as { archives: { name: string }[] }).archives.map((a) => a.name);
    assert.ok(names.includes('one') && names.includes('two'), JSON.stringify(names));
  });
}
