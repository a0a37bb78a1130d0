#!/usr/bin/env python3
"""Interleaved A/B of provider builds: which one plans N instances with less provider CPU.

    bench/ab.py --provider A --provider B [--n 1000] [--runs 5] [-- extra plan arguments]

Back-to-back runs of one build drift by several per cent on a shared host (the same binary measured
167 and 179 µs per instance ten minutes apart), which hides the few per cent one change buys. Here
both builds plan the same state in the same workspace, alternating A, B, A, B, …, so drift hits both
alike. Each launch runs under `perf stat -e task-clock` (the process's CPU in microseconds, no
hardware counters needed), summed over a plan's launches; the report gives the median per build
with every run, the wall time and Terraform's CPU.

Setup: one clouddb-server (in memory, loopback, instant operations), `terraform apply` of N
instances with the first build, the measured plans, `terraform destroy`. Terraform finds the
provider through `dev_overrides`; the server and Terraform are stopped by PID.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procmeter  # noqa: E402
from apiserver import PROJECT, TOKEN, ApiServer  # noqa: E402
from profile import perf_task_clock_works, task_clock_s  # noqa: E402
from scale import config_hcl  # noqa: E402

WRAPPER = """#!/bin/sh
exec perf stat -x, -e task-clock -o "{out}/taskclock.${{AB_TAG:-x}}.$$" -- "{bin}" "$@"
"""


def measure(provs: list[str], n: int, runs: int, variants: list[list[str]], tf: str, server_bin: str,
            settings: str = "") -> dict[tuple[str, int], list[tuple[float, procmeter.Measurement]]]:
    """For each build and each variant of `terraform plan` arguments: `runs` plans, as (provider CPU
    in seconds by the task clock, the plan's measurement). Plans alternate over builds and variants."""
    work = tempfile.mkdtemp(prefix="clouddb-ab-")
    pdir, out, cfg = (os.path.join(work, d) for d in ("prov", "out", "cfg"))
    for d in (pdir, out, cfg):
        os.makedirs(d)
    current = os.path.join(pdir, "current")
    wrapper = os.path.join(pdir, "terraform-provider-clouddb")
    with open(wrapper, "w") as f:
        f.write(WRAPPER.format(out=out, bin=current))
    os.chmod(wrapper, 0o755)
    rc = os.path.join(work, "terraformrc")
    with open(rc, "w") as f:
        f.write(f'provider_installation {{\n  dev_overrides {{\n    "clouddb/clouddb" = "{pdir}"\n  }}\n'
                '  direct {}\n}\n')
    with open(os.path.join(cfg, "main.tf"), "w") as f:
        f.write(config_hcl("clouddb", n, settings))
    server = ApiServer(server_bin, os.path.join(work, "server.log"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(HOME=work, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=rc,
               CLOUDDB_ENDPOINT=server.endpoint, CLOUDDB_TOKEN=TOKEN, CLOUDDB_PROJECT=PROJECT)
    par = "-parallelism=10"

    def use(p: str) -> None:
        shutil.copy(p, current)

    def run(tag: str, cmd: list[str]) -> tuple[float, procmeter.Measurement]:
        m = procmeter.run(cmd, cfg, dict(env, AB_TAG=tag), os.path.join(out, f"{tag}.out"), timeout_s=1800)
        if m.rc != 0:
            raise RuntimeError(f"{tag}: exit code {m.rc}, see {out}/{tag}.out")
        return sum(task_clock_s(fn) for fn in glob.glob(os.path.join(out, f"taskclock.{tag}.*"))), m

    res: dict[tuple[str, int], list[tuple[float, procmeter.Measurement]]] = {}
    try:
        server.reset(0)
        use(provs[0])
        run("apply", [tf, "apply", "-auto-approve", "-input=false", "-no-color", par])
        plan = [tf, "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode", par]
        for i in range(runs):
            for v, extra in enumerate(variants):
                for j, p in enumerate(provs):
                    use(p)
                    res.setdefault((p, v), []).append(run(f"plan{j}_{v}_{i}", [*plan, *extra]))
        use(provs[0])
        run("destroy", [tf, "destroy", "-auto-approve", "-input=false", "-no-color", par])
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return res


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", action="append", required=True, help="a provider binary (give two or more)")
    ap.add_argument("--server", default=os.path.join(root, "target/release/clouddb-server"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5, help="plans per build")
    ap.add_argument("--tf", default="terraform")
    ap.add_argument("extra", nargs="*", help="extra `terraform plan` arguments (after --)")
    a = ap.parse_args()
    if len(a.provider) < 2:
        ap.error("give --provider at least twice")
    tf = shutil.which(a.tf)
    if not tf or not perf_task_clock_works():
        print("ab: needs terraform and a working `perf stat -e task-clock`", file=sys.stderr)
        return 2
    provs = [os.path.abspath(p) for p in a.provider]
    res = measure(provs, a.n, a.runs, [a.extra], tf, os.path.abspath(a.server),
                  os.environ.get("BENCH_PROVIDER_SETTINGS", ""))
    print(f"N={a.n}, -parallelism=10, {' '.join(a.extra) or 'refresh'}; {a.runs} plans per build, interleaved")
    for p in provs:
        rs = res[(p, 0)]
        cpu = [c for c, _ in rs]
        print(f"{p}: provider CPU median {statistics.median(cpu) * 1e6 / a.n:.1f} µs/instance "
              f"(runs {', '.join(f'{c * 1e3:.1f}' for c in cpu)} ms); "
              f"wall median {statistics.median(m.wall_s for _, m in rs):.2f} s; "
              f"Terraform CPU median {statistics.median(m.tf_cpu_s for _, m in rs):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
