/* global Buffer */
// Credentials for the GCS front layer: a service-account key made for this run, and the check that
// every request carries a bearer token signed by it, as real GCS refuses unauthenticated calls.
// The Google SDK, given a service-account key file and no user scopes, sends a self-signed JWT
// (RS256, iss = sub = client_email, aud = the API origin): that is what is verified here.
import { generateKeyPairSync, verify, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a service-account key file to `dir`; returns `{ path, check(req) }`. */
export function createCredentials(dir, projectId) {
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
  return { path, check: (req) => checkBearer(req.headers.authorization, publicKey, email) };
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
