#!/usr/bin/env python3
"""Seeds a running server through its public API only: users (registration), then tokens (password grant).

usage: seed.py BASE_URL DATA_DIR users N           -> users.txt ("name<TAB>password")
       seed.py BASE_URL DATA_DIR access N          -> access.txt (N access tokens)
       seed.py BASE_URL DATA_DIR refresh THREADS N -> refresh-<i>.txt (N fresh refresh tokens per wrk thread)
"""
import json, sys, urllib.parse, urllib.request
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
        count = int(sys.argv[4])
        with ThreadPoolExecutor(4) as pool:
            tokens = list(pool.map(sign_in, range(count)))
        with open(f'{data}/access.txt', 'w') as f:
            f.writelines(t['access_token'] + '\n' for t in tokens)
    elif what == 'refresh':
        threads, count = int(sys.argv[4]), int(sys.argv[5])
        with ThreadPoolExecutor(4) as pool:
            tokens = list(pool.map(sign_in, range(threads * count)))
        for t in range(threads):
            with open(f'{data}/refresh-{t}.txt', 'w') as f:
                f.writelines(x['refresh_token'] + '\n' for x in tokens[t * count:(t + 1) * count])
