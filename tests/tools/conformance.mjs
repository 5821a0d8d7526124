// Drives a running Identity Server through third-party OAuth clients only (oauth4webapi, openid-client, jose), as the
// product's users do. Run by ThirdPartyClientTests; the environment names the server, its clients and a user.
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import assert from 'node:assert/strict';

const env = (name) => process.env[name] ?? assert.fail(`${name} is not set`);
const issuer = new URL(env('ISSUER'));
const confidential = { client_id: env('CONFIDENTIAL_ID') };
const confidentialSecret = env('CONFIDENTIAL_SECRET');
const spa = { client_id: env('PUBLIC_ID') };
const codeClientId = env('CODE_CLIENT_ID');
const redirectUri = env('REDIRECT_URI');
const user = { name: env('USERNAME'), password: env('PASSWORD'), id: env('USER_ID') };
const audience = env('API_AUDIENCE');
const insecure = { [oauth.allowInsecureRequests]: true };

let failures = 0, passes = 0;
async function check(name, fn) {
  try { await fn(); passes++; console.log(`ok - ${name}`); }
  catch (error) { failures++; console.log(`not ok - ${name}\n  ${error?.stack ?? error}`); }
}

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
const jwks = createRemoteJWKSet(new URL(as.jwks_uri));

async function passwordGrant(scope = 'openid profile email offline_access') {
  const response = await oauth.genericTokenEndpointRequest(as, spa, oauth.None(), 'password',
    new URLSearchParams({ username: user.name, password: user.password, scope }), insecure);
  return oauth.processGenericTokenEndpointResponse(as, spa, response);
}

await check('discovery document is accepted by oauth4webapi', async () => {
  assert.equal(as.issuer, issuer.href);
  assert.ok(as.token_endpoint && as.jwks_uri && as.introspection_endpoint && as.revocation_endpoint && as.userinfo_endpoint);
});

await check('client_credentials (client_secret_basic) gives an RFC 9068 JWT that jose verifies', async () => {
  const response = await oauth.clientCredentialsGrantRequest(as, confidential, oauth.ClientSecretBasic(confidentialSecret),
    new URLSearchParams({ scope: 'api1' }), insecure);
  const tokens = await oauth.processClientCredentialsResponse(as, confidential, response);
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: as.issuer, audience, typ: 'at+jwt' });
  assert.equal(protectedHeader.typ, 'at+jwt');
  for (const claim of ['iss', 'sub', 'aud', 'client_id', 'scope', 'exp', 'iat', 'nbf', 'jti']) assert.ok(payload[claim] !== undefined, claim);
  assert.equal(payload.client_id, confidential.client_id);
});

await check('an access token passes oauth4webapi validateJwtAccessToken (resource server)', async () => {
  const response = await oauth.clientCredentialsGrantRequest(as, confidential, oauth.ClientSecretPost(confidentialSecret),
    new URLSearchParams({ scope: 'api1' }), insecure);
  const { access_token } = await oauth.processClientCredentialsResponse(as, confidential, response);
  const request = new Request('https://api.example.test/resource', { headers: { authorization: `Bearer ${access_token}` } });
  const claims = await oauth.validateJwtAccessToken(as, request, audience, insecure);
  assert.equal(claims.client_id, confidential.client_id);
});

await check('password grant, refresh with rotation, userinfo (oauth4webapi)', async () => {
  const first = await passwordGrant();
  assert.ok(first.refresh_token && first.id_token);
  const claims = oauth.getValidatedIdTokenClaims(first);
  assert.equal(claims.sub, user.id);
  const refreshed = await oauth.processRefreshTokenResponse(as, spa,
    await oauth.refreshTokenGrantRequest(as, spa, oauth.None(), first.refresh_token, insecure));
  assert.notEqual(refreshed.refresh_token, first.refresh_token);
  const info = await oauth.processUserInfoResponse(as, spa, user.id,
    await oauth.userInfoRequest(as, spa, refreshed.access_token, insecure));
  assert.equal(info.sub, user.id);
  assert.ok(info.email);
});

await check('revoking the refresh token (RFC 7009) ends the session', async () => {
  const tokens = await passwordGrant();
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, spa, oauth.None(), tokens.refresh_token, insecure));
  await assert.rejects(
    oauth.processRefreshTokenResponse(as, spa, await oauth.refreshTokenGrantRequest(as, spa, oauth.None(), tokens.refresh_token, insecure)),
    (error) => error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant');
  const introspected = await oauth.processIntrospectionResponse(as, confidential,
    await oauth.introspectionRequest(as, confidential, oauth.ClientSecretBasic(confidentialSecret), tokens.access_token, insecure));
  assert.equal(introspected.active, false);
});

await check('introspection (RFC 7662) describes an active token', async () => {
  const tokens = await passwordGrant('openid api1');
  const result = await oauth.processIntrospectionResponse(as, confidential,
    await oauth.introspectionRequest(as, confidential, oauth.ClientSecretBasic(confidentialSecret), tokens.access_token, insecure));
  assert.equal(result.active, true);
  assert.equal(result.sub, user.id);
  assert.equal(result.client_id, spa.client_id);
});

await check('openid-client: discovery, client_credentials, introspection, revocation', async () => {
  const config = await client.discovery(issuer, confidential.client_id, confidentialSecret, undefined, { execute: [client.allowInsecureRequests] });
  const tokens = await client.clientCredentialsGrant(config, { scope: 'api1' });
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);
  await client.tokenRevocation(config, tokens.access_token);
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
  assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'RS256');
});

await check('openid-client: authorization code + PKCE, login page, id_token with nonce, iss parameter', async () => {
  const config = await client.discovery(issuer, codeClientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState(), nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid profile offline_access', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await signInThroughPages(url);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  assert.equal(tokens.claims().sub, user.id);
  assert.ok(tokens.refresh_token);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  const info = await client.fetchUserInfo(config, refreshed.access_token, user.id);
  assert.equal(info.sub, user.id);
});

/** A person's sign-in, done with fetch and a cookie jar: authorize → login page (anti-forgery) → back → callback. */
async function signInThroughPages(start) {
  const cookies = new Map();
  const remember = (response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const [name, ...value] = pair.split('=');
      cookies.set(name.trim(), value.join('='));
    }
  };
  const get = async (url) => {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    remember(response);
    return response;
  };
  let response = await get(start);
  assert.equal(response.status, 302);
  let location = new URL(response.headers.get('location'), issuer);
  const loginPage = await get(location);
  const html = await loginPage.text();
  const token = html.match(/name="__RequestVerificationToken" type="hidden" value="([^"]+)"/)?.[1] ?? assert.fail('no anti-forgery token');
  const returnUrl = location.searchParams.get('returnUrl') ?? location.searchParams.get('ReturnUrl');
  response = await fetch(location, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    body: new URLSearchParams({ UserName: user.name, Password: user.password, ReturnUrl: returnUrl, __RequestVerificationToken: token }),
  });
  remember(response);
  assert.equal(response.status, 302, `login answered ${response.status}`);
  response = await get(new URL(response.headers.get('location'), issuer));
  assert.equal(response.status, 302);
  const callback = new URL(response.headers.get('location'));
  assert.ok(callback.href.startsWith(redirectUri), `redirected to ${callback.href}`);
  return callback;
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
