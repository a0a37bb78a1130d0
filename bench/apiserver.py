"""A private clouddb-server for the benchmark: loopback only, in memory, instant operations.

The server is started with `--listen 127.0.0.1:0` (it picks a free port and prints it on its first
stdout line) and stopped by its PID. The admin API sets the latency fault and reads the request log,
which is how the suite counts API requests per command.
"""
from __future__ import annotations

import http.client
import json
import subprocess
from collections import Counter

TOKEN = "bench-token"
PROJECT = "bench"
ADMIN_TOKEN = "bench-admin"


class ApiServer:
    def __init__(self, binary: str, log_path: str):
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--in-memory",
             "--token", f"{TOKEN}={PROJECT}", "--admin-token", ADMIN_TOKEN,
             "--provision-time", "0", "--update-time", "0", "--delete-time", "0",
             # The benchmark must never be throttled: 0 turns the per-token limit off.
             "--rate-limit", "0"],
            stdout=subprocess.PIPE, stderr=self._log, text=True)
        line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
        if not line.startswith("listening on http://"):
            self.stop()
            raise RuntimeError(f"clouddb-server did not start (first line {line!r}); see {log_path}")
        self.addr = line.removeprefix("listening on http://")
        if not self.addr.startswith("127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"clouddb-server listens on {self.addr}, not loopback")
        self.endpoint = f"http://{self.addr}"
        self.seq = 0  # last request-log entry already counted

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def _admin(self, method: str, path: str, body: dict | None = None):
        host, port = self.addr.split(":")
        c = http.client.HTTPConnection(host, int(port), timeout=60)
        payload = json.dumps(body) if body is not None else None
        c.request(method, path, body=payload, headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status // 100 != 2:
            raise RuntimeError(f"admin {method} {path}: {r.status} {data[:300]!r}")
        return json.loads(data) if data else None

    def reset(self, latency_ms: int) -> None:
        """Empties the server (reset also clears faults), then sets the latency rule for every request."""
        self._admin("POST", "/admin/reset")
        if latency_ms > 0:
            self._admin("POST", "/admin/faults", {"kind": "latency", "millis": latency_ms})
        self.mark()

    def mark(self) -> None:
        """Starts a new counting window at the end of the request log."""
        entries = self._admin("GET", f"/admin/requests?since={self.seq}")
        if entries:
            self.seq = entries[-1]["seq"]

    def take(self) -> tuple[int, Counter, int]:
        """Requests since the last mark: (count, by 'METHOD route', count of 429 answers)."""
        entries = self._admin("GET", f"/admin/requests?since={self.seq}")
        if entries:
            self.seq = entries[-1]["seq"]
        routes = Counter(f"{e['method']} {route_of(e['path'])}" for e in entries)
        throttled = sum(1 for e in entries if e.get("status") == 429)
        return len(entries), routes, throttled


def route_of(path: str) -> str:
    """Collapses names so routes can be counted: /v1/projects/bench/instances/b-7 -> .../instances/{name}."""
    parts = path.split("?")[0].strip("/").split("/")
    out = []
    for i, p in enumerate(parts):
        prev = parts[i - 1] if i else ""
        out.append("{}" if prev in ("projects", "instances", "operations", "databases", "users",
                                    "firewallRules", "backups") else p)
    return "/" + "/".join(out)

