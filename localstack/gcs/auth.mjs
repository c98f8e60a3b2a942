/* global Buffer */
// Credentials for the GCS front layer: a service-account key made for this run, and the check that
// every request carries a bearer token signed by it, as real GCS refuses unauthenticated calls.
// The Google SDK, given a service-account key file and no user scopes, sends a self-signed JWT
// (RS256, iss = sub = client_email, aud = the API origin): that is what is verified here.
import { generateKeyPairSync, verify, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a service-account key file to `dir`; returns `{ path, check(req), federation }`. */
export function createCredentials(dir, projectId, port) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `cairn-test@${projectId}.iam.gserviceaccount.com`;
  const key = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: email,
    client_id: '1',
    token_uri: 'http://127.0.0.1:1/token', // never used: the SDK signs its own JWTs here
  };
  const path = join(dir, 'service-account.json');
  writeFileSync(path, JSON.stringify(key), { mode: 0o600 });
  const federation = createFederation(dir, projectId, port);
  return {
    path,
    federation,
    check: (req) => checkBearer(req.headers.authorization, publicKey, email) || federation.accepts(req.headers.authorization),
  };
}

/**
 * Workload identity federation, as GitHub Actions uses it: an `external_account` credential file
 * whose subject token (the CI's OIDC token) is read from a file and exchanged at the Security
 * Token Service (`token_url`, served here at POST /v1/token instead of sts.googleapis.com) for a
 * short-lived access token, then sent as `Bearer`. The STS checks the audience (the workload
 * identity provider) and the subject token; only tokens it issued are accepted afterwards.
 */
function createFederation(dir, projectId, port) {
  const audience = `//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/cairn-ci/providers/${projectId}`;
  const subjectToken = `eyJ.${randomBytes(24).toString('base64url')}.oidc`;
  const subjectPath = join(dir, 'oidc-token');
  writeFileSync(subjectPath, subjectToken, { mode: 0o600 });
  const path = join(dir, 'external-account.json');
  writeFileSync(path, JSON.stringify({
    type: 'external_account',
    audience,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: `http://127.0.0.1:${port}/v1/token`,
    credential_source: { file: subjectPath },
  }), { mode: 0o600 });
  const issued = new Set();
  const stats = { issued: 0, refused: 0 };
  /** The STS token exchange (RFC 8693): `form` is the POST body's parameters. */
  const exchange = (form) => {
    const ok = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:token-exchange'
      && form.get('audience') === audience && form.get('subject_token') === subjectToken
      && form.get('subject_token_type') === 'urn:ietf:params:oauth:token-type:jwt';
    if (!ok) { stats.refused += 1; return { status: 400, body: { error: 'invalid_grant', error_description: 'The audience or subject token is invalid.' } }; }
    const token = `ya29.cairn-${randomBytes(24).toString('base64url')}`;
    issued.add(token);
    stats.issued += 1;
    return { status: 200, body: { access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 } };
  };
  return { path, subjectPath, stats, exchange, accepts: (header) => issued.has(/^Bearer (\S+)$/.exec(header ?? '')?.[1]) };
}

/** True when `header` is `Bearer <JWT>` signed by `publicKey` for `email` and not expired. */
function checkBearer(header, publicKey, email) {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
  if (!m) return false;
  try {
    const ok = verify('RSA-SHA256', Buffer.from(`${m[1]}.${m[2]}`), publicKey, Buffer.from(m[3], 'base64url'));
    if (!ok) return false;
    const claims = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8'));
    return claims.iss === email && typeof claims.exp === 'number' && claims.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}
