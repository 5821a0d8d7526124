#!/usr/bin/env python3
"""Seeds a running server: users through registration, access tokens through the token endpoint, and fresh refresh
tokens as rows (SQL for psql on stdout), the way a password grant leaves them — each of those grants would spend the
configured 210,000 PBKDF2 iterations, and the refresh scenario needs two fresh tokens per connection for every run.

usage: seed.py BASE_URL DATA_DIR users N           -> users.txt ("name<TAB>password")
       seed.py BASE_URL DATA_DIR access N          -> access.txt (N access tokens: a few sign-ins, then refresh chains)
       seed.py BASE_URL DATA_DIR refresh THREADS N -> refresh-<i>.txt (N fresh refresh tokens per wrk thread); prints the
                                                      SQL that creates their authorizations and rows (pipe it to psql)
"""
import base64, hashlib, json, secrets, sys, urllib.parse, urllib.request, uuid
from concurrent.futures import ThreadPoolExecutor

base, data, what = sys.argv[1].rstrip('/'), sys.argv[2], sys.argv[3]
PASSWORD = 'bench passphrase that is long enough'


def post(path, body, content_type='application/x-www-form-urlencoded'):
    payload = json.dumps(body).encode() if content_type == 'application/json' else urllib.parse.urlencode(body).encode()
    request = urllib.request.Request(base + path, data=payload, headers={'Content-Type': content_type}, method='POST')
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
        return json.loads(text) if text else {}


def users():
    with open(f'{data}/users.txt') as f:
        return [line.rstrip('\n').split('\t') for line in f if line.strip()]


def sign_in(i):
    name, password = USERS[i % len(USERS)]
    return post('/connect/token', {'grant_type': 'password', 'client_id': 'bench-spa', 'username': name, 'password': password,
                                   'scope': 'openid profile email offline_access api1'})


if what == 'users':
    count = int(sys.argv[4])
    names = [f'bench{i}@bench.test' for i in range(count)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: post('/api/account/register', {'email': n, 'password': PASSWORD}, 'application/json'), names))
    with open(f'{data}/users.txt', 'w') as f:
        f.writelines(f'{n}\t{PASSWORD}\n' for n in names)
else:
    USERS = users()
    if what == 'access':
        count, chains = int(sys.argv[4]), 8
        def chain(i):
            # Every refresh returns a new access token and rotates the refresh token; the access tokens stay valid.
            grant, tokens = sign_in(i), []
            for _ in range(i, count, chains):
                tokens.append(grant['access_token'])
                grant = post('/connect/token', {'grant_type': 'refresh_token', 'client_id': 'bench-spa', 'refresh_token': grant['refresh_token']})
            return tokens
        with ThreadPoolExecutor(4) as pool:
            tokens = [t for c in pool.map(chain, range(chains)) for t in c]
        with open(f'{data}/access.txt', 'w') as f:
            f.writelines(t + '\n' for t in tokens)
    elif what == 'refresh':
        threads, count = int(sys.argv[4]), int(sys.argv[5])
        scopes = 'openid profile email offline_access api1'
        rows = []
        for t in range(threads):
            tokens = [base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b'=').decode() for _ in range(count)]
            with open(f'{data}/refresh-{t}.txt', 'w') as f:
                f.writelines(x + '\n' for x in tokens)
            rows += [(uuid.uuid4(), len(rows) + i, hashlib.sha256(x.encode()).hexdigest()) for i, x in enumerate(tokens)]
        values = ',\n'.join(f"('{family}'::uuid, {n}, '\\x{digest}'::bytea)" for family, n, digest in rows)
        print(f"""
WITH seed(family, n, hash) AS (VALUES {values}),
people AS (SELECT "Id", row_number() OVER (ORDER BY "Id") - 1 AS i, count(*) OVER () AS total FROM "AspNetUsers"),
families AS (
  INSERT INTO "Authorizations" ("Id", "ClientId", "SubjectId", "Scopes", "Kind", "Status", "CreatedAt", "ExpiresAt", "AuthenticatedAt")
  SELECT s.family, 'bench-spa', p."Id", '{scopes}', 'AdHoc', 'Valid', now(), now() + interval '30 days', now()
  FROM seed s JOIN people p ON p.i = s.n % p.total
  RETURNING "Id", "SubjectId")
INSERT INTO "Tokens" ("Id", "AuthorizationId", "ClientId", "SubjectId", "Type", "Status", "Hash", "Scopes", "CreatedAt", "ExpiresAt")
SELECT gen_random_uuid(), f."Id", 'bench-spa', f."SubjectId", 'RefreshToken', 'Valid', s.hash, '{scopes}', now(), now() + interval '7 days'
FROM families f JOIN seed s ON s.family = f."Id";""")
