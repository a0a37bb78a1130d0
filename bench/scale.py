#!/usr/bin/env python3
"""The scale benchmark (issue 11): our provider through the real Terraform CLI against a private
clouddb-server, beside the floor (terraform_data, no provider work) and the Go peer, in one run.

Run it through bench/scale.sh (which builds the release binaries first). Loopback only; every process
started here is stopped by its PID. Prints progress on stderr, the tables on stdout, and writes
docs/benchmarks.md with SVG plots under docs/benchmarks/ (the hand-written profile section between
the `profile:begin`/`profile:end` markers is kept as it is). The target row's provider CPU is also
measured exactly, with every launch under `perf stat -e task-clock` (bench/ab.py's `measure`).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procmeter  # noqa: E402
import report  # noqa: E402
from apiserver import PROJECT, TOKEN, ApiServer  # noqa: E402

PROVIDER_VERSION = "0.1.0"
COMMANDS = ("apply", "plan", "plan_norefresh", "destroy")


@dataclass
class Result:
    subject: str          # "clouddb" | "floor"
    latency_ms: int
    parallelism: int
    n: int
    command: str
    m: procmeter.Measurement
    requests: int | None = None
    throttled: int | None = None
    routes: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)  # wall_s of every run (plans run several times)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def tf_args(command: str, parallelism: int) -> list[str]:
    par = f"-parallelism={parallelism}"
    return {
        "apply": ["apply", "-auto-approve", "-input=false", "-no-color", par],
        "plan": ["plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode", par],
        "plan_norefresh": ["plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode",
                           "-refresh=false", par],
        "destroy": ["destroy", "-auto-approve", "-input=false", "-no-color", par],
    }[command]


def config_hcl(subject: str, n: int, settings: str) -> str:
    if subject == "floor":
        return f'resource "terraform_data" "r" {{\n  count = {n}\n  input = "b-${{count.index}}"\n}}\n'
    return (
        'terraform {\n  required_providers {\n    clouddb = {\n      source  = "clouddb/clouddb"\n'
        f'      version = "{PROVIDER_VERSION}"\n    }}\n  }}\n}}\n\n'
        f'provider "clouddb" {{\n{settings}\n}}\n\n'
        f'resource "clouddb_instance" "i" {{\n  count      = {n}\n  name       = "b-${{count.index}}"\n'
        '  tier       = "db-small"\n  storage_gb = 20\n}\n'
    )


class Workspace:
    """An isolated Terraform environment: its own HOME, CLI config, mirror holding our provider."""

    def __init__(self, root: str, provider: str, server: ApiServer):
        self.root = root
        mirror = os.path.join(root, "mirror")
        pkg = os.path.join(mirror, f"registry.terraform.io/clouddb/clouddb/{PROVIDER_VERSION}/linux_amd64")
        os.makedirs(pkg)
        shutil.copy2(provider, os.path.join(pkg, f"terraform-provider-clouddb_v{PROVIDER_VERSION}"))
        rc = os.path.join(root, "terraformrc")
        with open(rc, "w") as f:
            f.write(f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{mirror}"\n'
                    '    include = ["registry.terraform.io/clouddb/*"]\n  }\n}\n')
        os.makedirs(os.path.join(root, "home"))
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("TF_") or k.startswith("CLOUDDB_") or k.lower().endswith("_proxy"))}
        env.update(HOME=os.path.join(root, "home"), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                   TF_CLI_CONFIG_FILE=rc, CLOUDDB_ENDPOINT=server.endpoint, CLOUDDB_TOKEN=TOKEN,
                   CLOUDDB_PROJECT=PROJECT, NO_PROXY="*")
        self.env = env

    def config_dir(self, subject: str, n: int, settings: str, tf: str) -> str:
        d = os.path.join(self.root, f"{subject}-{n}")
        if not os.path.isdir(d):
            os.makedirs(d)
            with open(os.path.join(d, "main.tf"), "w") as f:
                f.write(config_hcl(subject, n, settings))
            r = subprocess.run([tf, "init", "-input=false", "-no-color"], cwd=d, env=self.env,
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"terraform init in {d} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
        return d


def measure_command(ws: Workspace, server: ApiServer | None, tf: str, d: str, res_key: tuple,
                    command: str, runs: int, timeout_s: float) -> Result:
    subject, latency, par, n = res_key
    ms, walls = [], []
    requests = throttled = None
    routes: dict = {}
    # Plans change nothing, so they are repeated and the median kept; apply/destroy run once.
    for i in range(runs if command.startswith("plan") else 1):
        if server:
            server.mark()
        m = procmeter.run([tf, *tf_args(command, par)], d, ws.env,
                          os.path.join(d, f"{command}-{i}.out"), timeout_s=timeout_s)
        if server:
            requests, rts, throttled = server.take()
            routes = dict(rts)
        if m.rc != 0 or m.timed_out:
            tail = open(os.path.join(d, f"{command}-{i}.out")).read()[-3000:]
            raise RuntimeError(f"{subject} N={n} p={par} latency={latency}ms: terraform {command} "
                               f"exit code {m.rc} (plans must show no changes):\n{tail}")
        ms.append(m)
        walls.append(m.wall_s)
    med = sorted(ms, key=lambda x: x.wall_s)[len(ms) // 2]
    return Result(subject, latency, par, n, command, med, requests, throttled, routes, walls)


def handshake(bin_path: str, runs: int, out_json: str) -> dict | None:
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([sys.executable, os.path.join(here, "handshake_time.py"), "-q", "-n", str(runs),
                        "-w", "3", "--mtls", "--protocol", "6", "--json", out_json, bin_path],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        log(f"handshake measurement of {bin_path} failed: {r.stderr[-500:]}")
        return None
    with open(out_json) as f:
        return json.load(f)["summary"]


def go_peer(shared: str, n: int, par: int, tf: str, runs: int) -> dict | None:
    env = dict(os.environ, PARALLELISM=str(par), RUNS=str(runs))
    r = subprocess.run(["bash", os.path.join(shared, "go-peer-scale.sh"), str(n), tf], env=env,
                       capture_output=True, text=True, timeout=3600)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        log(f"go peer N={n} p={par} failed (rc {r.returncode}): {r.stderr[-800:]}")
        return None
    return json.loads(lines[-1])


def machine_info() -> dict:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "load": " / ".join(f"{x:.1f}" for x in os.getloadavg())}


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 1, 100 only, one run per plan")
    ap.add_argument("--tf", default=os.environ.get("BENCH_TF", "terraform"),
                    help="Terraform CLI (default $BENCH_TF or terraform on PATH)")
    ap.add_argument("--n", default=None, help="comma-separated instance counts (default 1,100,1000)")
    ap.add_argument("--parallelism", default="10,50")
    ap.add_argument("--latency-ms", default="0,2", help="API latencies to run (fault rule), ms")
    ap.add_argument("--plan-runs", type=int, default=None, help="runs per plan, median kept (default 3; quick 1)")
    ap.add_argument("--handshake-runs", type=int, default=30)
    ap.add_argument("--exact-runs", type=int, default=None,
                    help="plans (and -refresh=false plans) of the target row measured again with every "
                         "launch under `perf stat -e task-clock`, exact provider CPU (default 3; quick 0)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")))
    ap.add_argument("--shared", default=os.environ.get("SHARED_BENCH", os.path.join(root, "..", "shared", "bench")))
    ap.add_argument("--out", default=os.path.join(root, "docs", "benchmarks.md"),
                    help="Markdown report ('-' = do not write)")
    ap.add_argument("--timeout", type=float, default=600, help="limit per terraform command, s")
    ap.add_argument("--budget-min", type=float, default=20,
                    help="stop starting new measurements after this many minutes (the report says so)")
    ap.add_argument("--server", default=os.environ.get("BENCH_SERVER"),
                    help="clouddb-server binary (default the release build)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    ns = [int(x) for x in (a.n or ("1,100" if a.quick else "1,100,1000")).split(",")]
    pars = [int(x) for x in a.parallelism.split(",")]
    lats = [int(x) for x in a.latency_ms.split(",")]
    plan_runs = a.plan_runs or (1 if a.quick else 3)
    exact_runs = a.exact_runs if a.exact_runs is not None else (0 if a.quick else 3)
    settings = os.environ.get("BENCH_PROVIDER_SETTINGS", "")
    tf = shutil.which(a.tf)
    if not tf:
        print(f"bench: terraform CLI {a.tf!r} not found", file=sys.stderr)
        return 2
    provider = os.path.join(a.target_dir, "release", "terraform-provider-clouddb")
    server_bin = a.server or os.path.join(a.target_dir, "release", "clouddb-server")
    for b in (provider, server_bin):
        if not os.access(b, os.X_OK):
            print(f"bench: {b} missing: run `cargo build --release -p terraform-provider-clouddb -p clouddb-server --bins` (bench/scale.sh does)", file=sys.stderr)
            return 2
    shared = os.path.abspath(a.shared)
    have_shared = os.path.isfile(os.path.join(shared, "go-peer-scale.sh"))
    if not have_shared:
        log(f"{shared}/go-peer-scale.sh not found: the Go-peer column is skipped")

    t_start = time.time()
    tfv = subprocess.run([tf, "version"], capture_output=True, text=True).stdout.splitlines()[0]
    commit = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "terraform": tfv,
            "commit": commit, "settings": settings, "server": os.path.relpath(server_bin, root), "machine": machine_info(), "ns": ns,
            "parallelism": pars, "latencies": lats, "plan_runs": plan_runs, "quick": a.quick,
            "skipped": []}
    log(f"{tfv}, provider {commit}, N={ns}, -parallelism={pars}, latency={lats} ms, "
        f"settings={settings!r}, load {meta['machine']['load']}")

    work = tempfile.mkdtemp(prefix="clouddb-bench-")
    server = ApiServer(server_bin, os.path.join(work, "server.log"))
    results: list[Result] = []
    static: dict = {"binary_bytes": os.path.getsize(provider)}
    peers: list[dict] = []
    try:
        log("handshake (mTLS) ...")
        static["handshake"] = handshake(provider, a.handshake_runs, os.path.join(work, "hs-rust.json"))
        peer_bin = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                                "bench-peers", "terraform-provider-workato_v0.16.0")
        if have_shared and not os.access(peer_bin, os.X_OK):
            # go-peer-scale.sh would fetch it later, too late for the handshake column.
            log("fetching the Go peer (../shared/bench/fetch-peers.sh) ...")
            r = subprocess.run(["bash", os.path.join(shared, "fetch-peers.sh"), os.path.dirname(peer_bin)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                log(f"fetch-peers.sh failed: {r.stderr[-500:]}")
        if have_shared and os.access(peer_bin, os.X_OK):
            static["peer_binary_bytes"] = os.path.getsize(peer_bin)
            static["peer_handshake"] = handshake(peer_bin, a.handshake_runs, os.path.join(work, "hs-go.json"))

        ws = Workspace(work, provider, server)
        # Order: what the targets need first (no latency, the floor, the Go peer), then the latency
        # rows, so a run cut short by the time budget still answers the targets.
        tasks = [("clouddb", lat, par, n) for lat in lats if lat == 0 for par in pars for n in ns]
        tasks += [("floor", 0, par, n) for par in pars for n in ns]
        tasks += [("peer", 0, par, n) for par in pars for n in ns] if have_shared else []
        # The target row's provider CPU once more, exactly: /proc polling (the Go peer's method,
        # kept for the rows) misses short launches and counts in 10 ms ticks.
        tasks += [("exact", 0, 10, max(ns))] if exact_runs > 0 and 10 in pars else []
        tasks += [("clouddb", lat, par, n) for lat in lats if lat != 0 for par in pars for n in ns]
        if not have_shared:
            meta["skipped"].append(f"Go peer: {shared}/go-peer-scale.sh not found")
        for i, key in enumerate(tasks, 1):
            subject, lat, par, n = key
            if time.time() - t_start > a.budget_min * 60:
                meta["skipped"].append(f"{subject} N={n} p={par} latency={lat} ms (time budget)")
                continue
            if subject == "peer":
                log(f"[{i}/{len(tasks)}] Go peer N={n} p={par} ...")
                p = go_peer(shared, n, par, tf, plan_runs)
                if p:
                    peers.append(p)
                    log(f"Go peer N={n} p={par}: {p['wall_s']} s, provider CPU {p['provider_cpu_s']} s, "
                        f"peak RSS {p['provider_peak_rss_mib']} MiB, requests {p['requests']}")
                continue
            if subject == "exact":
                import ab  # noqa: PLC0415 (ab imports this module)
                from profile import perf_task_clock_works  # noqa: PLC0415
                if not perf_task_clock_works():
                    meta["skipped"].append("exact provider CPU: `perf stat -e task-clock` does not work here")
                    continue
                log(f"[{i}/{len(tasks)}] exact provider CPU (perf task clock), N={n} p={par}, "
                    f"{exact_runs} plans each ...")
                server.reset(0)
                got = ab.measure([provider], n, exact_runs, [[], ["-refresh=false"]], tf, server_bin, settings)
                static["exact_cpu"] = {"n": n, "parallelism": par, "runs": exact_runs,
                                       "plan": [c for c, _ in got[(provider, 0)]],
                                       "plan_norefresh": [c for c, _ in got[(provider, 1)]]}
                log(f"exact provider CPU: plan {static['exact_cpu']['plan']}, "
                    f"-refresh=false {static['exact_cpu']['plan_norefresh']} s")
                continue
            d = ws.config_dir(subject, n, settings, tf)
            srv = server if subject == "clouddb" else None
            if srv:
                srv.reset(lat)
            for command in COMMANDS:
                r = measure_command(ws, srv, tf, d, key, command, plan_runs, a.timeout)
                results.append(r)
                log(f"[{i}/{len(tasks)}] {subject:7} latency={lat}ms p={par:<2} N={n:<4} {command:14} "
                    f"{r.m.wall_s:6.2f} s  provider CPU {r.m.provider_cpu_s or 0:5.2f} s  "
                    f"requests {r.requests if r.requests is not None else '-'}")
    finally:
        server.stop()
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    meta["elapsed_s"] = round(time.time() - t_start)
    meta["machine"]["load_end"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    md, plots = report.render(meta, static, results, peers)
    print(md)
    if a.out != "-":
        report.write(a.out, md, plots)
        log(f"wrote {a.out} and {len(plots)} plots")
    log(f"done in {meta['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
