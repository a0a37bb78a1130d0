#!/usr/bin/env bash
# Moves the provider to a new version everywhere it is written (README, "Releasing"):
#   Cargo.toml (package version) and Cargo.lock, tests/acceptance/harness.rs PROVIDER_VERSION,
#   and a new `## NEW (Unreleased)` section at the top of CHANGELOG.md.
# terraform-registry-manifest.json holds the manifest format's version (1), not ours: unchanged.
#
#   scripts/bump-version.sh NEW        e.g. scripts/bump-version.sh 0.2.0
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
new=${1:-}
[[ "$new" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] \
    || { echo "bump-version.sh: '$new' is not a semantic version (MAJOR.MINOR.PATCH)" >&2; exit 2; }
old=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
[ "$old" != "$new" ] || { echo "bump-version.sh: already at $new" >&2; exit 1; }

# Only the root package's first `version =` line (the [package] table).
sed -i "0,/^version = \"$old\"/s//version = \"$new\"/" "$root/Cargo.toml"
# Cargo.lock: the entry right after `name = "terraform-provider-clouddb"`.
if [ -f "$root/Cargo.lock" ]; then
    sed -i "/^name = \"terraform-provider-clouddb\"$/{n;s/^version = \"$old\"$/version = \"$new\"/}" "$root/Cargo.lock"
fi
sed -i "s/^pub const PROVIDER_VERSION: &str = \"$old\";/pub const PROVIDER_VERSION: \&str = \"$new\";/" \
    "$root/tests/acceptance/harness.rs"
if ! grep -q "^## $new " "$root/CHANGELOG.md"; then
    awk -v v="$new" '
        !done && /^## / { print "## " v " (Unreleased)\n\nFEATURES:\n\nENHANCEMENTS:\n\nBUG FIXES:\n"; done = 1 }
        { print }' "$root/CHANGELOG.md" >"$root/CHANGELOG.md.new"
    mv "$root/CHANGELOG.md.new" "$root/CHANGELOG.md"
fi
echo "bumped $old -> $new: Cargo.toml, Cargo.lock, tests/acceptance/harness.rs, CHANGELOG.md" >&2
