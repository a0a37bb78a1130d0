#!/usr/bin/env bash
# Chaos suite (docs/chaos.md): ROUNDS rounds of apply -> update -> destroy of N clouddb_instances
# through the real Terraform CLI and provider against a clouddb-server on a SQLite file, under random
# 5xx/429 at FAULT_RATE, dropped-after-commit responses, latency spikes, 404 windows after create,
# failing operations, SIGKILL+restart of the server and SIGINT of Terraform mid-apply. Loopback only,
# bounded; prints a table and fails on any orphan, ghost, lost instance, duplicate or phase that did
# not converge after one follow-up apply.
#
#   bench/chaos.sh --short   # CI: 2 rounds x 5 instances (every fault kind at least once)
#   bench/chaos.sh --full    # 20 rounds x 50 instances at 10 %, writes docs/chaos.md
#   ROUNDS=3 N=10 FAULT_RATE=0.2 SEED=42 bench/chaos.sh   # anything in between
#
# Environment: ROUNDS, N, FAULT_RATE, SEED (decimal or 0x.., default: random, printed), PARALLELISM
# (terraform -parallelism, default 10), OP_SECONDS (create/update/delete time, default 1),
# KILL_P / INT_P (chance of a kill / interrupt in update and destroy phases, default 0.3),
# CHAOS_TERRAFORM (CLI, default `terraform` on PATH), CHAOS_REPORT (markdown output file),
# CHAOS_KEEP=1 (keep the work dir, state, SQLite and logs under target/tmp/chaos-*).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
--short)
    export ROUNDS=${ROUNDS:-2} N=${N:-5} FAULT_RATE=${FAULT_RATE:-0.1} SEED=${SEED:-20260101}
    ;;
--full)
    export ROUNDS=${ROUNDS:-20} N=${N:-50} FAULT_RATE=${FAULT_RATE:-0.1} PARALLELISM=${PARALLELISM:-16}
    export CHAOS_REPORT=${CHAOS_REPORT:-$PWD/docs/chaos.md}
    ;;
"") ;;
*)
    echo "usage: $0 [--short|--full]  (parameters via ROUNDS, N, FAULT_RATE, SEED, ...)" >&2
    exit 2
    ;;
esac

export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export CHECKPOINT_DISABLE=1
# The test launches target/debug/clouddb-server and the provider binary.
cargo build --workspace --bins --locked --quiet
exec cargo test --locked --quiet -p terraform-provider-clouddb --test chaos -- \
    --ignored --nocapture --test-threads=1
