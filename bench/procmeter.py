"""Runs one command and measures it and the provider processes it starts, from /proc.

Adapted from the measure.py that ../shared/bench/go-peer-scale.sh writes (same method, so our
figures and the Go peer's are measured alike): the process tree is polled every `poll_s`; for every
`terraform-provider-*` process the last seen utime+stime and VmHWM are kept. Terraform starts the
provider several times per command (schema, validate, then the one that works), so the CPU is the sum
over all of them and the peak RSS the largest. Terraform's own CPU is exact: everything the command
and its reaped children used (wait4) minus the providers'.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass

TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    rc: int
    wall_s: float
    provider_cpu_s: float | None
    provider_peak_rss_mib: float | None
    provider_procs: int
    tf_cpu_s: float
    tf_peak_rss_mib: float
    timed_out: bool


def _stat_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fs = s[s.rindex(")") + 2:].split()
        return int(fs[11]) + int(fs[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return None


def _hwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None  # gone, or a zombie (no Vm* lines)


def _exe(pid: int) -> str:
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return "?"


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


def _descendants(root: int) -> list[int]:
    seen, stack = [], [root]
    while stack:
        for c in _children(stack.pop()):
            if c not in seen:
                seen.append(c)
                stack.append(c)
    return seen


def run(cmd: list[str], cwd: str, env: dict[str, str], log_path: str,
        timeout_s: float = 900.0, poll_s: float = 0.01) -> Measurement:
    """Runs `cmd` to its end (SIGTERM to its process group after `timeout_s`, SIGKILL 10 s later)."""
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    prov: dict[int, dict] = {}
    tf_hwm = 0
    killed_at = None
    while True:
        wp, status, ru = os.wait4(p.pid, os.WNOHANG)
        if wp == p.pid:
            rc = os.waitstatus_to_exitcode(status)
            break
        for c in [p.pid] + _descendants(p.pid):
            name = _exe(c)
            h = _hwm_kib(c)
            if name.startswith("terraform-provider-"):
                r = prov.setdefault(c, {"cpu": 0, "hwm": 0})
                st = _stat_ticks(c)
                if st:
                    r["cpu"] = max(r["cpu"], st)
                if h:
                    r["hwm"] = max(r["hwm"], h)
            elif name.startswith("terraform") and h:
                tf_hwm = max(tf_hwm, h)
        now = time.perf_counter()
        if killed_at is None and now - t0 > timeout_s:
            killed_at = now
            os.killpg(p.pid, signal.SIGTERM)
        elif killed_at is not None and now - killed_at > 10:
            os.killpg(p.pid, signal.SIGKILL)
        time.sleep(poll_s)
    wall = time.perf_counter() - t0
    p.returncode = rc
    total_cpu = ru.ru_utime + ru.ru_stime
    prov_cpu = sum(r["cpu"] for r in prov.values()) / TCK
    return Measurement(
        rc=rc,
        wall_s=wall,
        provider_cpu_s=prov_cpu if prov else None,
        provider_peak_rss_mib=max(r["hwm"] for r in prov.values()) / 1024 if prov else None,
        provider_procs=len(prov),
        tf_cpu_s=max(total_cpu - prov_cpu, 0.0),
        tf_peak_rss_mib=tf_hwm / 1024,
        timed_out=killed_at is not None,
    )
