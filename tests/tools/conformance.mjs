// Drives a running Identity Server through third-party OAuth clients only (oauth4webapi, openid-client, jose), as the
// product's users do. Run by ThirdPartyClientTests; the environment names the server, its clients and a user.
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, decodeJwt, importJWK, generateKeyPair } from 'jose';
import assert from 'node:assert/strict';

const env = (name) => process.env[name] ?? assert.fail(`${name} is not set`);
const issuer = new URL(env('ISSUER'));
const confidential = { client_id: env('CONFIDENTIAL_ID') };
const confidentialSecret = env('CONFIDENTIAL_SECRET');
const spa = { client_id: env('PUBLIC_ID') };
const codeClientId = env('CODE_CLIENT_ID');
const redirectUri = env('REDIRECT_URI');
const postLogoutRedirectUri = env('POST_LOGOUT_REDIRECT_URI');
const user = { name: env('USERNAME'), password: env('PASSWORD'), id: env('USER_ID') };
const audience = env('API_AUDIENCE');
const insecure = { [oauth.allowInsecureRequests]: true };
// Further grants (issue 19): a confidential client with only a key set (private_key_jwt, token exchange), a public TV.
const keyClient = { client_id: env('KEY_CLIENT_ID') };
const privateJwk = JSON.parse(env('KEY_PRIVATE_JWK'));
const keyClientKey = { key: await importJWK(privateJwk, 'ES256'), kid: privateJwk.kid };
const tvClient = { client_id: env('DEVICE_CLIENT_ID') };
const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

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

await check('openid-client: RP-initiated logout; the session\'s id_token returns at once with state, without one the person is asked first', async () => {
  const config = await client.discovery(issuer, codeClientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier(), state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const jar = browser();
  const back = await jar.get(await logIn(jar, await jar.get(url)));
  const tokens = await client.authorizationCodeGrant(config, new URL(back.headers.get('location')), { pkceCodeVerifier: verifier, expectedState: state });

  const unhinted = await jar.get(client.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri, state: 'bye' }));
  assert.equal(unhinted.status, 302);
  assert.equal(new URL(unhinted.headers.get('location'), issuer).pathname, '/account/logout', 'asked before the session ends');
  const hinted = await jar.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: postLogoutRedirectUri, state: 'bye' }));
  assert.equal(hinted.status, 302);
  assert.equal(hinted.headers.get('location'), `${postLogoutRedirectUri}?state=bye`);
  const forged = await jar.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token.slice(0, -4) + 'AAAA', post_logout_redirect_uri: postLogoutRedirectUri }));
  assert.equal(forged.status, 400, 'a forged hint is refused');
  assert.equal(forged.headers.get('location'), null);
});

await check('oauth4webapi: pushed authorization request (RFC 9126), login page, code; the request_uri works once', async () => {
  const client = { client_id: codeClientId };
  const verifier = oauth.generateRandomCodeVerifier();
  const pushed = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, oauth.None(),
    new URLSearchParams({ response_type: 'code', redirect_uri: redirectUri, scope: 'openid', state: 'par-state',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }), insecure));
  assert.equal(pushed.expires_in, 60);
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({ client_id: client.client_id, request_uri: pushed.request_uri }).toString();
  const callback = await signInThroughPages(url);
  const parameters = oauth.validateAuthResponse(as, client, callback, 'par-state');
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), parameters, redirectUri, verifier, insecure));
  assert.equal(oauth.getValidatedIdTokenClaims(tokens).sub, user.id);
  const again = await fetch(url, { redirect: 'manual' });
  assert.equal(again.status, 400, 'a used request_uri is refused');
});

await check('openid-client: buildAuthorizationUrlWithPAR, code + PKCE', async () => {
  const config = await client.discovery(issuer, codeClientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri, scope: 'openid profile', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  const tokens = await client.authorizationCodeGrant(config, await signInThroughPages(url), { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.claims().sub, user.id);
});

await check('openid-client: device authorization grant (RFC 8628), the person allowing on /connect/verify', async () => {
  const config = await client.discovery(issuer, tvClient.client_id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const started = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
  assert.equal(started.interval, 5);
  const polling = client.pollDeviceAuthorizationGrant(config, started);
  await decideOnVerificationPage(started.verification_uri_complete, 'allow');
  const tokens = await polling;
  assert.equal(tokens.claims().sub, user.id);
  assert.ok(tokens.refresh_token);
});

await check('oauth4webapi: device authorization grant; a device code polled after the person denied is access_denied', async () => {
  const started = await oauth.processDeviceAuthorizationResponse(as, tvClient,
    await oauth.deviceAuthorizationRequest(as, tvClient, oauth.None(), new URLSearchParams({ scope: 'openid' }), insecure));
  const poll = () => oauth.deviceCodeGrantRequest(as, tvClient, oauth.None(), started.device_code, insecure)
    .then((response) => oauth.processDeviceCodeResponse(as, tvClient, response));
  await assert.rejects(poll(), (error) => error instanceof oauth.ResponseBodyError && error.error === 'authorization_pending');
  await assert.rejects(poll(), (error) => error instanceof oauth.ResponseBodyError && error.error === 'slow_down');
  await decideOnVerificationPage(started.verification_uri_complete, 'deny');
  await assert.rejects(poll(), (error) => error instanceof oauth.ResponseBodyError && error.error === 'access_denied');
});

await check('private_key_jwt (RFC 7523): openid-client and oauth4webapi; a replayed assertion and a stranger\'s key are invalid_client', async () => {
  const config = await client.discovery(issuer, keyClient.client_id, undefined, client.PrivateKeyJwt(keyClientKey), { execute: [client.allowInsecureRequests] });
  assert.ok(config.serverMetadata().token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(config.serverMetadata().token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'api1' });
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);

  const grant = (auth) => oauth.clientCredentialsGrantRequest(as, keyClient, auth, new URLSearchParams({ scope: 'api1' }), insecure)
    .then((response) => oauth.processClientCredentialsResponse(as, keyClient, response));
  assert.ok((await grant(oauth.PrivateKeyJwt(keyClientKey))).access_token);
  const sameJti = oauth.PrivateKeyJwt(keyClientKey, { [oauth.modifyAssertion]: (_header, payload) => { payload.jti = 'used-once'; } });
  await grant(sameJti);
  // 401 invalid_client; OpenIddict adds WWW-Authenticate: Basic to it (RFC 6749 §5.2 allows it), which oauth4webapi reports as a challenge.
  const invalidClient = (error) => error instanceof oauth.WWWAuthenticateChallengeError && error.status === 401
    && error.cause.some((challenge) => challenge.parameters.error === 'invalid_client');
  await assert.rejects(grant(sameJti), invalidClient);
  const stranger = await generateKeyPair('ES256');
  await assert.rejects(grant(oauth.PrivateKeyJwt({ key: stranger.privateKey, kid: privateJwk.kid })), invalidClient);
});

await check('oauth4webapi: token exchange (RFC 8693) with private_key_jwt; act names the actor; a wider scope is invalid_scope', async () => {
  const subject = await passwordGrant('openid api1');
  const actor = await oauth.processClientCredentialsResponse(as, keyClient,
    await oauth.clientCredentialsGrantRequest(as, keyClient, oauth.PrivateKeyJwt(keyClientKey), new URLSearchParams({ scope: 'api1' }), insecure));
  const exchange = (parameters) => oauth.genericTokenEndpointRequest(as, keyClient, oauth.PrivateKeyJwt(keyClientKey), tokenExchange,
    new URLSearchParams({ subject_token: subject.access_token, subject_token_type: accessTokenType, ...parameters }), insecure)
    .then((response) => oauth.processGenericTokenEndpointResponse(as, keyClient, response));
  const exchanged = await exchange({ scope: 'api1', audience, actor_token: actor.access_token, actor_token_type: accessTokenType });
  assert.equal(exchanged.issued_token_type, accessTokenType);
  const { payload } = await jwtVerify(exchanged.access_token, jwks, { issuer: as.issuer, audience, typ: 'at+jwt' });
  assert.equal(payload.sub, user.id);
  assert.equal(payload.act.sub, keyClient.client_id);
  assert.equal(payload.scope, 'api1');
  await assert.rejects(exchange({ scope: 'api1 profile' }), (error) => error instanceof oauth.ResponseBodyError && error.error === 'invalid_scope');
});

/** A cookie jar and fetch that does not follow redirects, for driving the pages as a person's browser would. */
function browser() {
  const cookies = new Map();
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair.split('=');
      cookies.set(name.trim(), value.join('='));
    }
    return response;
  };
  return {
    get: async (url) => remember(await fetch(url, { redirect: 'manual', headers: { cookie: header() } })),
    post: async (url, form) => remember(await fetch(url, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: header() }, body: new URLSearchParams(form),
    })),
  };
}

function antiforgery(html) {
  return html.match(/name="__RequestVerificationToken" type="hidden" value="([^"]+)"/)?.[1] ?? assert.fail('no anti-forgery token');
}

/** From a page that sent the person to the login page: signs in there and answers where the login page sends them back. */
async function logIn(jar, toLogin) {
  assert.equal(toLogin.status, 302);
  const location = new URL(toLogin.headers.get('location'), issuer);
  const html = await (await jar.get(location)).text();
  const returnUrl = location.searchParams.get('returnUrl') ?? location.searchParams.get('ReturnUrl');
  const response = await jar.post(location, { UserName: user.name, Password: user.password, ReturnUrl: returnUrl, __RequestVerificationToken: antiforgery(html) });
  assert.equal(response.status, 302, `login answered ${response.status}`);
  return new URL(response.headers.get('location'), issuer);
}

/** A person's sign-in, done with fetch and a cookie jar: authorize → login page (anti-forgery) → back → callback. */
async function signInThroughPages(start) {
  const jar = browser();
  const response = await jar.get(await logIn(jar, await jar.get(start)));
  assert.equal(response.status, 302);
  const callback = new URL(response.headers.get('location'));
  assert.ok(callback.href.startsWith(redirectUri), `redirected to ${callback.href}`);
  return callback;
}

/** The person at verification_uri_complete: signs in, sees the code and the client, and allows or denies. */
async function decideOnVerificationPage(verificationUriComplete, decision) {
  const jar = browser();
  const page = await jar.get(await logIn(jar, await jar.get(verificationUriComplete)));
  assert.equal(page.status, 200);
  const html = await page.text();
  const userCode = new URL(verificationUriComplete).searchParams.get('user_code');
  assert.ok(html.includes(`id="user-code">${userCode}<`), 'the page shows the code to compare');
  const answered = await jar.post(new URL('/connect/verify', issuer), { user_code: userCode, decision, __RequestVerificationToken: antiforgery(html) });
  assert.equal(answered.status, 302);
  assert.ok(answered.headers.get('location').includes(decision === 'allow' ? 'outcome=allowed' : 'outcome=denied'));
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
