#!/usr/bin/env python3
"""Packs provider binaries the way the Terraform Registry distributes them (Python stdlib only).

    provider_package.py pack --version V --out DIST --manifest terraform-registry-manifest.json \
        --binary linux_amd64=PATH [--binary linux_arm64=PATH ...]
    provider_package.py hashes ZIP       prints the zip's h1: and zh: hashes, one a line

`pack` writes into DIST:
  terraform-provider-clouddb_V_OS_ARCH.zip    one file inside: terraform-provider-clouddb_vV (mode 0755)
  terraform-provider-clouddb_V_SHA256SUMS     `sha256sum` format over the zips and the manifest
  terraform-provider-clouddb_V_manifest.json  a copy of terraform-registry-manifest.json
  network-mirror/registry.terraform.io/clouddb/clouddb/{index.json, V.json, the zips}
                                              the provider network mirror protocol, served as static files
  fs-mirror/registry.terraform.io/clouddb/clouddb/terraform-provider-clouddb_V_OS_ARCH.zip
                                              a filesystem mirror in the packed layout
  hashes.json                                 {"OS_ARCH": {"h1": ..., "zh": ...}}, for tests and scripts

The hashes are the ones Terraform writes into .terraform.lock.hcl:
  zh: the SHA-256 of the zip file, hex (the registry's SHA256SUMS line);
  h1: Go's golang.org/x/mod/sumdb/dirhash Hash1 over the zip's contents: for each file, sorted by
      name, the line "<hex sha256 of its bytes>  <name>\\n"; h1: is base64 of the SHA-256 of those lines.
The zips are reproducible: fixed timestamps (SOURCE_DATE_EPOCH, default 2000-01-01) and modes, so
the same binary always gives the same zh:.
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile

HOSTNAME = "registry.terraform.io"
NAMESPACE = "clouddb"
TYPE = "clouddb"
NAME = f"terraform-provider-{TYPE}"


class PackError(Exception):
    """A bad argument or input file, named in the message."""


def hash1(files):
    """dirhash.Hash1 over (name, bytes) pairs; names use '/' and must not contain newlines."""
    lines = []
    for name, data in sorted(files, key=lambda f: f[0]):
        if "\n" in name:
            raise PackError(f"file name {name!r} contains a newline, which Hash1 refuses")
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    summary = "".join(lines).encode()
    return "h1:" + base64.b64encode(hashlib.sha256(summary).digest()).decode()


def zip_hashes(path):
    """(h1, zh) of a provider zip, as Terraform computes them."""
    with open(path, "rb") as f:
        zh = "zh:" + hashlib.sha256(f.read()).hexdigest()
    with zipfile.ZipFile(path) as z:
        files = [(i.filename, z.read(i)) for i in z.infolist() if not i.is_dir()]
    return hash1(files), zh


def zip_time():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "946684800"))
    # Zip timestamps cannot be older than 1980.
    return time.gmtime(max(epoch, 315532800))[:6]


def write_zip(binary, member, dest):
    info = zipfile.ZipInfo(member, date_time=zip_time())
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the mode below is honoured by Terraform's unzip
    info.external_attr = (0o100755 & 0xFFFF) << 16
    with open(binary, "rb") as src, zipfile.ZipFile(dest, "w") as z:
        z.writestr(info, src.read(), compresslevel=6)


def parse_binary(spec):
    target, sep, path = spec.partition("=")
    parts = target.split("_")
    if not sep or len(parts) != 2 or not all(parts):
        raise PackError(f"--binary {spec!r}: expected OS_ARCH=PATH, e.g. linux_amd64=target/release/{NAME}")
    if not os.path.isfile(path):
        raise PackError(f"--binary {spec!r}: {path} is not a file")
    return target, path


def pack(version, out, manifest, binaries):
    if not version or "/" in version:
        raise PackError(f"--version {version!r} is not a version")
    targets = dict(parse_binary(b) for b in binaries)
    if not targets:
        raise PackError("no --binary given")
    if not os.path.isfile(manifest):
        raise PackError(f"--manifest {manifest} is not a file")
    with open(manifest) as f:
        try:
            json.load(f)
        except ValueError as e:
            raise PackError(f"--manifest {manifest} is not JSON: {e}") from None

    os.makedirs(out, exist_ok=True)
    prefix = f"{NAME}_{version}"
    net = os.path.join(out, "network-mirror", HOSTNAME, NAMESPACE, TYPE)
    fsm = os.path.join(out, "fs-mirror", HOSTNAME, NAMESPACE, TYPE)
    for d in (net, fsm):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    sums, archives, hashes = [], {}, {}
    for target, binary in sorted(targets.items()):
        zname = f"{prefix}_{target}.zip"
        zpath = os.path.join(out, zname)
        write_zip(binary, f"{NAME}_v{version}", zpath)
        h1, zh = zip_hashes(zpath)
        hashes[target] = {"h1": h1, "zh": zh}
        sums.append((zh[3:], zname))
        # Relative URLs resolve against the version document's URL (network mirror protocol).
        archives[target] = {"url": zname, "hashes": [h1, zh]}
        for d in (net, fsm):
            link_or_copy(zpath, os.path.join(d, zname))

    mname = f"{prefix}_manifest.json"
    shutil.copyfile(manifest, os.path.join(out, mname))
    with open(os.path.join(out, mname), "rb") as f:
        sums.append((hashlib.sha256(f.read()).hexdigest(), mname))
    with open(os.path.join(out, f"{prefix}_SHA256SUMS"), "w") as f:
        f.writelines(f"{h}  {n}\n" for h, n in sorted(sums, key=lambda s: s[1]))

    write_json(os.path.join(net, "index.json"), {"versions": {version: {}}})
    write_json(os.path.join(net, f"{version}.json"), {"archives": archives})
    write_json(os.path.join(out, "hashes.json"), hashes)
    return hashes


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pk = sub.add_parser("pack")
    pk.add_argument("--version", required=True)
    pk.add_argument("--out", required=True)
    pk.add_argument("--manifest", required=True)
    pk.add_argument("--binary", action="append", default=[], metavar="OS_ARCH=PATH")
    hs = sub.add_parser("hashes")
    hs.add_argument("zip")
    args = p.parse_args(argv)
    try:
        if args.cmd == "pack":
            for target, h in pack(args.version, args.out, args.manifest, args.binary).items():
                print(f"{target}: {h['h1']} {h['zh']}")
        else:
            print("\n".join(zip_hashes(args.zip)))
    except (PackError, OSError, zipfile.BadZipFile) as e:
        print(f"provider_package: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
