#!/usr/bin/env python3
"""Seeds a running server through its public API: users through registration, access tokens and fresh refresh tokens
through the token endpoint. A fresh refresh token costs a password grant (the configured 210,000 PBKDF2 iterations,
about 80 ms of CPU): refresh tokens are OpenIddict reference tokens whose payload is sealed with the server's own key,
so they cannot be written as rows from outside, and the refresh scenario needs two fresh tokens per connection for
every run (wrk then chains each response's successor).

usage: seed.py BASE_URL DATA_DIR users N           -> users.txt ("name<TAB>password")
       seed.py BASE_URL DATA_DIR access N          -> access.txt (N access tokens: a few sign-ins, then refresh chains)
       seed.py BASE_URL DATA_DIR refresh THREADS N -> refresh-<i>.txt (N fresh refresh tokens per wrk thread)
SEED_SCOPE overrides the scopes of the password grants (stock OpenIddict's API scope is "api", ours "api1").
"""
import json, os, sys, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, data, what = sys.argv[1].rstrip('/'), sys.argv[2], sys.argv[3]
PASSWORD = 'Bench passphrase 2 that is long enough'


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
                                   'scope': os.environ.get('SEED_SCOPE', 'openid profile email offline_access api1')})


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
        # Two workers: one per core, and each grant is mostly hashing on the server.
        with ThreadPoolExecutor(2) as pool:
            tokens = list(pool.map(lambda i: sign_in(i)['refresh_token'], range(threads * count)))
        for t in range(threads):
            with open(f'{data}/refresh-{t}.txt', 'w') as f:
                f.writelines(x + '\n' for x in tokens[t * count:(t + 1) * count])
