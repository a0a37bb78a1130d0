#!/usr/bin/env bash
# Scale benchmark (issue 11), one command: builds the release binaries, then runs bench/scale.py,
# which prints the tables and writes docs/benchmarks.md with its plots (docs/benchmarks/*.svg).
#
#   bench/scale.sh                 full run: N = 1, 100, 1000 × -parallelism 10, 50 × latency 0, 2 ms (≈ 10 min on a quiet machine; --budget-min bounds it)
#   bench/scale.sh --quick         N = 1, 100, one run per plan (≈ 2 min)
#   bench/scale.sh --tf /work/main/.cache/terraform-1.15.5/terraform   another CLI (default: terraform on PATH)
#   bench/scale.sh --out -         print only, do not write docs/benchmarks.md
#   bench/scale.sh --help          every option
#
# Environment: BENCH_PROVIDER_SETTINGS (HCL lines put into the provider "clouddb" block, e.g. to turn a
# provider setting on or off), BENCH_TF (CLI), SHARED_BENCH (default ../shared/bench; without it the
# Go-peer column is skipped and the report says so), CARGO_TARGET_DIR.
# Loopback only; the server and every Terraform process are stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case " $* " in *" --help "*|*" -h "*) exec python3 "$root/bench/scale.py" --help ;; esac
echo "bench: cargo build --release --locked -p terraform-provider-clouddb -p clouddb-server --bins" >&2
cargo build --release --locked -p terraform-provider-clouddb -p clouddb-server --bins --manifest-path "$root/Cargo.toml" >&2
exec python3 "$root/bench/scale.py" "$@"
