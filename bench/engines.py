#!/usr/bin/env python3
"""Real-engine figures (issue 13): time and memory per instance of `clouddb-server --engines real`.

Starts a private clouddb-server with real engines in a temporary directory and, per engine
(`postgres`, and `mysql` as MariaDB; `--engines` picks), measures wall time from the API request to the end of its operation (or the answer, for the
synchronous on-demand backup):
  cold create    POST /instances (db-micro, the smallest tier) until READY
  backup         POST /instances/{name}/backups with a table of ROWS rows in one database
  restore        POST /instances with restore_from_backup until READY
and the idle RSS of an instance: the sum of VmRSS over the engine's processes, read from /proc
after IDLE_S seconds without requests (PostgreSQL: the postmaster named by postmaster.pid and every
process whose parent it is; MariaDB: the one mariadbd named by mariadbd.pid). Writes docs/benchmarks-engines.md (or prints with --out -). Stdlib only;
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
PASSWORD = "Bench-pass-1"
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


def pid_of(data_dir, pid_file):
    with open(os.path.join(data_dir, pid_file)) as f:
        return int(f.readline())


def postgres_rss(data_dir):
    """The postmaster (postmaster.pid) and its children: PostgreSQL forks a process per task."""
    pid = pid_of(data_dir, "postmaster.pid")
    return [pid] + children(pid)


def mariadb_rss(data_dir):
    """mariadbd alone (mariadbd.pid): one process, threads inside it."""
    return [pid_of(data_dir, "mariadbd.pid")]


def psql(port, sql):
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
                    "-U", "dbadmin", "-d", "shop", "-c", sql], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def mariadb(port, sql):
    # The password in the environment, not on the command line.
    env = dict(os.environ, MYSQL_PWD=PASSWORD)
    subprocess.run(["/usr/bin/mariadb", "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1",
                    "-P", str(port), "-u", "dbadmin", "-D", "shop", "-N", "-B", "-e", sql],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def version(cmd, strip=""):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
    return out.replace(strip, "")


# What differs per engine: the SQL client, the table fill, the processes of one instance.
ENGINES = {
    "postgres": {
        "label": "PostgreSQL",
        "query": psql,
        "fill": f"CREATE TABLE items AS SELECT g AS id, md5(g::text) AS label"
                f" FROM generate_series(1, {ROWS}) g",
        "processes": postgres_rss,
        "dump": "pg_dumpall",
        "init": "initdb, start, admin role",
        "buffer": "shared_buffers 16 MB",
        "version": lambda: "PostgreSQL " + version(["psql", "--version"], "psql (PostgreSQL) "),
    },
    "mysql": {
        "label": "MariaDB",
        "query": mariadb,
        # seq_1_to_N: MariaDB's built-in Sequence engine.
        "fill": f"CREATE TABLE items AS SELECT seq AS id, md5(seq) AS label FROM seq_1_to_{ROWS}",
        "processes": mariadb_rss,
        "dump": "mariadb-dump",
        "init": "mariadb-install-db, start, admin account, stop, start",
        "buffer": "innodb_buffer_pool_size 16 MB",
        # `mariadbd  Ver 10.11.14-MariaDB-0+deb12u2 for debian-linux-gnu on x86_64 (Debian 12)`
        "version": lambda: "MariaDB " + version(["mariadbd", "--version"]).split("Ver ", 1)[-1]
        .split(" for ", 1)[0],
    },
}


def find_data_dir(root, name):
    base = os.path.join(root, "engines", PROJECT)
    for d in os.listdir(base):
        if d.startswith(name + "-"):
            return os.path.join(base, d, "data")
    raise SystemExit(f"no engine directory for {name}")


def wait_deleted(base, name):
    t = time.time()
    while api(base, "GET", f"/v1/projects/{PROJECT}/instances/{name}")[0] != 404:
        if time.time() - t > 120:
            raise SystemExit(f"{name} not deleted")
        time.sleep(0.1)


def measure(base, root, runs, engine):
    e = ENGINES[engine]
    rows = []
    for i in range(runs):
        name, copy = f"{engine}-bench-{i}", f"{engine}-bench-{i}-copy"
        body = {"name": name, "engine": engine, "tier": "db-micro", "storage_gb": 10,
                "admin_password": PASSWORD}
        t = time.time()
        st, v = api(base, "POST", f"/v1/projects/{PROJECT}/instances", body)
        assert st == 202, v
        inst = wait_ready(base, name)
        create = time.time() - t
        inst_path = f"/v1/projects/{PROJECT}/instances/{name}"
        api(base, "POST", inst_path + "/firewallRules", {"name": "loopback", "cidr": "127.0.0.1/32"})
        api(base, "POST", inst_path + "/databases", {"name": "shop"})
        time.sleep(IDLE_S)
        procs = e["processes"](find_data_dir(root, name))
        idle = sum(rss_kib(p) for p in procs) / 1024
        e["query"](inst["endpoint"]["port"], e["fill"])
        t = time.time()
        st, b = api(base, "POST", inst_path + "/backups", {"name": f"{name}-b"})
        assert st == 201, b
        backup = time.time() - t
        t = time.time()
        st, v = api(base, "POST", f"/v1/projects/{PROJECT}/instances",
                    dict(body, name=copy, restore_from_backup=f"{name}-b"))
        assert st == 202, v
        wait_ready(base, copy)
        restore = time.time() - t
        rows.append({"create": create, "backup": backup, "restore": restore, "idle_mib": idle,
                     "procs": len(procs), "dump_bytes": b["size_bytes"]})
        for n in (name, copy):
            api(base, "DELETE", f"/v1/projects/{PROJECT}/instances/{n}?skip_final_backup=true")
        for n in (name, copy):
            wait_deleted(base, n)
        api(base, "DELETE", f"/v1/projects/{PROJECT}/backups/{name}-b")
    return rows


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def table(engine, rows):
    e = ENGINES[engine]
    m = lambda k: median([r[k] for r in rows])
    runs = lambda k, f: ", ".join(f.format(r[k]) for r in rows)
    procs = rows[0]["procs"]
    return [
        f"## `{engine}`: {e['version']()}",
        "",
        f"`db-micro` (the smallest tier: {e['buffer']}, max_connections 30).",
        "",
        "| figure | median | runs |",
        "|---|---:|---|",
        f"| cold create (POST until READY: {e['init']}) | {m('create'):.2f} s | "
        + runs("create", "{:.2f}") + " |",
        f"| on-demand backup ({e['dump']} of {ROWS:,} rows, {m('dump_bytes') / 1048576:.1f} MiB) | "
        f"{m('backup'):.2f} s | " + runs("backup", "{:.2f}") + " |",
        f"| restore (POST with restore_from_backup until READY) | {m('restore'):.2f} s | "
        + runs("restore", "{:.2f}") + " |",
        f"| idle RSS of one instance ({procs} process{'es' if procs != 1 else ''}, {IDLE_S} s"
        f" after create) | {m('idle_mib'):.1f} MiB | " + runs("idle_mib", "{:.1f}") + " |",
        "",
    ]


def report(results, server, runs):
    load = os.getloadavg()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
            cpu = f"{len(names)} × {names[0]}" if names else "?"
    except OSError:
        pass
    lines = [
        "# Benchmarks: real engines",
        "",
        "Generated by `bench/engines.sh` (issue 13); do not edit by hand. Rerun: `bench/engines.sh`"
        " (three instances per engine, about two minutes), `bench/engines.sh --runs 1 --out -`"
        " (print only), `--engines mysql` (one engine).",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, clouddb-server `{server}` with"
        f" `--engines real`; {cpu}, Linux {platform.release()}, load average"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end (the machine is shared, so"
        f" absolute figures move with it). Medians of {runs} run(s) per engine, one engine after"
        " the other on one server.",
        "",
    ]
    for engine, rows in results.items():
        lines += table(engine, rows)
    lines += [
        "PostgreSQL's RSS sums the postmaster and its children, and counts shared pages"
        " (shared_buffers, the binary) once per process, so it overstates what one more instance"
        " costs; it is the figure `ps` would add up. MariaDB is one process (threads), so its"
        " figure is mariadbd's own VmRSS.",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default="target/release/clouddb-server")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="postgres,mysql",
                    help="comma-separated API engine names: " + ", ".join(ENGINES))
    ap.add_argument("--out", default="docs/benchmarks-engines.md", help="file, or - to print only")
    a = ap.parse_args()
    engines = [e for e in a.engines.split(",") if e]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise SystemExit(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINES)}")
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
        results = {e: measure(base, root, a.runs, e) for e in engines}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
    md = report(results, a.server, a.runs)
    if a.out == "-":
        print(md)
    else:
        with open(a.out, "w") as f:
            f.write(md)
        print(md)
        print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
