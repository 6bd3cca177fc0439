"""The sweep benchmark still runs and reports every figure (at a tiny size; timings are not checked)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sweep.py"


def test_json_report_at_a_tiny_size(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("bench_sweep", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sys.modules.setdefault("bench_sweep", bench)
    sc = bench.scenario(200, 10, 10)
    assert len(sc.points()) * len(sc.seeds) * len(sc.organisations) == 200
    assert bench.main(["--json", "--runs", "8", "--ticks", "10", "--members", "10", "--memory-runs", "8", "16",
                       "--memory-ticks", "10"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sweep"]["runs"] == 8
    assert set(report["speed"]) == {"local_1", "local_2", "dask_local_2"}
    assert all(s["runs"] == 8 and s["runs_per_s"] > 0 for s in report["speed"].values())
    assert set(report["parallel_efficiency"]) == {"local_2", "dask_local_2"}
    assert set(report["peak_parent_memory_mb"]) == {"8", "16"}
    assert all(mb > 10 for mb in report["peak_parent_memory_mb"].values())
