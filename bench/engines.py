#!/usr/bin/env python3
"""Real-engine figures (issue 13): time and memory per instance of `clouddb-server --engines real`.

Starts a private clouddb-server with real engines in a temporary directory and, per engine,
measures wall time from the API request to the end of its operation (or the answer, for the
synchronous on-demand backup):
  cold create    POST /instances (db-micro, the smallest tier) until READY
  backup         POST /instances/{name}/backups with a table of ROWS rows in one database
  restore        POST /instances with restore_from_backup until READY
and the idle RSS of an instance: the sum of VmRSS over the engine's processes (the postmaster
named by its pid file and every process whose parent it is), read from /proc after IDLE_S seconds
without requests. Writes docs/benchmarks-engines.md (or prints with --out -). Stdlib only;
loopback only; the server is stopped by PID (SIGTERM: it stops its engines).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN, PROJECT = "bench-token", "bench"
ROWS = 100_000
IDLE_S = 5


def api(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_ready(base, name, timeout=300):
    t = time.time()
    while time.time() - t < timeout:
        _, v = api(base, "GET", f"/v1/projects/{PROJECT}/instances/{name}")
        if v and v.get("state") in ("READY", "FAILED") and not v.get("current_operation"):
            if v["state"] != "READY":
                raise SystemExit(f"{name} is {v['state']}")
            return v
        time.sleep(0.05)
    raise SystemExit(f"{name} not READY after {timeout} s")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid == pid:
                    out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def engine_rss_mib(data_dir):
    """Sum of VmRSS of the postmaster (postmaster.pid) and its children, in MiB."""
    pid_file = os.path.join(data_dir, "postmaster.pid")
    with open(pid_file) as f:
        pid = int(f.readline())
    procs = [pid] + children(pid)
    return sum(rss_kib(p) for p in procs) / 1024, len(procs)


def find_data_dir(root, name):
    base = os.path.join(root, "engines", PROJECT)
    for d in os.listdir(base):
        if d.startswith(name + "-"):
            return os.path.join(base, d, "data")
    raise SystemExit(f"no engine directory for {name}")


def psql(port, sql):
    env = dict(os.environ, PGPASSWORD="Bench-pass-1")
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
                    "-U", "dbadmin", "-d", "shop", "-c", sql], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def measure(base, root, runs):
    rows = []
    for i in range(runs):
        name, copy = f"pg-bench-{i}", f"pg-bench-{i}-copy"
        body = {"name": name, "engine": "postgres", "tier": "db-micro", "storage_gb": 10,
                "admin_password": "Bench-pass-1"}
        t = time.time()
        st, v = api(base, "POST", f"/v1/projects/{PROJECT}/instances", body)
        assert st == 202, v
        inst = wait_ready(base, name)
        create = time.time() - t
        inst_path = f"/v1/projects/{PROJECT}/instances/{name}"
        api(base, "POST", inst_path + "/firewallRules", {"name": "loopback", "cidr": "127.0.0.1/32"})
        api(base, "POST", inst_path + "/databases", {"name": "shop"})
        time.sleep(IDLE_S)
        idle, nprocs = engine_rss_mib(find_data_dir(root, name))
        psql(inst["endpoint"]["port"],
             f"CREATE TABLE items AS SELECT g AS id, md5(g::text) AS label FROM generate_series(1, {ROWS}) g")
        t = time.time()
        st, b = api(base, "POST", inst_path + "/backups", {"name": f"{name}-b"})
        assert st == 201, b
        backup = time.time() - t
        t = time.time()
        st, v = api(base, "POST", f"/v1/projects/{PROJECT}/instances",
                    {"name": copy, "tier": "db-micro", "storage_gb": 10,
                     "admin_password": "Bench-pass-1", "restore_from_backup": f"{name}-b"})
        assert st == 202, v
        wait_ready(base, copy)
        restore = time.time() - t
        rows.append({"create": create, "backup": backup, "restore": restore, "idle_mib": idle,
                     "procs": nprocs, "dump_bytes": b["size_bytes"]})
        for n in (name, copy):
            api(base, "DELETE", f"/v1/projects/{PROJECT}/instances/{n}?skip_final_backup=true")
        for n in (name, copy):
            t = time.time()
            while api(base, "GET", f"/v1/projects/{PROJECT}/instances/{n}")[0] != 404:
                if time.time() - t > 120:
                    raise SystemExit(f"{n} not deleted")
                time.sleep(0.1)
        api(base, "DELETE", f"/v1/projects/{PROJECT}/backups/{name}-b")
    return rows


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def report(rows, server, pg_version):
    load = os.getloadavg()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
            cpu = f"{len(names)} × {names[0]}" if names else "?"
    except OSError:
        pass
    m = lambda k: median([r[k] for r in rows])
    return "\n".join([
        "# Benchmarks: real engines",
        "",
        "Generated by `bench/engines.sh` (issue 13); do not edit by hand. Rerun: `bench/engines.sh`"
        " (three instances, about a minute), `bench/engines.sh --runs 1 --out -` (print only).",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {pg_version}, clouddb-server"
        f" `{server}` with `--engines real`; {cpu}, Linux {platform.release()}, load average"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end (the machine is shared, so"
        " absolute figures move with it). Medians of "
        f"{len(rows)} run(s); every instance is `postgres` on `db-micro` (the smallest tier:"
        " shared_buffers 16 MB, max_connections 30).",
        "",
        "| figure | median | runs |",
        "|---|---:|---|",
        f"| cold create (POST until READY: initdb, start, admin role) | {m('create'):.2f} s | "
        + ", ".join(f"{r['create']:.2f}" for r in rows) + " |",
        f"| on-demand backup (pg_dumpall of {ROWS:,} rows, {m('dump_bytes') / 1048576:.1f} MiB) | "
        f"{m('backup'):.2f} s | " + ", ".join(f"{r['backup']:.2f}" for r in rows) + " |",
        f"| restore (POST with restore_from_backup until READY) | {m('restore'):.2f} s | "
        + ", ".join(f"{r['restore']:.2f}" for r in rows) + " |",
        f"| idle RSS of one instance ({rows[0]['procs']} processes, {IDLE_S} s after create) | "
        f"{m('idle_mib'):.1f} MiB | " + ", ".join(f"{r['idle_mib']:.1f}" for r in rows) + " |",
        "",
        "RSS counts shared pages (shared_buffers, the binary) once per process, so the sum"
        " overstates what one more instance costs; it is the figure `ps` would add up.",
        "",
    ])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default="target/release/clouddb-server")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="docs/benchmarks-engines.md", help="file, or - to print only")
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="clouddb-bench-engines-")
    proc = subprocess.Popen([a.server, "--listen", "127.0.0.1:0", "--engines", "real",
                             "--data", os.path.join(root, "clouddb.db"),
                             "--token", f"{TOKEN}={PROJECT}", "--rate-limit", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"clouddb-server did not start: {line!r}")
        base = line.split()[2].rstrip("/")
        rows = measure(base, root, a.runs)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    md = report(rows, a.server, pg.replace("psql (PostgreSQL) ", "PostgreSQL "))
    if a.out == "-":
        print(md)
    else:
        with open(a.out, "w") as f:
            f.write(md)
        print(md)
        print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
