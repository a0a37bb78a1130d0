#!/usr/bin/env python3
# Copied unchanged (but for this note) from ../shared/bench/handshake-time.py, so the suite measures the
# handshake without ../shared; keep it in step with the shared harness.
"""handshake-time.py - time a Terraform provider's go-plugin handshake.

Starts a provider binary the way Terraform's plugin client does (magic cookie,
PLUGIN_PROTOCOL_VERSIONS, PLUGIN_MIN_PORT/PLUGIN_MAX_PORT and, with --mtls, a
PEM client certificate in PLUGIN_CLIENT_CERT), and measures the wall time from
just before exec until the handshake line

    CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDRESS|PROTOCOL[|SERVER-CERT]

has been read from its stdout. It then parses and checks that line, connects
once to the advertised address (so "handshake" means "listening"), reads VmRSS,
VmHWM and Threads from /proc/PID/status, and kills the process (SIGTERM, then
SIGKILL). This repeats N times and min / median / max are printed.

Standard library only; --mtls needs the `openssl` command (or the Python
`cryptography` package). Each run gets its own TMPDIR, so the unix socket the
provider creates is removed afterwards even if the provider does not clean up.

Examples:
  bench/handshake-time.py -n 30 path/to/terraform-provider-foo
  bench/handshake-time.py -n 30 --mtls --protocol 6 path/to/terraform-provider-foo
  bench/handshake-time.py -n 10 --protocol 5 --json out.json path/to/provider
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def make_client_cert(workdir: str) -> str:
    """Return a self-signed PEM certificate like go-plugin's AutoMTLS client
    certificate (ECDSA P-521, CN=localhost, O=HashiCorp, CA, client+server auth)."""
    if shutil.which("openssl"):
        key = os.path.join(workdir, "client.key")
        crt = os.path.join(workdir, "client.crt")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:P-521", "-nodes",
             "-keyout", key, "-out", crt, "-days", "1",
             "-subj", "/O=HashiCorp/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=digitalSignature,keyEncipherment,keyCertSign",
             "-addext", "extendedKeyUsage=clientAuth,serverAuth"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(crt) as f:
            return f.read()
    try:  # fall back to the cryptography package if it is installed
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        sys.exit("--mtls needs `openssl` on PATH or the Python `cryptography` package")
    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(seconds=30))
            .not_valid_after(now + datetime.timedelta(hours=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                  ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(key, hashes.SHA512()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def read_status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])  # kB for Vm*, count for Threads
    return out


def parse_handshake(line: str, want_proto: set[str], mtls: bool) -> dict:
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise ValueError(f"handshake has {len(parts)} fields, want >= 5: {line!r}")
    core, app, net, addr, proto = parts[:5]
    cert = parts[5] if len(parts) > 5 else ""
    if core != "1":
        raise ValueError(f"core protocol {core!r}, want '1'")
    if app not in want_proto:
        raise ValueError(f"app protocol {app!r} not in requested {sorted(want_proto)}")
    if net not in ("unix", "tcp"):
        raise ValueError(f"network {net!r}, want unix or tcp")
    if proto != "grpc":
        raise ValueError(f"protocol {proto!r}, want grpc")
    if mtls:
        if not cert:
            raise ValueError("--mtls given but the handshake carries no server certificate")
        # go-plugin sends the DER certificate as unpadded standard base64
        base64.b64decode(cert + "=" * (-len(cert) % 4), validate=True)
    return {"core": core, "app_protocol": app, "network": net, "address": addr,
            "protocol": proto, "server_cert_len": len(cert)}


def check_listening(net: str, addr: str) -> None:
    if net == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: object = addr
    else:
        host, _, port = addr.rpartition(":")
        s = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET)
        target = (host.strip("[]"), int(port))
    s.settimeout(2)
    try:
        s.connect(target)
    finally:
        s.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_run(binary: str, env_base: dict, timeout: float, want_proto: set[str],
            mtls: bool, settle: float) -> dict:
    tmpdir = tempfile.mkdtemp(prefix="hs-")
    env = dict(env_base)
    env["TMPDIR"] = tmpdir  # go-plugin puts its unix socket in os.TempDir()
    env["PLUGIN_UNIX_SOCKET_DIR"] = tmpdir  # honoured by newer go-plugin
    stderr_path = os.path.join(tmpdir, "stderr")
    try:
        with open(stderr_path, "wb") as errf:
            t0 = time.perf_counter_ns()
            proc = subprocess.Popen([binary], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=errf, env=env,
                                    cwd=tmpdir)
            try:
                buf = b""
                fd = proc.stdout.fileno()
                deadline = time.monotonic() + timeout
                while b"\n" not in buf:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"no handshake within {timeout}s")
                    r, _, _ = select.select([fd], [], [], left)
                    if r:
                        chunk = os.read(fd, 4096)
                        if not chunk:
                            break
                        buf += chunk
                t1 = time.perf_counter_ns()
                line = buf.split(b"\n", 1)[0].decode(errors="replace")
                if not line:
                    proc.wait(timeout=5)
                    with open(stderr_path, "rb") as f:
                        err = f.read()[-2000:].decode(errors="replace")
                    raise RuntimeError(f"exited with {proc.returncode} before handshake; "
                                       f"stderr tail:\n{err}")
                status_at = read_status(proc.pid)
                hs = parse_handshake(line, want_proto, mtls)
                check_listening(hs["network"], hs["address"])
                if settle > 0:
                    time.sleep(settle)
                status_settled = read_status(proc.pid)
            finally:
                stop(proc)
                proc.stdout.close()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return {"handshake_ms": (t1 - t0) / 1e6, "line": line, **hs,
            "rss_kib": status_at["VmRSS"], "threads": status_at["Threads"],
            "rss_settled_kib": status_settled["VmRSS"],
            "hwm_settled_kib": status_settled["VmHWM"]}


def summary(xs: list[float]) -> dict:
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("binary")
    ap.add_argument("-n", "--runs", type=int, default=20)
    ap.add_argument("-w", "--warmup", type=int, default=2,
                    help="uncounted runs first (page cache, default 2)")
    ap.add_argument("--protocol", default="6",
                    help="PLUGIN_PROTOCOL_VERSIONS value, e.g. 6 or 5 or 5,6 (default 6)")
    ap.add_argument("--mtls", action="store_true",
                    help="set PLUGIN_CLIENT_CERT as Terraform does (AutoMTLS)")
    ap.add_argument("--settle", type=float, default=0.2,
                    help="seconds to wait after the handshake before the second "
                         "RSS reading (default 0.2; 0 disables)")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--json", metavar="FILE", help="also write every run and the summary here")
    ap.add_argument("-q", "--quiet", action="store_true", help="no per-run lines")
    a = ap.parse_args()

    binary = os.path.abspath(a.binary)
    if not os.access(binary, os.X_OK):
        ap.error(f"{binary} is not executable")
    want_proto = {p.strip() for p in a.protocol.split(",") if p.strip()}

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_LOG", "PLUGIN_"))}
    env.update({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
                "PLUGIN_PROTOCOL_VERSIONS": ",".join(sorted(want_proto)),
                "PLUGIN_MIN_PORT": "10000", "PLUGIN_MAX_PORT": "25000"})
    certdir = None
    if a.mtls:
        certdir = tempfile.mkdtemp(prefix="hs-cert-")
        try:
            env["PLUGIN_CLIENT_CERT"] = make_client_cert(certdir)
        finally:
            shutil.rmtree(certdir, ignore_errors=True)

    runs = []
    for i in range(a.warmup + a.runs):
        try:
            r = one_run(binary, env, a.timeout, want_proto, a.mtls, a.settle)
        except (OSError, ValueError, RuntimeError, TimeoutError,
                subprocess.SubprocessError) as e:
            print(f"handshake-time: run {i + 1}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        counted = i >= a.warmup
        if counted:
            runs.append(r)
        if not a.quiet:
            tag = f"run {i - a.warmup + 1:3d}" if counted else "warmup "
            print(f"{tag}  handshake {r['handshake_ms']:8.2f} ms  "
                  f"rss {r['rss_kib'] / 1024:7.1f} MiB  settled {r['rss_settled_kib'] / 1024:7.1f} MiB  "
                  f"threads {r['threads']:3d}", file=sys.stderr)

    first = runs[0]
    summ = {
        "binary": os.path.basename(binary),
        "size_bytes": os.path.getsize(binary),
        "runs": a.runs, "warmup": a.warmup, "mtls": a.mtls,
        "protocol_requested": ",".join(sorted(want_proto)),
        "handshake_example": "|".join(
            [first["core"], first["app_protocol"], first["network"], "<address>",
             first["protocol"]]
            + ([f"<server cert, {first['server_cert_len']} b64 chars>"]
               if first["server_cert_len"] else [""])),
        "app_protocol": first["app_protocol"], "network": first["network"],
        "handshake_ms": summary([r["handshake_ms"] for r in runs]),
        "rss_at_handshake_mib": summary([r["rss_kib"] / 1024 for r in runs]),
        "rss_settled_mib": summary([r["rss_settled_kib"] / 1024 for r in runs]),
        "hwm_settled_mib": summary([r["hwm_settled_kib"] / 1024 for r in runs]),
        "threads_at_handshake": summary([r["threads"] for r in runs]),
    }
    print(f"binary        {summ['binary']}  ({summ['size_bytes'] / 1048576:.1f} MiB)")
    print(f"handshake     {summ['handshake_example']}")
    print(f"runs          {a.runs} (+{a.warmup} warm-up)  protocol {summ['protocol_requested']}"
          f"  mtls {'on' if a.mtls else 'off'}")
    print(f"{'metric':<26}{'min':>10}{'median':>10}{'max':>10}")
    for key, label, fmt in (("handshake_ms", "handshake (ms)", "{:10.2f}"),
                            ("rss_at_handshake_mib", "RSS at handshake (MiB)", "{:10.1f}"),
                            ("rss_settled_mib", f"RSS +{a.settle:g}s (MiB)", "{:10.1f}"),
                            ("hwm_settled_mib", f"VmHWM +{a.settle:g}s (MiB)", "{:10.1f}"),
                            ("threads_at_handshake", "threads at handshake", "{:10.0f}")):
        s = summ[key]
        print(f"{label:<26}" + "".join(fmt.format(s[k]) for k in ("min", "median", "max")))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summ, "runs": runs}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
