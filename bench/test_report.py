"""Fast checks of the benchmark's pure parts (no Terraform, no server): `python3 -m unittest bench/test_report.py`."""
from __future__ import annotations

import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import svgplot  # noqa: E402
from apiserver import route_of  # noqa: E402
from procmeter import Measurement  # noqa: E402
from scale import Result  # noqa: E402


def _m(wall, cpu, rss):
    return Measurement(rc=0, wall_s=wall, provider_cpu_s=cpu, provider_peak_rss_mib=rss, provider_procs=3,
                       tf_cpu_s=1.0, tf_peak_rss_mib=100.0, timed_out=False)


META = {"ns": [1, 1000], "parallelism": [10], "latencies": [0], "plan_runs": 1, "skipped": [],
        "date": "d", "terraform": "Terraform v1.11.4", "commit": "c", "settings": "", "server": "s",
        "machine": {"cpus": 2, "cpu": "x", "kernel": "k", "load": "1", "load_end": "1"}}


class SvgTest(unittest.TestCase):
    def test_axis_ends_on_round_figures(self):
        self.assertEqual(svgplot._nice_max(0.7), 1)
        self.assertEqual(svgplot._nice_max(1.2), 2)
        self.assertEqual(svgplot._nice_max(37), 50)
        self.assertEqual(svgplot._nice_max(0), 1.0)

    def test_chart_is_well_formed_and_skips_missing_bars(self):
        svg = svgplot.bar_chart("t <&>", "s", ["a", "b"], [("x", [1.0, 2.0]), ("y", [None, 3.5])])
        root = ET.fromstring(svg)
        bars = [e for e in root if e.tag.endswith("rect") and e.get("height") not in (None, "10", "320")]
        self.assertEqual(len(bars), 3)  # one value is None: no bar for it


class ReportTest(unittest.TestCase):
    def test_routes_collapse_names(self):
        self.assertEqual(route_of("/v1/projects/bench/instances/b-7?x=1"), "/v1/projects/{}/instances/{}")

    def test_targets_are_marked(self):
        res = [Result("clouddb", 0, 10, 1000, "plan", _m(2.0, 0.05, 12.0), requests=40),
               Result("clouddb", 0, 10, 1000, "plan_norefresh", _m(1.9, 0.04, 9.0), requests=0)]
        peer = [{"n": 1000, "parallelism": 10, "provider_cpu_s": 1.2, "provider_peak_rss_mib": 34.0}]
        static = {"binary_bytes": 8 * 1048576 + 1, "handshake": {"handshake_ms": {"median": 3.0}}}
        marks = {name.split(" (")[0]: ok for name, _, _, ok in report.targets(META, static, report._index(res), peer)}
        self.assertTrue(marks["refresh adds to the -refresh=false plan"])      # +5 %
        self.assertTrue(marks["API requests per instance, plan"])              # 0.04
        self.assertTrue(marks["provider CPU per instance, plan"])              # 50 µs
        self.assertTrue(marks["CPU per object vs Go peer"])                    # 50 vs 1200 µs
        self.assertFalse(marks["peak RSS vs Go peer"])                         # 12 vs 34 MiB: not below a third
        self.assertFalse(marks["provider binary"])                             # 1 byte over 8 MiB
        self.assertTrue(marks["exec → handshake with mTLS"])

    def test_the_exact_cpu_decides_the_cpu_target(self):
        # polled: 50 µs (a launch missed); the task clock says 120 µs
        res = [Result("clouddb", 0, 10, 1000, "plan", _m(2.0, 0.05, 12.0), requests=40),
               Result("clouddb", 0, 10, 1000, "plan_norefresh", _m(1.9, 0.04, 9.0), requests=0)]
        static = {"binary_bytes": 1, "exact_cpu": {"n": 1000, "parallelism": 10, "runs": 3,
                                                   "plan": [0.13, 0.12, 0.11], "plan_norefresh": [0.1]}}
        rows = {name.split(" (")[0]: (value, ok) for name, _, value, ok in
                report.targets(META, static, report._index(res), [])}
        value, ok = rows["provider CPU per instance, plan"]
        self.assertFalse(ok)
        self.assertTrue(value.startswith("120 µs (task clock, median of 3; polled like the Go peer: 50 µs"), value)

    def test_write_keeps_the_profile_section(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "benchmarks.md")
            with open(p, "w") as f:
                f.write(f"old\n{report.PROFILE_BEGIN}\nmy notes\n{report.PROFILE_END}\n")
            report.write(p, "# new\n", {"a.svg": "<svg/>"})
            with open(p) as f:
                text = f.read()
            self.assertTrue(text.startswith("# new\n"))
            self.assertIn("my notes", text)
            self.assertNotIn("old", text)
            self.assertTrue(os.path.exists(os.path.join(d, "benchmarks", "a.svg")))


if __name__ == "__main__":
    unittest.main()
