#!/usr/bin/env python3
"""Turns the raw measurements (results.jsonl) into bench/results/latest.json and a markdown table."""
import json, statistics, sys

raw, out_json = sys.argv[1], sys.argv[2]
scenarios, ceilings, peer_runs, extra = {}, {}, {}, {}
for line in open(raw):
    record = json.loads(line)
    kind = record.pop('kind')
    if kind == 'run':
        scenarios.setdefault((record['scenario'], record['connections']), []).append(record)
    elif kind == 'ceiling':
        ceilings[record['name']] = record['rps']
    elif kind == 'peer':
        peer_runs.setdefault((record.get('peer', 'node'), record['name']), []).append(record)
    else:
        extra[record['name']] = record['value']

def median(runs, key):
    return round(statistics.median(r[key] for r in runs), 2)

# The peers are measured at 32 connections, like the reference figures; their non-2xx responses are reported too.
# "node": node-oidc-provider (in memory); "stock": stock OpenIddict 7.8 on EF Core and the same PostgreSQL cluster.
PEERS = {'node': 'node-oidc-provider', 'stock': 'stock OpenIddict'}
peers = {p: {name: median(runs, 'rps') for (q, name), runs in sorted(peer_runs.items()) if q == p} for p in PEERS}
peer = peers['node']
peer_detail = {f'{p} {name}': {'p50_ms': median(runs, 'p50_ms'), 'p99_ms': median(runs, 'p99_ms'),
                               'non2xx': sum(r['non2xx'] + r['socket_errors'] for r in runs)} for (p, name), runs in peer_runs.items()}

table, summary = [], {}
for (name, connections), runs in sorted(scenarios.items()):
    row = {k: median(runs, k) for k in ('rps', 'p50_ms', 'p99_ms', 'cpu_cores')}
    row['db_cpu_cores'] = median(runs, 'db_cpu_cores') if all('db_cpu_cores' in r for r in runs) else None
    row.update(non2xx=sum(r['non2xx'] + r['socket_errors'] for r in runs), server_peak_rss_mb=max(r['server_peak_rss_mb'] for r in runs),
               connections=connections, runs=len(runs))
    table.append((name, row))
    # latest.json keeps the issue's shape: one entry per scenario, at 32 connections (the reference figures' setting).
    if connections == 32 or name not in summary:
        summary[name] = {k: row[k] for k in ('rps', 'p50_ms', 'p99_ms', 'non2xx', 'server_peak_rss_mb', 'cpu_cores', 'db_cpu_cores')}

ceiling_of = {
    'password': ('password_hash_verify_total', 'hash verify, all cores'),
    'refresh': ('pg_select_insert_tx', 'SELECT+INSERT tx'),
    'client_credentials_rs256': ('rs256_sign_total', 'RS256 sign, all cores'),
    'client_credentials_es256': ('pg_select_insert_tx', 'SELECT+INSERT tx'),
    'introspection': ('pg_select', 'indexed SELECT'),
    'userinfo': ('pg_select', 'indexed SELECT'),
    'discovery': ('kestrel_hello', 'Kestrel /health/live'),
}
ratios = {name: {p: round(row['rps'] / peers[p][name], 2) for p in PEERS if peers[p].get(name)} for name, row in summary.items()}
json.dump({'scenarios': summary, 'ceilings': ceilings, 'peer': peer, 'peer_openiddict_stock': peers['stock'], 'ratios': ratios,
           'extra': {**extra, 'peer_detail': peer_detail}}, open(out_json, 'w'), indent=2)

print('| scenario | conns | ours rps | p50 ms | p99 ms | non-2xx | server CPU cores | CPU ms/request | PostgreSQL CPU cores | peak RSS MB | ceiling (rps) | ratio to ceiling '
      '| node-oidc-provider rps (32 conns) | ratio | stock OpenIddict rps (32 conns) | ratio |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for name, row in table:
    key, label = ceiling_of.get(name, (None, ''))
    ceiling = ceilings.get(key)
    ceiling_cells = f'{label} {ceiling:,.0f} | {row["rps"] / ceiling:.0%}' if ceiling else ' | '
    peer_cells = []
    for p in PEERS:
        theirs = peers[p].get(name) if row['connections'] == 32 else None
        peer_cells.append(f'{theirs:,.0f} | {row["rps"] / theirs:.2f}' if theirs else ' | ')
    cpu_ms = row['cpu_cores'] / row['rps'] * 1000 if row['rps'] else 0
    print(f'| {name} | {row["connections"]} | {row["rps"]:,.0f} | {row["p50_ms"]} | {row["p99_ms"]} | {row["non2xx"]} | {row["cpu_cores"]} | '
          f'{cpu_ms:.3f} | {"" if row["db_cpu_cores"] is None else row["db_cpu_cores"]} | {row["server_peak_rss_mb"]} | {ceiling_cells} | {" | ".join(peer_cells)} |')
print()
for name, value in {**ceilings, **extra}.items():
    print(f'- {name}: {value}')
for (p, name), runs in sorted(peer_runs.items()):
    detail = peer_detail[f'{p} {name}']
    print(f'- {PEERS[p]} {name}: {peers[p][name]:,.0f} rps, p50 {detail["p50_ms"]} ms, p99 {detail["p99_ms"]} ms, non-2xx {detail["non2xx"]}')
