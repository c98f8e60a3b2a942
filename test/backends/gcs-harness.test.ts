/**
 * The GCS test server behaves like real GCS where the firebase-tools emulator alone does not
 * (localstack/gcs/README.md lists each correction): checked here with raw JSON-API requests.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { tryStartServer } from '../helpers/servers.js';

const server = await tryStartServer('gcs');
after(async () => { if (!(server instanceof Error)) await server.stop(); });

/** A self-signed service-account JWT, as the Google SDK sends. */
function bearer(keyFile: string): string {
  const key = JSON.parse(readFileSync(keyFile, 'utf8')) as { client_email: string; private_key: string };
  const now = Math.floor(Date.now() / 1000);
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: key.client_email, sub: key.client_email, iat: now, exp: now + 600 })}`;
  return `Bearer ${body}.${sign('RSA-SHA256', Buffer.from(body), createPrivateKey(key.private_key)).toString('base64url')}`;
}

if (server instanceof Error) {
  test('gcs harness: server unavailable outside CI', (t) => t.skip(server.message.split('\n')[0]));
} else {
  const base = server.env.GCS_ENDPOINT as string;
  const auth = { authorization: bearer(server.env.GOOGLE_APPLICATION_CREDENTIALS as string) };
  const call = (method: string, path: string, init: { headers?: Record<string, string>; body?: Uint8Array | string } = {}) =>
    fetch(base + path, { method, headers: { ...auth, ...init.headers }, body: init.body });
  const media = (bucket: string, name: string, body: string, query = '') =>
    call('POST', `/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}${query}`, { body, headers: { 'content-type': 'text/plain' } });

  test('requests without a valid token are refused with 401', async () => {
    assert.equal((await fetch(`${base}/storage/v1/b/x`)).status, 401);
    assert.equal((await fetch(`${base}/storage/v1/b/x`, { headers: { authorization: 'Bearer a.b.c' } })).status, 401);
  });

  test('buckets exist only once created; object calls on a missing bucket are 404; a non-empty bucket is not deleted', async () => {
    assert.equal((await call('GET', '/storage/v1/b/hb1')).status, 404);
    assert.equal((await media('hb1', 'o', 'x')).status, 404);
    assert.equal((await call('GET', '/storage/v1/b/hb1/o')).status, 404);
    const create = () => call('POST', '/storage/v1/b?project=demo-cairn', { body: JSON.stringify({ name: 'hb1' }), headers: { 'content-type': 'application/json' } });
    assert.equal((await create()).status, 200);
    assert.equal((await create()).status, 409);
    assert.equal((await call('GET', '/storage/v1/b/hb1')).status, 200);
    assert.equal((await media('hb1', 'o', 'x')).status, 200);
    assert.equal((await call('DELETE', '/storage/v1/b/hb1')).status, 409);
    assert.equal((await call('DELETE', '/storage/v1/b/hb1/o/o')).status, 204);
    assert.equal((await call('DELETE', '/storage/v1/b/hb1')).status, 204);
    assert.equal((await call('GET', '/storage/v1/b/hb1')).status, 404);
  });

  test('preconditions: ifGenerationMatch=0 on upload, generation-matched delete, 416 past the end', async () => {
    await call('POST', '/storage/v1/b', { body: JSON.stringify({ name: 'hb2' }) });
    assert.equal((await media('hb2', 'p', 'one', '&ifGenerationMatch=0')).status, 200);
    assert.equal((await media('hb2', 'p', 'two', '&ifGenerationMatch=0')).status, 412);
    const meta = await (await call('GET', '/storage/v1/b/hb2/o/p')).json() as { generation: string };
    assert.equal((await call('DELETE', `/storage/v1/b/hb2/o/p?ifGenerationMatch=${BigInt(meta.generation) + 1n}`)).status, 412);
    const got = await call('GET', '/storage/v1/b/hb2/o/p?alt=media', { headers: { range: 'bytes=3-9' } });
    assert.equal(got.status, 416);
    assert.equal((await call('DELETE', `/storage/v1/b/hb2/o/p?ifGenerationMatch=${meta.generation}`)).status, 204);
    assert.equal((await call('GET', '/storage/v1/b/hb2/o/p')).status, 404);
  });

  test('resumable upload in several chunks: 308 with Range, status query, 256 KiB granularity', async () => {
    await call('POST', '/storage/v1/b', { body: JSON.stringify({ name: 'hb3' }) });
    const init = await call('POST', '/upload/storage/v1/b/hb3/o?uploadType=resumable&name=r&ifGenerationMatch=0', { body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(init.status, 200);
    const session = init.headers.get('location') as string;
    const chunk = 256 * 1024;
    const data = Buffer.alloc(chunk * 2 + 10, 7);
    const put = (range: string, body?: Uint8Array) => fetch(session, { method: 'PUT', headers: { 'content-range': range }, body });
    assert.equal((await put(`bytes 0-9/*`, data.subarray(0, 10))).status, 400, 'a short non-final chunk is refused');
    const first = await put(`bytes 0-${chunk - 1}/*`, data.subarray(0, chunk));
    assert.equal(first.status, 308);
    assert.equal(first.headers.get('range'), `bytes=0-${chunk - 1}`);
    const status = await put('bytes */*');
    assert.equal(status.status, 308);
    assert.equal(status.headers.get('range'), `bytes=0-${chunk - 1}`);
    assert.equal((await put(`bytes ${chunk}-${2 * chunk - 1}/*`, data.subarray(chunk, 2 * chunk))).status, 308);
    assert.equal((await put(`bytes ${2 * chunk}-${data.length - 1}/${data.length}`, data.subarray(2 * chunk))).status, 200);
    const back = Buffer.from(await (await call('GET', '/storage/v1/b/hb3/o/r?alt=media')).arrayBuffer());
    assert.ok(back.equals(data));
  });

  test('listing pages stay consistent when the next key is deleted between pages', async () => {
    await call('POST', '/storage/v1/b', { body: JSON.stringify({ name: 'hb4' }) });
    for (const k of ['a', 'b', 'c', 'd', 'e']) assert.equal((await media('hb4', k, k)).status, 200);
    const page1 = await (await call('GET', '/storage/v1/b/hb4/o?maxResults=2')).json() as { items: { name: string }[]; nextPageToken: string };
    assert.deepEqual(page1.items.map((o) => o.name), ['a', 'b']);
    assert.equal((await call('DELETE', '/storage/v1/b/hb4/o/c')).status, 204);
    const page2 = await (await call('GET', `/storage/v1/b/hb4/o?maxResults=2&pageToken=${page1.nextPageToken}`)).json() as { items: { name: string }[]; nextPageToken?: string };
    assert.deepEqual(page2.items.map((o) => o.name), ['d', 'e']);
    assert.equal(page2.nextPageToken, undefined);
  });
}
