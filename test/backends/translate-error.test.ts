/** Each backend's translateError: 501 is permanent, 429/5xx transient and carrying the service's Retry-After. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { translateError as s3 } from '../../backends/s3/translate-error.js';
import { translateError as gcs } from '../../backends/gcs/translate-error.js';
import { translateError as azure } from '../../backends/azure/translate-error.js';
import { readConfig as readAzureConfig } from '../../backends/azure/config.js';
import { translateError as sftp, SFTP_STATUS } from '../../backends/sftp/translate-error.js';
import { ArchivedObjectError, BackendError, RetainedObjectError, TransientError, UnsupportedStoreError, parseRetryAfter, retryAfterFromHeaders } from '../../src/store/index.js';

const permanent = (e: BackendError) => e instanceof BackendError && !e.transient && e.code === 'EBACKEND';
const unsupported = (e: BackendError) => e instanceof UnsupportedStoreError && !e.transient && e.code === 'ESTORE_UNSUPPORTED';

test('501 Not Implemented is permanent on every HTTP backend', () => {
  const ctx = { op: 'put', key: 'k', bucket: 'b' };
  // S3-compatible stores answer 501 to what they lack (If-None-Match on B2 and OSS): a store feature, not a failure.
  assert.ok(unsupported(s3(Object.assign(new Error('x'), { name: 'NotImplemented', $metadata: { httpStatusCode: 501 } }), ctx)));
  assert.ok(unsupported(s3(Object.assign(new Error('x'), { name: 'Unknown', $metadata: { httpStatusCode: 501 } }), { ...ctx, ifAbsent: true })));
  assert.ok(unsupported(gcs(Object.assign(new Error('x'), { code: 501 }), 'k')));
  assert.ok(permanent(azure(Object.assign(new Error('x'), { statusCode: 501 }), 'k', 'az://a/c')));
});

test('transient service errors carry the Retry-After the service sent', () => {
  const withHidden = (err: Error, name: string, value: unknown) => Object.defineProperty(err, name, { value, enumerable: false });
  const slowDown = withHidden(Object.assign(new Error('slow'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), '$response', { headers: { 'Retry-After': '7' } });
  const e1 = s3(slowDown, { op: 'put', key: 'k', bucket: 'b' });
  assert.ok(e1 instanceof TransientError && e1.code === 'ETRANSIENT');
  assert.equal(e1.retryAfterMs, 7000);
  const e2 = gcs(Object.assign(new Error('rate'), { code: 429, response: { status: 429, headers: { 'retry-after': '2' } } }), 'k');
  assert.ok(e2 instanceof TransientError && e2.retryAfterMs === 2000);
  const e3 = azure(withHidden(Object.assign(new Error('busy'), { statusCode: 503, code: 'ServerBusy' }), 'response', { headers: new Map([['retry-after', '3']]) }), 'k', 'az://a/c');
  assert.ok(e3 instanceof TransientError && e3.retryAfterMs === 3000);
  // Without the header: transient, no wait asked for.
  const e4 = s3(Object.assign(new Error('x'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }), { op: 'get', key: 'k', bucket: 'b' });
  assert.ok(e4 instanceof TransientError && e4.retryAfterMs === undefined);
  // Issue 15: a clock an hour off is a 403 RequestTimeTooSkewed; retried (the SDK corrects its clock offset), not an access error.
  const skewed = s3(Object.assign(new Error('skew'), { name: 'RequestTimeTooSkewed', $metadata: { httpStatusCode: 403 } }), { op: 'get', key: 'k', bucket: 'b' });
  assert.ok(skewed instanceof TransientError && skewed.code === 'ETRANSIENT', skewed.constructor.name);
  for (const name of ['RequestTimeout', 'SlowDown', 'InternalError']) assert.ok(s3(Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } }), { op: 'get', bucket: 'b' }).transient, name);
  for (const status of [429, 500, 502, 503, 504]) {
    assert.ok(gcs(Object.assign(new Error('x'), { code: status }), 'k').transient, `gcs ${status}`);
    assert.ok(azure(Object.assign(new Error('x'), { statusCode: status }), 'k', 'az://a/c').transient, `azure ${status}`);
  }
  assert.ok(azure(Object.assign(new Error('x'), { code: 'OperationTimedOut' }), 'k', 'az://a/c').transient);
  assert.ok(sftp(Object.assign(new Error('lost'), { code: SFTP_STATUS.CONNECTION_LOST }), 'k').transient);
});

test('Retry-After values: seconds, HTTP dates, Azure milliseconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(retryAfterFromHeaders({ 'x-ms-retry-after-ms': '250' }), 250);
  assert.equal(retryAfterFromHeaders({ 'RETRY-AFTER': '1' }), 1000);
  assert.equal(retryAfterFromHeaders(undefined), undefined);
});

test('archive tiers and retention are their own errors, not "check the credentials" or "already exists"', () => {
  const s3cold = s3(Object.assign(new Error('x'), { name: 'InvalidObjectState', $metadata: { httpStatusCode: 403 } }), { op: 'get', key: 'data/k', bucket: 'b' });
  assert.ok(s3cold instanceof ArchivedObjectError && s3cold.code === 'EARCHIVED' && !s3cold.transient);
  const archived = azure(Object.assign(new Error('x'), { statusCode: 409, details: { errorCode: 'BlobArchived' } }), 'data/k', 'az://a/c');
  assert.ok(archived instanceof ArchivedObjectError && archived.code === 'EARCHIVED');
  for (const errorCode of ['BlobImmutableDueToPolicy', 'BlobImmutableDueToLegalHold', 'ContainerImmutableDueToPolicy']) {
    const retained = azure(Object.assign(new Error('x'), { statusCode: 409, details: { errorCode } }), 'data/k', 'az://a/c');
    assert.ok(retained instanceof RetainedObjectError && retained.code === 'ERETAINED' && !retained.transient, errorCode);
  }
  // A plain 409 on a conditional create is still "exists".
  assert.equal(azure(Object.assign(new Error('x'), { statusCode: 409, details: { errorCode: 'BlobAlreadyExists' } }), 'k', 'az://a/c').code, 'EALREADY_EXISTS');
});

test('archive tiers are refused as the storage class of a repository (it would be write-only)', () => {
  assert.throws(() => readAzureConfig(new URL('az://acct/cont/p?tier=archive'), { AZURE_STORAGE_KEY: 'a2V5' }), (err) => (err as BackendError).code === 'EINVALID_URL');
  assert.equal(readAzureConfig(new URL('az://acct/cont/p?tier=cold'), { AZURE_STORAGE_KEY: 'a2V5' }).tier, 'Cold');
});

test('gcs: a fetch timeout (no status, no errno; node-fetch under gaxios) is a transient TimeoutError, not permanent', () => {
  const fetchTimeout = Object.assign(new Error('network timeout at: http://127.0.0.1:9/storage/v1/b/x/o'), { name: 'FetchError', type: 'request-timeout' });
  const wrapped = Object.assign(new Error(fetchTimeout.message), { name: 'GaxiosError', error: fetchTimeout });
  for (const err of [fetchTimeout, wrapped, Object.assign(new Error('Response timeout while trying to fetch http://x (over 60000ms)'), { type: 'body-timeout' })]) {
    const e = gcs(err, 'data/k');
    assert.ok(e instanceof TransientError && e.code === 'ETIMEOUT', (err as Error).name);
  }
});

test('azure: Entra ID sign-in failures are one-line EPERMISSION (429/5xx from Entra ID transient); auth= picks the credential', () => {
  for (const name of ['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError']) {
    const e = azure(Object.assign(new Error('line one\nline two with details'), { name }), 'config', 'az://a/c', 'entra');
    assert.equal(e.code, 'EPERMISSION', name);
    assert.ok(!e.transient && !e.message.includes('\n') && !e.message.includes('line two'), e.message);
  }
  assert.ok(azure(Object.assign(new Error('x'), { name: 'AuthenticationError', statusCode: 503 }), 'config', 'az://a/c', 'entra').transient);
  // A data-plane 403 with a token: the hint is about the role, not about keys.
  assert.match(azure(Object.assign(new Error('x'), { statusCode: 403, code: 'AuthorizationPermissionMismatch' }), 'k', 'az://a/c', 'entra').message, /Storage Blob Data Contributor/);
  const url = (q = '') => new URL(`az://acct/cont/p${q}`);
  assert.equal(readAzureConfig(url(), {}).auth, 'entra', 'no shared credential: Entra ID');
  assert.equal(readAzureConfig(url(), { AZURE_STORAGE_KEY: 'a2V5' }).auth, 'shared');
  assert.equal(readAzureConfig(url('?auth=entra'), { AZURE_STORAGE_KEY: 'a2V5' }).auth, 'entra');
  assert.throws(() => readAzureConfig(url('?auth=shared'), {}), (err) => (err as BackendError).code === 'EBACKEND');
  assert.throws(() => readAzureConfig(url('?auth=oauth'), {}), (err) => (err as BackendError).code === 'EINVALID_URL');
  assert.throws(() => readAzureConfig(url('?endpoint=http://127.0.0.1:1/acct'), {}), (err) => (err as BackendError).code === 'EINVALID_URL');
});
