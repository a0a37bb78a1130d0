#!/usr/bin/env bash
# Finds or installs Debian's Chromium for the console's browser test (tests/acceptance/console.rs)
# and prints the path of the executable.
#
# Already installed (CHROMIUM, or chromium on PATH): only printed. Otherwise, as root (CI runs as
# root), `apt-get install -y chromium` from the machine's Debian registry (an `apt-get update` first
# when the package lists do not know it); not root: fails, saying what to run.
# The test drives it over the Chrome DevTools protocol with Node's built-in WebSocket, so nothing
# comes from npm.
#
#   scripts/install-chromium.sh        (prints e.g. /usr/bin/chromium)
set -euo pipefail

log() { printf 'install-chromium: %s\n' "$*" >&2; }

found() {
    if [[ -n ${CHROMIUM:-} && -x $CHROMIUM ]]; then
        printf '%s\n' "$CHROMIUM"
        return 0
    fi
    local p
    for p in chromium chromium-browser; do
        if command -v "$p" >/dev/null 2>&1; then
            command -v "$p"
            return 0
        fi
    done
    return 1
}

if found; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    log "Chromium is not installed; run as root: apt-get install -y chromium"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
    log "apt-get update (the package lists do not know chromium)"
    apt-get update -qq >&2
fi
log "apt-get install -y chromium"
apt-get install -y -qq chromium >&2
found || { log "chromium still not on PATH after apt-get install"; exit 1; }
