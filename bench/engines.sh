#!/usr/bin/env bash
# Real-engine figures (issue 13), one command: builds clouddb-server (release), then runs
# bench/engines.py, which measures cold create, backup, restore and the idle RSS of a postgres
# and of a mysql (MariaDB) instance at the smallest tier on `clouddb-server --engines real`, and writes
# docs/benchmarks-engines.md (linked from docs/benchmarks.md).
#
#   bench/engines.sh                 three instances per engine (about two minutes)
#   bench/engines.sh --engines mysql   MariaDB only
#   bench/engines.sh --runs 1 --out -  one, print only
#   bench/engines.sh --server target/debug/clouddb-server   another build (skips the release build)
#
# Needs PostgreSQL and MariaDB (scripts/install-engines.sh). Loopback only; the server is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
case " $* " in
*" --server "*) ;;
*)
    echo "bench: cargo build --release --locked -p clouddb-server --bin clouddb-server" >&2
    cargo build --release --locked -p clouddb-server --bin clouddb-server >&2
    ;;
esac
exec python3 bench/engines.py "$@"
