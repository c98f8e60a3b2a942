/* global Buffer, URLSearchParams */
// A local Microsoft Entra ID token endpoint for Azurite's OAuth mode (start.mjs, CAIRN_AZURE_MODE=oauth):
// what @azure/identity's credentials talk to when AZURE_AUTHORITY_HOST points here. It serves the
// OpenID metadata MSAL reads, and issues an access token for `https://storage.azure.com/.default`
// only to the one client it knows: the client secret (environment service principal) or the
// federated token file's contents (workload identity) must match, else 401 `invalid_client`, as
// Entra ID answers. Azurite (`--oauth basic`) then checks the token's issuer, audience and
// lifetime (not its signature). `GET /_cairn/stats` reports how many tokens were issued and refused.
//
// Clients reach it as the real `https://login.microsoftonline.com` (the default authority, no
// AZURE_AUTHORITY_HOST): an HTTP CONNECT proxy beside it (HTTPS_PROXY, with NO_PROXY=127.0.0.1)
// tunnels that host, and only that host, to this server, whose certificate names it too (the
// client trusts it through NODE_EXTRA_CA_CERTS). So MSAL's own discovery and token requests run
// unchanged, as they would against Entra ID.
import { createServer } from 'node:https';
import { createServer as createHttpServer } from 'node:http';
import { connect } from 'node:net';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';

export const ENTRA_HOST = 'login.microsoftonline.com';

/** A CONNECT proxy on 127.0.0.1:`port` that tunnels ENTRA_HOST:443 to 127.0.0.1:`tokenPort` and refuses every other target. */
export function startEntraProxy({ port, tokenPort }) {
  const server = createHttpServer((req, res) => { res.writeHead(405).end(); });
  const sockets = new Set();
  server.on('connect', (req, client, head) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (req.url !== `${ENTRA_HOST}:443`) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const up = connect(tokenPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      client.pipe(up).pipe(client);
    });
    up.on('error', () => client.destroy());
    up.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    }));
  });
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/**
 * Starts on 127.0.0.1:`port` with TLS `cert`/`key`. `client`: `{ tenantId, clientId,
 * clientSecret, federatedToken }`. Resolves to `{ origin, close() }`.
 */
export function startTokenServer({ port, cert, key, client }) {
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const stats = { issued: 0, refused: 0 };
  const { tenantId } = client;

  const accessToken = () => {
    const now = Math.floor(Date.now() / 1000);
    const head = b64url({ alg: 'RS256', typ: 'JWT', kid: 'cairn-test' });
    const body = b64url({
      aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${tenantId}/`, iat: now - 5, nbf: now - 5, exp: now + 3600,
      appid: client.clientId, oid: randomUUID(), tid: tenantId, sub: client.clientId, ver: '1.0',
    });
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(signing).toString('base64url');
    return `${head}.${body}.${sig}`;
  };

  const send = (res, status, value) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const refuse = (res, error, description) => {
    stats.refused += 1;
    send(res, error === 'invalid_client' ? 401 : 400, { error, error_description: `AADSTS7000215: ${description}`, error_codes: [7000215] });
  };

  const server = createServer({ cert, key }, async (req, res) => {
    // Reached as 127.0.0.1:PORT or, through the proxy, as login.microsoftonline.com: links name the host asked for.
    const origin = `https://${req.headers.host ?? `127.0.0.1:${port}`}`;
    const url = new URL(req.url, origin);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const path = url.pathname;
    if (path === '/_cairn/stats') return send(res, 200, stats);
    if (path === '/common/discovery/instance') {
      return send(res, 200, {
        tenant_discovery_endpoint: `${origin}/${tenantId}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1',
        metadata: [{ preferred_network: url.host, preferred_cache: url.host, aliases: [url.host] }],
      });
    }
    if (path === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      return send(res, 200, {
        token_endpoint: `${origin}/${tenantId}/oauth2/v2.0/token`,
        authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${origin}/${tenantId}/oauth2/v2.0/logout`,
        device_authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/devicecode`,
        issuer: `${origin}/${tenantId}/v2.0`, jwks_uri: `${origin}/${tenantId}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'], token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
      });
    }
    if (req.method === 'POST' && path === `/${tenantId}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('grant_type') !== 'client_credentials') return refuse(res, 'unsupported_grant_type', 'only client_credentials is served here');
      if (form.get('client_id') !== client.clientId) return refuse(res, 'invalid_client', 'unknown client');
      const scope = form.get('scope') ?? '';
      if (!scope.split(' ').includes('https://storage.azure.com/.default')) return refuse(res, 'invalid_scope', `scope ${scope} is not served`);
      const bySecret = form.has('client_secret') && form.get('client_secret') === client.clientSecret;
      const byAssertion = form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        && client.federatedToken !== undefined && form.get('client_assertion') === client.federatedToken;
      if (!bySecret && !byAssertion) return refuse(res, 'invalid_client', 'invalid client secret or assertion');
      stats.issued += 1;
      return send(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken() });
    }
    return send(res, 404, { error: 'not_found', error_description: `${req.method} ${path} is not served by the cairn token server` });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ origin: `https://127.0.0.1:${port}`, stats, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) }));
  });
}
