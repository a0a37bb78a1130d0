#!/usr/bin/env bash
# Builds the release provider and writes the Registry's artifacts into dist/
# (scripts/provider_package.py says what each file is and how the hashes are computed):
#
#   terraform-provider-clouddb_VERSION_linux_amd64.zip   (and _linux_arm64.zip, see below)
#   terraform-provider-clouddb_VERSION_SHA256SUMS
#   terraform-provider-clouddb_VERSION_manifest.json      (terraform-registry-manifest.json)
#   network-mirror/                                       provider network mirror protocol (index.json, VERSION.json)
#   fs-mirror/                                            filesystem mirror, packed layout
#
#   scripts/release.sh                         cargo build --release, then pack into dist/
#   scripts/release.sh --out DIR               pack into DIR instead
#   scripts/release.sh --binary OS_ARCH=PATH   pack an already built binary instead of building
#                                              (the tests pack the debug build this way; repeatable)
#
# linux_arm64 is built only when both the Rust target (rustup target add aarch64-unknown-linux-gnu)
# and the cross linker (Debian's gcc-aarch64-linux-gnu) are installed. Rustup's targets come from
# rustup's own server, which this project's machines and CI cannot reach, so there the script says
# that it skips linux_arm64 and packs linux_amd64 alone; RELEASE_REQUIRE_ARM64=1 makes that an error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/dist
binaries=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --binary) binaries+=("${2:?--binary needs OS_ARCH=PATH}"); shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
[ -n "$version" ] || { echo "release.sh: no version in Cargo.toml" >&2; exit 1; }
# The version lives in four places (README, "Releasing"); a release with them apart is refused.
grep -q "^pub const PROVIDER_VERSION: &str = \"$version\";" "$root/tests/acceptance/harness.rs" \
    || { echo "release.sh: tests/acceptance/harness.rs PROVIDER_VERSION is not $version (Cargo.toml)" >&2; exit 1; }
grep -q "^## $version " "$root/CHANGELOG.md" \
    || { echo "release.sh: CHANGELOG.md has no '## $version (...)' heading" >&2; exit 1; }

if [ ${#binaries[@]} -eq 0 ]; then
    target_dir=${CARGO_TARGET_DIR:-$root/target}
    echo "==> cargo build --release (linux_amd64)" >&2
    cargo build --release --locked -p terraform-provider-clouddb --manifest-path "$root/Cargo.toml" >&2
    binaries+=("linux_amd64=$target_dir/release/terraform-provider-clouddb")

    arm=aarch64-unknown-linux-gnu
    if rustup target list --installed 2>/dev/null | grep -qx "$arm" && command -v aarch64-linux-gnu-gcc >/dev/null; then
        echo "==> cargo build --release --target $arm (linux_arm64)" >&2
        CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
            cargo build --release --locked --target "$arm" -p terraform-provider-clouddb --manifest-path "$root/Cargo.toml" >&2
        binaries+=("linux_arm64=$target_dir/$arm/release/terraform-provider-clouddb")
    else
        msg="release.sh: skipping linux_arm64: it needs the Rust target $arm (rustup target add $arm) and the linker aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)"
        [ "${RELEASE_REQUIRE_ARM64:-0}" = 1 ] && { echo "$msg" >&2; exit 1; }
        echo "$msg; packing linux_amd64 only" >&2
    fi
fi

args=()
for b in "${binaries[@]}"; do args+=(--binary "$b"); done
echo "==> packing v$version into $out" >&2
python3 "$root/scripts/provider_package.py" pack --version "$version" --out "$out" \
    --manifest "$root/terraform-registry-manifest.json" "${args[@]}"
