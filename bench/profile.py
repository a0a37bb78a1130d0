#!/usr/bin/env python3
"""Profiles a large refresh plan (issue 11): where the time goes, ours vs Terraform core's.

    cargo build --release --bins          # clouddb-server
    CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \\
        cargo build --release --target-dir target/profiling -p terraform-provider-clouddb
    bench/profile.py [--n 1000] [--tf terraform] [--callgrind] [--out .cache/profile]

The provider is the release build with symbols (same code and optimisation as the shipped one, only
not stripped). Terraform finds it through `dev_overrides` and a wrapper script that logs every launch
(so "provider launches per command" is exact, not polled) and, for the callgrind run, execs it under
valgrind. Steps: apply N instances (setup), then

1. `terraform plan` (refresh) under `perf record -g` (perf follows the provider Terraform starts, so
   one profile holds both processes): samples by process/DSO, the provider's top symbols;
2. the same for `terraform plan -refresh=false` (Terraform's own planning of our schema);
3. with --callgrind: `terraform plan` with the provider under callgrind (instructions by function,
   inclusive), for the launch that did the reads;
4. `terraform destroy`, counting launches.

Loopback only; the server and Terraform are stopped by PID. Results: OUT/summary.txt.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procmeter  # noqa: E402
from apiserver import PROJECT, TOKEN, ApiServer  # noqa: E402
from scale import config_hcl  # noqa: E402

WRAPPER = """#!/bin/sh
# Logs the launch, then runs the provider (under callgrind when BENCH_WRAP=callgrind).
echo "$$ ${{BENCH_PHASE:-?}}" >> "{log}"
if [ "${{BENCH_WRAP:-}}" = callgrind ]; then
    exec valgrind -q --tool=callgrind --callgrind-out-file="{out}/callgrind.%p" "{bin}" "$@"
fi
if [ "${{BENCH_WRAP:-}}" = heaptrack ]; then
    # The preload library directly: the heaptrack script prints to stdout, which carries the
    # plugin handshake. The raw trace is interpreted afterwards.
    LD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so DUMP_HEAPTRACK_OUTPUT="{out}/heaptrack.$$.raw" \
        exec "{bin}" "$@"
fi
if [ "${{BENCH_WRAP:-}}" = strace ]; then
    exec strace -f -c -o "{out}/strace.$$" "{bin}" "$@"
fi
if [ "${{BENCH_WRAP:-}}" = rusage ]; then
    exec /usr/bin/time -f "%U %S %M" -o "{out}/rusage.${{BENCH_PHASE:-x}}.$$" "{bin}" "$@"
fi
if [ "${{BENCH_WRAP:-}}" = rusage_perf ]; then
    # perf's task clock (microseconds) around time(1) (peak RSS, and CPU in 10 ms steps)
    exec perf stat -x, -e task-clock -o "{out}/taskclock.${{BENCH_PHASE:-x}}.$$" -- \
        /usr/bin/time -f "%U %S %M" -o "{out}/rusage.${{BENCH_PHASE:-x}}.$$" "{bin}" "$@"
fi
exec "{bin}" "$@"
"""


def sh(cmd: list[str], **kw) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return r.stdout + (r.stderr if r.returncode else "")


def perf_task_clock_works() -> bool:
    """perf's software task clock counts a process tree's CPU in microseconds (time(1) reports
    10 ms steps, a tenth of a small plan's provider CPU); it needs no hardware counters."""
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", "--", "true"], capture_output=True, text=True)
    return r.returncode == 0 and "task-clock" in r.stderr


def task_clock_s(path: str) -> float:
    """Seconds of CPU from a `perf stat -x, -e task-clock` output file (`1.17,msec,task-clock,...`).
    A file without a reading is an error: a launch counted as 0 s would pass for the fastest run."""
    for line in open(path):
        fields = line.strip().split(",")
        if len(fields) > 2 and fields[2] == "task-clock":
            try:
                return float(fields[0]) / 1e3
            except ValueError:
                break
    raise ValueError(f"{path}: no task-clock reading")


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--tf", default="terraform")
    ap.add_argument("--provider", default=os.path.join(root, "target/profiling/release/terraform-provider-clouddb"))
    ap.add_argument("--server", default=os.path.join(root, "target/release/clouddb-server"))
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--rusage-runs", type=int, default=0,
                    help="also run each plan K times with every launch under /usr/bin/time (peak RSS, "
                         "user/system CPU) and, where it works, perf stat's task clock (CPU in "
                         "microseconds), summed over the launches (no polling)")
    ap.add_argument("--strace", action="store_true",
                    help="also run the plan with every launch under `strace -c`: system calls of the launch "
                         "that did the reads (writes and waits per RPC)")
    ap.add_argument("--heaptrack", action="store_true",
                    help="also run the plan with every launch under heaptrack: peak heap by allocation site")
    ap.add_argument("--no-perf", action="store_true", help="skip the perf record plans")
    ap.add_argument("--out", default=os.path.join(root, ".cache/profile"))
    a = ap.parse_args()
    tf = shutil.which(a.tf)
    if not tf:
        print(f"profile: {a.tf} not found", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    task_clock = a.rusage_runs > 0 and perf_task_clock_works()
    for old in glob.glob(os.path.join(a.out, "callgrind.*")):
        os.remove(old)
    work = tempfile.mkdtemp(prefix="clouddb-profile-")
    launches = os.path.join(a.out, "launches.log")
    open(launches, "w").close()
    pdir = os.path.join(work, "prov")
    os.makedirs(pdir)
    wrapper = os.path.join(pdir, "terraform-provider-clouddb")
    with open(wrapper, "w") as f:
        f.write(WRAPPER.format(log=launches, out=a.out, bin=os.path.abspath(a.provider)))
    os.chmod(wrapper, 0o755)
    rc = os.path.join(work, "terraformrc")
    with open(rc, "w") as f:
        f.write(f'provider_installation {{\n  dev_overrides {{\n    "clouddb/clouddb" = "{pdir}"\n  }}\n'
                '  direct {}\n}\n')
    cfg = os.path.join(work, "cfg")
    os.makedirs(cfg)
    with open(os.path.join(cfg, "main.tf"), "w") as f:
        f.write(config_hcl("clouddb", a.n, os.environ.get("BENCH_PROVIDER_SETTINGS", "")))
    server = ApiServer(a.server, os.path.join(work, "server.log"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(HOME=work, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=rc,
               CLOUDDB_ENDPOINT=server.endpoint, CLOUDDB_TOKEN=TOKEN, CLOUDDB_PROJECT=PROJECT)
    summary: list[str] = [f"N={a.n}, {sh([tf, 'version']).splitlines()[0]}, provider {a.provider}"]
    par = "-parallelism=10"
    plan = [tf, "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode", par]

    def run(phase: str, cmd: list[str], wrap: str = "") -> procmeter.Measurement:
        e = dict(env, BENCH_PHASE=phase, BENCH_WRAP=wrap)
        m = procmeter.run(cmd, cfg, e, os.path.join(a.out, f"{phase}.out"), timeout_s=1800)
        n_launch = sum(1 for ln in open(launches) if ln.split()[1:2] == [phase])
        server.take()
        summary.append(f"{phase}: rc {m.rc}, wall {m.wall_s:.2f} s, terraform CPU {m.tf_cpu_s:.2f} s, "
                       f"provider CPU {m.provider_cpu_s or 0:.2f} s, provider launches {n_launch}")
        print(summary[-1], file=sys.stderr, flush=True)
        if m.rc != 0:
            raise RuntimeError(f"{phase} failed, see {a.out}/{phase}.out")
        return m

    try:
        server.reset(0)
        run("apply", [tf, "apply", "-auto-approve", "-input=false", "-no-color", par])
        for phase, extra in (("plan", []), ("plan_norefresh", ["-refresh=false"])):
            if a.no_perf:
                break
            data = os.path.join(a.out, f"perf-{phase}.data")
            run(phase, ["perf", "record", "-q", "-F", "997", "-g", "-o", data, "--", *plan, *extra])
            by = sh(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none", "--sort", "comm,dso",
                     "--percent-limit", "1"])
            summary += [f"--- perf {phase}: samples by process and DSO", *[ln for ln in by.splitlines()
                                                                            if ln.strip() and not ln.startswith("#")][:25]]
            top = sh(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
                      "--dsos", "terraform-provider-clouddb", "--sort", "sym", "--percent-limit", "0.5"])
            summary += [f"--- perf {phase}: provider symbols (self)", *[ln for ln in top.splitlines()
                                                                         if ln.strip() and not ln.startswith("#")][:40]]
        for phase, extra in (("plan", []), ("plan_norefresh", ["-refresh=false"])):
            rows = []
            for k in range(a.rusage_runs):
                tag = f"{phase}_rusage{k}"
                for old in glob.glob(os.path.join(a.out, f"rusage.{tag}.*")) + \
                        glob.glob(os.path.join(a.out, f"taskclock.{tag}.*")):
                    os.remove(old)
                m = run(tag, [*plan, *extra], wrap="rusage_perf" if task_clock else "rusage")
                user = sys_ = 0.0
                rss = 0
                for fn in glob.glob(os.path.join(a.out, f"rusage.{tag}.*")):
                    fs = open(fn).read().split()[-3:]
                    user, sys_, rss = user + float(fs[0]), sys_ + float(fs[1]), max(rss, int(fs[2]))
                clock = sum(task_clock_s(fn) for fn in glob.glob(os.path.join(a.out, f"taskclock.{tag}.*")))
                # sorted by the finer clock when there is one
                rows.append((clock if task_clock else user + sys_, user, sys_, rss, m.wall_s))
            if rows:
                rows.sort()
                tot, user, sys_, rss, wall = rows[len(rows) // 2]
                how = "perf task clock" if task_clock else "user + system"
                summary.append(f"--- rusage {phase} (median of {len(rows)} by CPU, {how}): {tot * 1e3:.1f} ms = "
                               f"{tot * 1e6 / a.n:.0f} µs/instance (user {user:.2f} s + system {sys_:.2f} s in "
                               f"10 ms steps), peak RSS {rss / 1024:.1f} MiB, wall {wall:.2f} s; all runs (cpu s): "
                               + ", ".join(f"{r[0]:.4f}" for r in rows))
                print(summary[-1], file=sys.stderr, flush=True)
        if a.strace:
            for old in glob.glob(os.path.join(a.out, "strace.*")):
                os.remove(old)
            run("plan_strace", plan, wrap="strace")
            outs = sorted(glob.glob(os.path.join(a.out, "strace.*")), key=os.path.getsize)
            for out in outs[-1:]:
                summary += [f"--- strace -c of {os.path.basename(out)} (the largest launch)",
                            *open(out).read().splitlines()[:22]]
        if a.heaptrack:
            for old in glob.glob(os.path.join(a.out, "heaptrack.*")):
                os.remove(old)
            run("plan_heaptrack", plan, wrap="heaptrack")
            outs = sorted(glob.glob(os.path.join(a.out, "heaptrack.*.raw")), key=os.path.getsize)
            for raw in outs[-1:]:
                with open(raw, "rb") as fin, open(raw[:-4] + ".txt", "wb") as fout:
                    subprocess.run(["/usr/lib/heaptrack/libexec/heaptrack_interpret"], stdin=fin, stdout=fout, check=True)
            outs = [o[:-4] + ".txt" for o in outs[-1:]]
            if outs:
                ann = sh(["heaptrack_print", "--print-peaks", "1", "--print-allocators", "0",
                          "--print-temporary", "0", "--print-leaks", "0", "--peak-limit", "25", outs[-1]])
                summary += [f"--- heaptrack peak of {os.path.basename(outs[-1])}", *ann.splitlines()[-400:]]
        if a.callgrind:
            run("plan_callgrind", plan, wrap="callgrind")
            outs = sorted(glob.glob(os.path.join(a.out, "callgrind.*")), key=os.path.getsize)
            if outs:
                ann = sh(["callgrind_annotate", "--inclusive=yes", outs[-1]])
                summary += [f"--- callgrind (inclusive) of {os.path.basename(outs[-1])}", *ann.splitlines()[:80]]
                ann = sh(["callgrind_annotate", outs[-1]])
                summary += ["--- callgrind (self)", *ann.splitlines()[:60]]
        run("destroy", [tf, "destroy", "-auto-approve", "-input=false", "-no-color", par])
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        with open(os.path.join(a.out, "summary.txt"), "w") as f:
            f.write("\n".join(summary) + "\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
