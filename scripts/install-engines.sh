#!/usr/bin/env bash
# Installs the real database engines behind `clouddb-server --engines real` (issue 13) from the
# machine's Debian registry, when their programs are missing:
#
#   postgresql                     initdb, pg_ctl, postgres, psql, pg_dumpall, pg_isready in one
#                                  /usr/lib/postgresql/<major>/bin (or pg_ctl's directory on PATH)
#   mariadb-server mariadb-client  mariadbd, mariadb-install-db, mariadb, mariadb-dump, mariadb-admin
#                                  on PATH or in /usr/sbin, /usr/bin, /usr/local/bin
#
# These are the places the engine drivers look (crates/clouddb-server/src/engine/). Already
# installed: does nothing. Otherwise `apt-get install --no-install-recommends` of what is missing,
# as root directly or through sudo; `apt-get update` only when the install fails without it.
#
# No service is left running: Debian's package scripts start mariadb and the postgresql "main"
# cluster after installing them, so a policy-rc.d that exits 101 ("action forbidden") is in
# place during the install (a policy-rc.d already there is set aside and put back). The engines'
# own servers are started by clouddb-server, each on its own port and data directory.
#
# Quiet on success; on failure, apt-get's output is printed.
#
#   scripts/install-engines.sh
set -euo pipefail

log() { printf 'install-engines: %s\n' "$*" >&2; }

is_exec() { [[ -f $1 && -x $1 ]]; }

# A program on PATH or in the Debian locations the MariaDB driver searches.
have_program() {
    local dir
    command -v "$1" >/dev/null 2>&1 && return 0
    for dir in /usr/sbin /usr/bin /usr/local/bin; do
        is_exec "$dir/$1" && return 0
    done
    return 1
}

# A directory holding every PostgreSQL program the driver runs.
pg_dir_complete() {
    local p
    for p in initdb pg_ctl postgres psql pg_dumpall pg_isready; do
        is_exec "$1/$p" || return 1
    done
}

have_postgresql() {
    local d
    if d=$(command -v pg_ctl 2>/dev/null) && pg_dir_complete "$(dirname "$(readlink -f "$d")")"; then
        return 0
    fi
    for d in /usr/lib/postgresql/*/bin; do
        [[ -d $d ]] && pg_dir_complete "$d" && return 0
    done
    return 1
}

have_mariadb_server() { have_program mariadbd && have_program mariadb-install-db; }
have_mariadb_client() {
    have_program mariadb && have_program mariadb-dump && have_program mariadb-admin
}

packages=()
have_postgresql || packages+=(postgresql)
have_mariadb_server || packages+=(mariadb-server)
have_mariadb_client || packages+=(mariadb-client)
if [[ ${#packages[@]} -eq 0 ]]; then
    exit 0
fi

# Root directly, else sudo (CI runs as root).
if [[ $(id -u) -eq 0 ]]; then
    as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
    as_root() { sudo "$@"; }
else
    log "missing: ${packages[*]}; not root and no sudo: run as root: apt-get install --no-install-recommends ${packages[*]}"
    exit 1
fi

policy=/usr/sbin/policy-rc.d
saved=""
workdir=$(mktemp -d)
apt_log="$workdir/apt.log"

# Puts back whatever policy-rc.d there was (or none), on every exit.
restore_policy() {
    if [[ -n $saved ]]; then
        as_root mv -f "$saved" "$policy"
    else
        as_root rm -f "$policy"
    fi
    rm -rf "$workdir"
}

if [[ -e $policy ]]; then
    saved="$policy.install-engines.$$"
    as_root mv -f "$policy" "$saved"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# scripts/install-engines.sh: no service starts during the install\nexit 101\n' >"$workdir/policy-rc.d"
as_root install -m 0755 "$workdir/policy-rc.d" "$policy"

apt() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$apt_log" 2>&1
}

install_packages() {
    apt install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "${packages[@]}"
}

if ! install_packages; then
    # The usual cause on a fresh machine: package lists that are stale or missing.
    if ! apt update -q || ! install_packages; then
        log "apt-get install ${packages[*]} failed:"
        tail -n 40 "$apt_log" >&2
        exit 1
    fi
fi

missing=()
have_postgresql || missing+=("PostgreSQL programs (initdb, pg_ctl, postgres, psql, pg_dumpall, pg_isready)")
have_mariadb_server || missing+=("mariadbd/mariadb-install-db")
have_mariadb_client || missing+=("mariadb/mariadb-dump/mariadb-admin")
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installed ${packages[*]} but still missing: ${missing[*]}"
    exit 1
fi
