#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine. The tests start their own PostgreSQL cluster (initdb + pg_ctl, as the
# postgres OS user when run as root) and their own SMTP catcher; this script installs what they need if it is missing,
# runs them, and ends with the line "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")"

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
  if [ "$(id -u)" = 0 ] && need apt-get; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "missing: $* (install them, or run as root so that this script can)" >&2; exit 1
  fi
}
need initdb || [ -x /usr/lib/postgresql/15/bin/initdb ] || apt_install postgresql
need node || apt_install nodejs npm
# Page tests drive Debian's Chromium through its chromedriver (no browser downloads here).
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || apt_install chromium chromium-driver
[ -d tests/tools/node_modules/maildev ] || (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error)

results=$(mktemp -d)
status=0
dotnet test Identity.sln -c Release --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" || status=$?

trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  echo "${passed:-0} passed, ${failed:-0} failed"
  [ "${failed:-0}" = 0 ] || status=1
else
  echo "0 passed, 1 failed"
  status=1
fi
exit "$status"
