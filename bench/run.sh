#!/usr/bin/env bash
# The benchmark: the server in Release on its own throwaway PostgreSQL cluster, driven by wrk on loopback, with the
# ceilings measured in the same run. Writes bench/results/latest.json and prints a markdown table. See bench/README.md.
#   BENCH_DURATION (s, default 10), BENCH_RUNS (default 2), BENCH_WARMUP (s, default 3), BENCH_START_WARMUP (s, default 20), BENCH_PEER_RUNS (default 1), BENCH_CONNECTIONS (default 32; "32 64" adds a second concurrency), BENCH_PASSWORD_DURATION (s, default 30),
#   BENCH_SCENARIOS (default: all), BENCH_PEER (0 to skip node-oidc-provider), BENCH_STOCK (0 to skip stock OpenIddict),
#   OPENIDDICT_STOCK_DIR (default ../../shared/peers/openiddict-stock), BENCH_PRUNE (1 to add the 1,000,000-token prune benchmark)
set -euo pipefail
bench_started=$(date +%s)
phase() { echo "== $* [$(( $(date +%s) - bench_started )) s]"; }
cd "$(dirname "$0")"
DURATION=${BENCH_DURATION:-10}; RUNS=${BENCH_RUNS:-2}; WARMUP=${BENCH_WARMUP:-3}; PEER_RUNS=${BENCH_PEER_RUNS:-1}; CONNECTIONS=${BENCH_CONNECTIONS:-32}
SCENARIOS=${BENCH_SCENARIOS:-"discovery client_credentials_rs256 introspection userinfo refresh password client_credentials_es256"}
THREADS=2
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d /tmp/identity-bench.XXXXXX); chmod 755 "$work"
export BENCH_DATA=$work/data; mkdir -p "$BENCH_DATA"
raw=$work/results.jsonl; : > "$raw"
# A block of $1 consecutive loopback ports that are free now, from a random start in [$2, $2 + 10000): one A/B run
# failed to start on a random port another process held.
free_ports() {
  python3 - "$1" "$2" <<'PY'
import random, socket, sys
count, low = int(sys.argv[1]), int(sys.argv[2])
def free(port):
    with socket.socket() as s:
        try: s.bind(('127.0.0.1', port)); return True
        except OSError: return False
for _ in range(200):
    base = random.randrange(low, low + 10000 - count)
    if all(free(base + i) for i in range(count)): print(base); break
else: sys.exit('no free block of loopback ports')
PY
}
# The server on PORT, node-oidc-provider on PORT+1 and PORT+2, stock OpenIddict on PORT+3, the SQLite cold start on PORT+4.
PGPORT=$(free_ports 1 20000); PORT=$(free_ports 5 30000)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  as_pg pg_ctl -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

phase "PostgreSQL cluster on port $PGPORT"
mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_pg initdb -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
as_pg pg_ctl -D "$work/pg" -l "$work/pg/server.log" -w -o "-p $PGPORT -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB" start >/dev/null
psql_() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_ -c "CREATE DATABASE identity" -c "CREATE DATABASE ceiling"

phase "build (Release)"
# Published as the Dockerfile does: for this platform, so precompiled (ReadyToRun).
dotnet publish ../src/Identity.Server -c Release --use-current-runtime --self-contained false -o "$work/server" --nologo -v q >/dev/null
dotnet build Ceilings -c Release --nologo -v q >/dev/null
STOCK_DIR=${OPENIDDICT_STOCK_DIR:-$(cd ../.. && pwd)/shared/peers/openiddict-stock}
if [ "${BENCH_STOCK:-1}" = 1 ]; then
  if [ -f "$STOCK_DIR/PeerOpenIddict.csproj" ]; then
    # Built as its README says, from a copy (shared/ may be read-only); run as it is, untuned.
    cp -r "$STOCK_DIR" "$work/stock-src" && rm -rf "$work/stock-src/bin" "$work/stock-src/obj"
    dotnet build -c Release "$work/stock-src" -o "$work/stock" --nologo -v q >/dev/null
    psql_ -c "CREATE DATABASE peer_openiddict"
  else
    echo "   no stock OpenIddict peer at $STOCK_DIR: skipped"; BENCH_STOCK=0
  fi
fi

export ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=http://127.0.0.1:$PORT \
  Database__Provider=Postgres ConnectionStrings__Identity="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=identity" \
  Identity__Issuer=http://127.0.0.1:$PORT/ Identity__RequireHttps=false Accounts__RequireConfirmedEmail=false \
  Identity__RateLimits__PasswordGrant__PerClientPerMinute=10000000 Identity__RateLimits__PasswordGrant__PerAddressPerMinute=10000000 \
  Identity__RateLimits__PasswordGrant__PerUserNamePerMinute=10000000 Jobs__Prune__Enabled=false Logging__LogLevel__Default=Warning DataProtection__AllowUnprotectedKeys=true \
  Identity__Scopes__0__Name=api1 Identity__Scopes__0__Resources__0=https://api.bench.test \
  Identity__Clients__0__ClientId=bench-cc Identity__Clients__0__ClientSecret=bench-secret-bench-secret-bench-secret-0001 \
  Identity__Clients__0__Type=confidential Identity__Clients__0__AllowedGrantTypes__0=client_credentials \
  Identity__Clients__0__AllowedScopes__0=api1 Identity__Clients__0__AllowIntrospection=true \
  Identity__Clients__1__ClientId=bench-spa Identity__Clients__1__Type=public Identity__Clients__1__AllowedGrantTypes__0=password \
  Identity__Clients__1__AllowedGrantTypes__1=refresh_token Identity__Clients__1__AllowedScopes__0=openid Identity__Clients__1__AllowedScopes__1=profile \
  Identity__Clients__1__AllowedScopes__2=email Identity__Clients__1__AllowedScopes__3=offline_access Identity__Clients__1__AllowedScopes__4=api1
export BENCH_CLIENT_BASIC=$(printf 'bench-cc:bench-secret-bench-secret-bench-secret-0001' | base64 -w0) BENCH_API_BASIC=$(printf 'bench-cc:bench-secret-bench-secret-bench-secret-0001' | base64 -w0)
BASE=http://127.0.0.1:$PORT

# The runtime settings the container image sets (the Dockerfile's DOTNET_ variables), as the server ships.
image_runtime_env=$(sed -n 's/^ *\(ENV \)\{0,1\}\(DOTNET_[A-Za-z0-9_]*=[^ ]*\).*/\2/p' ../Dockerfile)
start_server() { # $1 = RS256 or ES256
  env $image_runtime_env Identity__Tokens__SigningAlgorithm=$1 dotnet "$work/server/Identity.Server.dll" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do curl -fs "$BASE/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "$BASE/health/ready" >/dev/null 2>&1 || { echo "server did not become ready"; cat "$work/server.log"; exit 1; }
  # A fresh process is still tiering its JIT: BENCH_START_WARMUP s of client_credentials load first, as the stock peer
  # gets (its README asks for 20-25 s), whatever scenario comes next.
  wrk -t$THREADS -c32 -d"${BENCH_START_WARMUP:-20}s" --timeout 30s -s lua/client_credentials.lua "$BASE/connect/token" >/dev/null
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_ticks() { proc_ticks "$server_pid"; }
# PostgreSQL's CPU: the postmaster and its live processes (the server keeps its connections open through a run).
pg_ticks() {
  local main t=0 p; main=$(head -1 "$work/pg/postmaster.pid")
  for p in $main $(pgrep -P "$main"); do t=$((t + $(proc_ticks "$p" 2>/dev/null || echo 0))); done; echo "$t"
}
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status"; }

run_wrk() { # scenario connections script url [measure]
  local scenario=$1 c=$2 script=$3 url=$4 measure=${5:-1} before after db_before db_after line
  before=$(cpu_ticks); db_before=$(pg_ticks)
  line=$(wrk -t$THREADS -c"$c" -d"${DURATION}s" --timeout 30s --latency -s "$script" "$url" | grep '^BENCH ' | cut -c7-)
  after=$(cpu_ticks); db_after=$(pg_ticks)
  [ "$measure" = 1 ] && python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(kind='run', scenario=sys.argv[2], connections=int(sys.argv[3]), cpu_cores=round((int(sys.argv[5])-int(sys.argv[4]))/100/r['seconds'],2), server_peak_rss_mb=int(sys.argv[6]), db_cpu_cores=round((int(sys.argv[8])-int(sys.argv[7]))/100/r['seconds'],2)); print(json.dumps(r))" \
    "$line" "$scenario" "$c" "$before" "$after" "$(peak_rss_mb)" "$db_before" "$db_after" >> "$raw"
  echo "   $scenario c=$c: $line"
}
warm() { wrk -t$THREADS -c"$1" -d"${WARMUP}s" --timeout 30s -s "$2" "$3" >/dev/null; }

scenario() { # name script path [per-run preparation]
  local name=$1 script=$2 path=$3 prepare=${4:-true}
  [[ " $SCENARIOS " == *" $name "* ]] || return 0
  for c in $CONNECTIONS; do
    $prepare "$c"; warm "$c" "$script" "$BASE$path"
    for _ in $(seq 1 "$RUNS"); do $prepare "$c"; run_wrk "$name" "$c" "$script" "$BASE$path"; done
  done
}
fresh_refresh_tokens() { python3 seed.py "$BASE" "$BENCH_DATA" refresh $THREADS $(( $1 * 2 / THREADS )); }

phase "cold start to ready on SQLite"
cold=$(python3 - "$work/server/Identity.Server.dll" "$work/cold.db" "$((PORT + 4))" <<'PY'
import os, subprocess, sys, time, urllib.request
env = dict(os.environ, Database__Provider='Sqlite', ConnectionStrings__Identity=f'Data Source={sys.argv[2]}', ASPNETCORE_URLS=f'http://127.0.0.1:{sys.argv[3]}')
start = time.monotonic(); p = subprocess.Popen(['dotnet', sys.argv[1]], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while True:
    try:
        urllib.request.urlopen(f'http://127.0.0.1:{sys.argv[3]}/health/ready', timeout=1); break
    except Exception: time.sleep(0.01)
print(round(time.monotonic() - start, 2)); p.terminate(); p.wait()
PY
)
echo "{\"kind\":\"extra\",\"name\":\"cold_start_to_ready_sqlite_s\",\"value\":$cold}" >> "$raw"; echo "   $cold s"

phase "server (RS256) and seed data"
start_server RS256
python3 seed.py "$BASE" "$BENCH_DATA" users 32
python3 seed.py "$BASE" "$BENCH_DATA" access 200

phase "scenarios (${DURATION}s × $RUNS per concurrency, after ${WARMUP}s warm-up)"
scenario discovery lua/get.lua /.well-known/openid-configuration
scenario client_credentials_rs256 lua/client_credentials.lua /connect/token
scenario introspection lua/introspection.lua /connect/introspect
scenario userinfo lua/userinfo.lua /connect/userinfo
scenario refresh lua/refresh.lua /connect/token fresh_refresh_tokens
# A password grant takes seconds at 32 connections on two cores (the hash is the point), and the requests still in
# flight when a run ends are not counted: one longer run instead of two short ones.
DURATION=${BENCH_PASSWORD_DURATION:-30} RUNS=1 scenario password lua/password.lua /connect/token
phase "ceiling: Kestrel (/health/live)"
DURATION=${BENCH_CEILING_DURATION:-6} run_wrk kestrel_hello 32 lua/get.lua "$BASE/health/live" 0 | tee "$work/hello.txt"
python3 -c "import json,sys; l=open(sys.argv[1]).read(); r=json.loads(l[l.index('{'):l.rindex('}')+1]); print(json.dumps({'kind':'ceiling','name':'kestrel_hello','rps':r['rps']}))" "$work/hello.txt" >> "$raw"
stop_server

if [[ " $SCENARIOS " == *" client_credentials_es256 "* ]]; then
  phase "server (ES256)"
  start_server ES256
  scenario client_credentials_es256 lua/client_credentials.lua /connect/token
  stop_server
fi

if [ "${BENCH_PEER:-1}" = 1 ]; then
  phase "peer: node-oidc-provider (in memory), 32 connections"
  [ -d peer/node_modules ] || (cd peer && npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null)
  PEER_PORT=$((PORT + 1)); PEER_SEED_PORT=$((PORT + 2)); peer_data=$work/peer-data; mkdir -p "$peer_data"
  peer_scenario() { # name format script path
    local name=$1 format=$2 script=$3 path=$4 line
    [[ " $SCENARIOS " == *" $name "* ]] || return 0
    PEER_PORT=$PEER_PORT PEER_SEED_PORT=$PEER_SEED_PORT PEER_FORMAT=$format node peer/server.mjs > "$work/peer.log" 2>&1 &
    local peer_pid=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.1; done
    peer_seed() { curl -fs "http://127.0.0.1:$PEER_SEED_PORT/access?n=200" > "$peer_data/access.txt"
      for t in $(seq 0 $((THREADS - 1))); do curl -fs "http://127.0.0.1:$PEER_SEED_PORT/refresh?n=32" > "$peer_data/refresh-$t.txt"; done; }
    peer_seed; BENCH_DATA=$peer_data wrk -t$THREADS -c32 -d"${WARMUP}s" --timeout 30s -s "$script" "http://127.0.0.1:$PEER_PORT$path" >/dev/null
    for _ in $(seq 1 "$PEER_RUNS"); do
      peer_seed
      line=$(BENCH_DATA=$peer_data wrk -t$THREADS -c32 -d"${DURATION}s" --timeout 30s --latency -s "$script" "http://127.0.0.1:$PEER_PORT$path" | grep '^BENCH ' | cut -c7-)
      python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(kind='peer', peer='node', name=sys.argv[2]); print(json.dumps(r))" "$line" "$name" >> "$raw"
      echo "   peer $name: $line"
    done
    kill $peer_pid; wait $peer_pid 2>/dev/null || true
  }
  peer_scenario client_credentials_rs256 RS256 lua/client_credentials.lua /token
  peer_scenario client_credentials_es256 ES256 lua/client_credentials.lua /token
  peer_scenario introspection opaque lua/introspection.lua /token/introspection
  peer_scenario refresh opaque lua/refresh.lua /token
fi

if [ "${BENCH_STOCK:-1}" = 1 ]; then
  phase "peer: stock OpenIddict 7.8 (EF Core on the same PostgreSQL cluster), 32 connections"
  STOCK_PORT=$((PORT + 3)); STOCK=http://127.0.0.1:$STOCK_PORT; stock_data=$work/stock-data; mkdir -p "$stock_data"
  M2M_SECRET=bench-m2m-secret-$RANDOM$RANDOM; RS_SECRET=bench-rs-secret-$RANDOM$RANDOM
  tr '\t' ':' < "$BENCH_DATA/users.txt" > "$stock_data/users-file.txt"; cp "$BENCH_DATA/users.txt" "$stock_data/users.txt"
  stock_pid=""
  start_stock() { # $1 = RS256 or ES256
    ConnectionStrings__Default="Host=127.0.0.1;Port=$PGPORT;Database=peer_openiddict;Username=postgres" Bench__SigningAlgorithm=$1 \
    Bench__M2MSecret=$M2M_SECRET Bench__IntrospectionSecret=$RS_SECRET Bench__UsersFile="$stock_data/users-file.txt" \
    ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning ASPNETCORE_URLS= \
      dotnet "$work/stock/PeerOpenIddict.dll" --urls "$STOCK" > "$work/stock.log" 2>&1 &
    stock_pid=$!
    for _ in $(seq 1 600); do grep -q '^READY' "$work/stock.log" && break; sleep 0.1; done
    grep -q '^READY' "$work/stock.log" || { echo "stock OpenIddict did not start"; cat "$work/stock.log"; exit 1; }
    # Its README: a fresh process needs about 25 s of load before the JIT settles.
    stock_env wrk -t$THREADS -c32 -d"${BENCH_STOCK_WARMUP:-20}s" --timeout 30s -s lua/client_credentials.lua "$STOCK/connect/token" >/dev/null
  }
  stop_stock() { kill "$stock_pid"; wait "$stock_pid" 2>/dev/null || true; stock_pid=""; }
  stock_env() { BENCH_DATA=$stock_data BENCH_CC_SCOPE=api SEED_SCOPE="openid profile email offline_access api" \
    BENCH_CLIENT_BASIC=$(printf 'bench-m2m:%s' "$M2M_SECRET" | base64 -w0) BENCH_API_BASIC=$(printf 'bench-rs:%s' "$RS_SECRET" | base64 -w0) "$@"; }
  stock_scenario() { # name script path [per-run preparation]
    local name=$1 script=$2 path=$3 prepare=${4:-true} line
    [[ " $SCENARIOS " == *" $name "* ]] || return 0
    $prepare; stock_env wrk -t$THREADS -c32 -d"${WARMUP}s" --timeout 30s -s "$script" "$STOCK$path" >/dev/null
    for _ in $(seq 1 "$PEER_RUNS"); do
      $prepare
      line=$(stock_env wrk -t$THREADS -c32 -d"${DURATION}s" --timeout 30s --latency -s "$script" "$STOCK$path" | grep '^BENCH ' | cut -c7-)
      python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(kind='peer', peer='stock', name=sys.argv[2]); print(json.dumps(r))" "$line" "$name" >> "$raw"
      echo "   stock $name: $line"
    done
  }
  stock_refresh_tokens() { stock_env python3 seed.py "$STOCK" "$stock_data" refresh $THREADS $(( 32 * 2 / THREADS )); }
  start_stock RS256
  stock_env python3 seed.py "$STOCK" "$stock_data" access 200
  stock_scenario client_credentials_rs256 lua/client_credentials.lua /connect/token
  stock_scenario introspection lua/introspection.lua /connect/introspect
  stock_scenario userinfo lua/userinfo.lua /connect/userinfo
  stock_scenario refresh lua/refresh.lua /connect/token stock_refresh_tokens
  DURATION=${BENCH_PASSWORD_DURATION:-30} stock_scenario password lua/password.lua /connect/token
  stop_stock
  if [[ " $SCENARIOS " == *" client_credentials_es256 "* ]]; then
    start_stock ES256
    stock_scenario client_credentials_es256 lua/client_credentials.lua /connect/token
    stop_stock
  fi
fi

phase "ceilings: hashing and signing per core, PostgreSQL"
dotnet Ceilings/bin/Release/net10.0/Ceilings.dll 210000 3 | python3 -c "
import json, sys
for k, v in json.load(sys.stdin).items(): print(json.dumps({'kind': 'ceiling', 'name': k, 'rps': v}))" >> "$raw"
psql_ -d ceiling -c "CREATE TABLE kv (id int PRIMARY KEY, v text NOT NULL); INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 100000) g; CREATE TABLE log (id bigserial PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL DEFAULT now());"
printf '\\set id random(1, 100000)\nSELECT v FROM kv WHERE id = :id;\n' > "$work/select.sql"
printf '\\set id random(1, 100000)\nBEGIN;\nSELECT v FROM kv WHERE id = :id;\nINSERT INTO log (v) VALUES (:id);\nCOMMIT;\n' > "$work/insert.sql"
for name in select insert; do
  tps=$(pgbench -h 127.0.0.1 -p "$PGPORT" -U postgres -n -c 32 -j 2 -T "${BENCH_CEILING_DURATION:-6}" -M prepared -f "$work/$name.sql" ceiling 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -1)
  key=$([ $name = select ] && echo pg_select || echo pg_select_insert_tx)
  echo "{\"kind\":\"ceiling\",\"name\":\"$key\",\"rps\":$tps}" >> "$raw"; echo "   $key: $tps tps"
done

if [ "${BENCH_PRUNE:-0}" = 1 ]; then
  phase "prune: 1,000,000 prunable tokens across 100,000 authorizations"
  start_server RS256
  psql_ -d identity -c "
    INSERT INTO \"OpenIddictAuthorizations\" (\"Id\", \"ApplicationId\", \"ConcurrencyToken\", \"CreationDate\", \"Scopes\", \"Status\", \"Subject\", \"Type\")
      SELECT md5('a' || g)::uuid, (SELECT \"Id\" FROM \"OpenIddictApplications\" WHERE \"ClientId\" = 'bench-spa'), md5('c' || g),
             now() - interval '60 days', '[\"openid\",\"offline_access\"]', 'valid', 'user' || g, 'ad-hoc'
      FROM generate_series(1, 100000) g;
    INSERT INTO \"OpenIddictTokens\" (\"Id\", \"ApplicationId\", \"AuthorizationId\", \"ConcurrencyToken\", \"CreationDate\", \"ExpirationDate\",
                                    \"RedemptionDate\", \"ReferenceId\", \"Status\", \"Subject\", \"Type\")
      SELECT md5('t' || g)::uuid, (SELECT \"Id\" FROM \"OpenIddictApplications\" WHERE \"ClientId\" = 'bench-spa'), md5('a' || (g % 100000 + 1))::uuid,
             md5('c' || g), now() - interval '60 days', now() - interval '40 days', now() - interval '59 days', md5('h' || g) || md5('i' || g),
             'redeemed', 'user' || (g % 100000 + 1), 'refresh_token'
      FROM generate_series(1, 1000000) g;
    "
  # Let the database settle after bulk-loading 1.1M rows (hint bits, visibility map, dirty buffers), else the baseline
  # pays for that work and the comparison says nothing about the prune.
  psql_ -d identity -c "VACUUM ANALYZE" -c "CHECKPOINT"
  warm 32 lua/client_credentials.lua "$BASE/connect/token"
  run_wrk client_credentials_baseline 32 lua/client_credentials.lua "$BASE/connect/token"
  started=$(date +%s.%N)
  ( dotnet "$work/server/Identity.Server.dll" prune > "$work/prune.txt" 2>&1 ) &
  prune_pid=$!
  run_wrk client_credentials_during_prune 32 lua/client_credentials.lua "$BASE/connect/token"
  wait $prune_pid
  elapsed=$(python3 -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$started")
  echo "   prune: $(cat "$work/prune.txt" | tail -1) (wall $elapsed s)"
  echo "{\"kind\":\"extra\",\"name\":\"prune_1m_tokens\",\"value\":\"$(tail -1 "$work/prune.txt")\"}" >> "$raw"
  stop_server
fi

mkdir -p results
echo "{\"kind\":\"extra\",\"name\":\"bench_wall_clock_s\",\"value\":$(( $(date +%s) - bench_started ))}" >> "$raw"
echo; python3 report.py "$raw" results/latest.json
