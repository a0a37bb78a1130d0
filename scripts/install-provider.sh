#!/usr/bin/env bash
# Builds the release provider binary and installs it into a Terraform filesystem
# mirror, so `terraform init` finds `source = "clouddb/clouddb"` with no network.
#
#   scripts/install-provider.sh [MIRROR]   (default ~/.terraform.d/plugins, an implied mirror)
#
# Layout written (the "unpacked" layout Terraform's filesystem search accepts):
#   MIRROR/registry.terraform.io/clouddb/clouddb/VERSION/OS_ARCH/terraform-provider-clouddb_vVERSION
# With the default MIRROR no CLI configuration is needed (Terraform uses implied
# mirrors whenever the CLI config has no provider_installation block). For any
# other MIRROR, point a filesystem_mirror block at it (README, "Offline install").
# Set SKIP_BUILD=1 to install an already built target/release binary, and PROVIDER_BIN=PATH
# to install that binary instead (quickstart's and the tests' debug build).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mirror=${1:-$HOME/.terraform.d/plugins}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os=$(uname -s | tr 'A-Z' 'a-z') ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac

if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${PROVIDER_BIN:-}" ]; then
    cargo build --release --locked -p terraform-provider-clouddb --manifest-path "$root/Cargo.toml" >&2
fi
bin=${PROVIDER_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/terraform-provider-clouddb}
[ -x "$bin" ] || { echo "install-provider: $bin is missing; build it first" >&2; exit 1; }

dest="$mirror/registry.terraform.io/clouddb/clouddb/$version/${os}_${arch}"
mkdir -p "$dest"
# Replace atomically so a running terraform never sees a half-written file.
cp "$bin" "$dest/.terraform-provider-clouddb_v$version.tmp"
mv -f "$dest/.terraform-provider-clouddb_v$version.tmp" "$dest/terraform-provider-clouddb_v$version"
echo "installed terraform-provider-clouddb v$version into $dest" >&2
printf '%s\n' "$dest/terraform-provider-clouddb_v$version"
