#!/usr/bin/env bash
# Protocol-core benchmark (issue 2): our provider beside the Go peer, measured in the same run.
#
# Figures: stripped release binary size, exec -> handshake line with a Terraform-like
# P-521 client certificate (median of N runs), RSS at the handshake.
# Uses the shared harness in ../shared/bench (handshake-time.py, fetch-peers.sh), so
# the peer (workato 0.16.0: terraform-plugin-framework/plugin-go v0.31, protocol 6) is
# measured by exactly the same code.
#
#   bench/protocol-bench.sh [RUNS]     (default 30)  -> prints a Markdown table
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$root/../shared/bench}
runs=${1:-30}
out=$root/.cache/bench
mkdir -p "$out"

cargo build --release --locked -p terraform-provider-clouddb --manifest-path "$root/Cargo.toml" >&2
ours=${CARGO_TARGET_DIR:-$root/target}/release/terraform-provider-clouddb
peer_dir=$out/peers
"$shared/fetch-peers.sh" "$peer_dir" >/dev/null
peer=$peer_dir/terraform-provider-workato_v0.16.0

measure() { # NAME BIN
    python3 "$shared/handshake-time.py" -q -n "$runs" -w 3 --mtls --protocol 6 \
        --json "$out/$1.json" "$2" >&2
}
measure rust "$ours"
measure go "$peer"

python3 - "$out/rust.json" "$out/go.json" "$runs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["summary"]
g = json.load(open(sys.argv[2]))["summary"]
def mib(b): return b / 1048576
def ms(s): return f"{s['median']:.2f} ms ({s['min']:.2f}–{s['max']:.2f})"
def rss(s): return f"{s['median']:.1f} MiB"
print(f"| measure ({sys.argv[3]} runs, --mtls, same run) | terraform-provider-clouddb (Rust) | workato 0.16.0 (Go peer) | target |")
print("|---|---:|---:|---:|")
print(f"| stripped release binary | {mib(r['size_bytes']):.1f} MiB | {mib(g['size_bytes']):.1f} MiB | ≤ 8 MiB |")
print(f"| exec → handshake, client cert (median, min–max) | {ms(r['handshake_ms'])} | {ms(g['handshake_ms'])} | ≤ 5 ms |")
print(f"| RSS at handshake (median) | {rss(r['rss_at_handshake_mib'])} | {rss(g['rss_at_handshake_mib'])} | ≤ 8 MiB |")
print(f"| threads at handshake (median) | {r['threads_at_handshake']['median']:.0f} | {g['threads_at_handshake']['median']:.0f} | |")
PY
