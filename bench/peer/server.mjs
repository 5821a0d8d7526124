// The benchmark's peer: node-oidc-provider 9 with its default in-memory adapter (no database at all), configured like
// the scenarios it is measured in: client_credentials (JWT access tokens, RS256 or ES256, or opaque), introspection of
// opaque tokens, and refresh_token with rotation. Seed data comes from /seed on a second port, minted in process.
//   PEER_PORT, PEER_SEED_PORT, PEER_FORMAT = RS256 | ES256 | opaque
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PEER_PORT);
const format = process.env.PEER_FORMAT ?? 'opaque';
const issuer = `http://127.0.0.1:${port}`;
const resource = 'https://api.bench.test';
const jwk = (type, options) => generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'bench-cc', client_secret: 'bench-secret-bench-secret-bench-secret-0001', grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [] },
    { client_id: 'bench-spa', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'] },
  ],
  jwks: { keys: [{ ...jwk('rsa', { modulusLength: 2048 }), alg: 'RS256', use: 'sig' }, { ...jwk('ec', { namedCurve: 'P-256' }), alg: 'ES256', use: 'sig' }] },
  scopes: ['openid', 'offline_access', 'api1'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      // A resource (and so a JWT) only in the JWT runs; otherwise client_credentials tokens stay opaque.
      defaultResource: () => (format === 'opaque' ? undefined : resource),
      getResourceServerInfo: () => ({ scope: 'api1', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: format } } }),
    },
  },
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, ClientCredentials: 3600, RefreshToken: 86400, Grant: 86400 },
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});

async function seed(kind, n) {
  const out = [];
  if (kind === 'access') {
    const client = await provider.Client.find('bench-cc');
    for (let i = 0; i < n; i++) out.push(await new provider.ClientCredentials({ client, scope: 'api1' }).save());
  } else {
    const client = await provider.Client.find('bench-spa');
    for (let i = 0; i < n; i++) {
      const accountId = `user${i}`;
      const grant = new provider.Grant({ accountId, clientId: client.clientId });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      out.push(await new provider.RefreshToken({ accountId, client, grantId, gty: 'authorization_code', scope: 'openid offline_access',
        authTime: Math.floor(Date.now() / 1000), rotations: 0, expiresWithSession: false }).save());
    }
  }
  return out;
}

provider.listen(port, '127.0.0.1');
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    const tokens = await seed(url.pathname.slice(1), Number(url.searchParams.get('n') ?? 1));
    res.writeHead(200, { 'content-type': 'text/plain' }).end(tokens.join('\n') + '\n');
  } catch (error) {
    res.writeHead(500).end(String(error.stack));
  }
}).listen(Number(process.env.PEER_SEED_PORT), '127.0.0.1');
