#!/usr/bin/env bash
# Checks docs/openapi.yaml against a running clouddb-server with Schemathesis (from PyPI, pinned).
#
# - creates a Python venv in ${CLOUDDB_PY_CACHE:-target/py} and installs schemathesis there (once);
# - builds and starts clouddb-server on a free loopback port with instant operations, in memory;
# - pass 1: the public API (/v1, /healthz) with an API token; pass 2: the admin API with the admin token;
# - exits non-zero if Schemathesis reports any failure.
#
# Env: SCHEMATHESIS_MAX_EXAMPLES (default 30), SCHEMATHESIS_SEED (default 1), CLOUDDB_PY_CACHE.
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY_DIR="${CLOUDDB_PY_CACHE:-$ROOT/target/py}"
VENV="$PY_DIR/venv-schemathesis-$SCHEMATHESIS_VERSION"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-30}"
SEED="${SCHEMATHESIS_SEED:-1}"

if [ ! -x "$VENV/bin/st" ]; then
  mkdir -p "$PY_DIR"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet -p clouddb-server --bin clouddb-server
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/clouddb-server"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN="st-token"
ADMIN="st-admin"
"$BIN" --listen 127.0.0.1:0 --in-memory --token "$TOKEN=demo" --admin-token "$ADMIN" \
  --provision-time 0 --update-time 0 --delete-time 0 --restart-time 0 --failover-time 0 --rate-limit 0 \
  >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if head -n1 "$WORK/stdout" 2>/dev/null | grep -q '^listening on '; then break; fi
  sleep 0.1
done
BASE="$(head -n1 "$WORK/stdout" | sed 's/^listening on //')"
case "$BASE" in http://127.0.0.1:*) ;; *) echo "server did not start" >&2; cat "$WORK/stderr" >&2; exit 1;; esac
echo "clouddb-server at $BASE"

# A READY instance for the sub-resource paths (path parameter `name` is pinned to it below).
curl -sf -X POST "$BASE/v1/projects/demo/instances" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' \
  -d '{"name":"sdb1","tier":"db-small","storage_gb":20}' >/dev/null

cat >"$WORK/schemathesis.toml" <<TOML
[parameters]
"path.project" = "demo"
"path.name" = "sdb1"
TOML

status=0
run_pass() {
  local label="$1" token="$2" regex="$3"
  echo "== schemathesis: $label"
  if ! "$VENV/bin/st" --config-file "$WORK/schemathesis.toml" run "$ROOT/docs/openapi.yaml" \
      --url "$BASE" -H "Authorization: Bearer $token" \
      --include-path-regex "$regex" \
      --checks all --exclude-checks positive_data_acceptance \
      --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
      --suppress-health-check all --request-timeout 10 --no-color; then
    status=1
  fi
}
run_pass "public API" "$TOKEN" '^/(v1|healthz)'
run_pass "admin API" "$ADMIN" '^/admin'

if grep -qi 'panicked' "$WORK/stderr"; then
  echo "server panicked:" >&2
  grep -i -A5 'panicked' "$WORK/stderr" >&2
  status=1
fi
exit "$status"
