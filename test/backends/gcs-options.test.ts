/** The GCS backend's URL options and error translation, without a server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGcsUrl, translateError } from '../../backends/gcs/index.js';
import {
  AlreadyExistsError, BackendError, InvalidRangeError, NotFoundError, PermissionError, TransientError,
} from '../../src/store/errors.js';

const parse = (url: string, env: NodeJS.ProcessEnv = {}) => parseGcsUrl(new URL(url), env);
const refused = (url: string, env: NodeJS.ProcessEnv = {}) => assert.throws(() => parse(url, env), BackendError);

test('bucket, prefix and defaults', () => {
  const c = parse('gs://my-bucket/some/root/');
  assert.equal(c.bucket, 'my-bucket');
  assert.equal(c.prefix, 'some/root/');
  assert.equal(c.endpoint, undefined);
  assert.equal(c.authenticate, true);
  assert.equal(c.pageSize, 1000);
  assert.equal(c.resumableThreshold, 32 * 1024 * 1024);
  assert.equal(c.chunkSize, 16 * 1024 * 1024);
  assert.equal(parse('gs://my-bucket').prefix, '');
});

test('endpoint from the URL or STORAGE_EMULATOR_HOST; anonymous unless a key file is named', () => {
  const c = parse('gs://b1b/r?endpoint=http://127.0.0.1:9000/ignored-path&page-size=10&project=p1');
  assert.equal(c.endpoint, 'http://127.0.0.1:9000');
  assert.equal(c.authenticate, false);
  assert.equal(c.pageSize, 10);
  assert.equal(c.projectId, 'p1');
  const e = parse('gs://b1b/r', { STORAGE_EMULATOR_HOST: 'localhost:4443', GOOGLE_APPLICATION_CREDENTIALS: '/k.json' });
  assert.equal(e.endpoint, 'http://localhost:4443');
  assert.equal(e.authenticate, true);
  assert.equal(e.keyFilename, '/k.json');
  assert.equal(parse('gs://b1b/r?endpoint=https://private.example&auth=default').authenticate, true);
});

test('bad options are refused, never guessed', () => {
  refused('gs://B_ad/r');
  refused('gs://b1b/r?page-size=0');
  refused('gs://b1b/r?page-size=1001');
  refused('gs://b1b/r?chunk-size=1000');
  refused('gs://b1b/r?endpoint=ftp://x');
  refused('gs://b1b/r?auth=none'); // anonymous against the public service
  refused('s3://b1b/r');
});

test('translateError maps statuses and socket errors to the store vocabulary', () => {
  const http = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
  assert.ok(translateError(http(404), 'k') instanceof NotFoundError);
  assert.ok(translateError(http(412), 'k') instanceof AlreadyExistsError);
  assert.ok(translateError(http(409), 'k') instanceof AlreadyExistsError);
  assert.ok(translateError(http(401)) instanceof PermissionError);
  assert.ok(translateError(http(403)) instanceof PermissionError);
  assert.ok(translateError(http(416)) instanceof InvalidRangeError);
  for (const code of [408, 429, 500, 502, 503]) assert.ok(translateError(http(code)) instanceof TransientError, String(code));
  assert.ok(translateError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })) instanceof TransientError);
  assert.ok(translateError(new Error('y', { cause: Object.assign(new Error('z'), { code: 'ECONNRESET' }) })) instanceof TransientError);
  const grant = Object.assign(new Error('invalid_grant'), { response: { status: 400, data: { error: 'invalid_grant' } } });
  assert.ok(translateError(grant) instanceof PermissionError);
  const other = translateError(http(400), 'k');
  assert.equal(other.constructor, BackendError);
  assert.equal(other.key, 'k');
  assert.equal(other.backend, 'gcs');
});
