"""Speed and memory of the sweep runner.

The same sweep (turbulence x seeds x both presets; by default 200 runs of 100 members x 500 ticks) runs
on 1 local worker (in this process), 2 local worker processes and a 2-worker Dask LocalCluster. For
each: runs per second; for 2 workers: parallel efficiency = (rate with 2 / rate with 1) / 2. Then the
peak resident memory of the parent process (a fresh process each time, per-tick tables on, so every
time series passes through the parent) for a sweep of 200 and of 2,000 shorter runs.

    python benchmarks/bench_sweep.py            # a table
    python benchmarks/bench_sweep.py --json     # one JSON object

Targets (issue 3): parallel efficiency >= 90 % on 2 workers; no growth of the parent's peak memory from
200 to 2,000 runs beyond noise. The machine may be shared: rates vary with its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from orgsim.scenario import Scenario, validate_scenario
from orgsim.sweep import run_sweep


def scenario(runs: int, ticks: int, members: int) -> Scenario:
    """``runs`` runs (even): turbulence points x 10 seeds x 2 presets, none of them identical."""
    seeds = min(10, runs // 2)
    points = max(1, runs // (2 * seeds))
    return validate_scenario({
        "description": "sweep benchmark",
        "run": {"ticks": ticks, "members": members, "seeds": seeds, "warmup": ticks // 10},
        "environment": {"arrival_rate": 10.0 * members / 100},
        "sweep": {"parameters": {"environment.turbulence": (
            {"range": [0.0, 1.0], "steps": points} if points > 1 else {"values": [0.3]})}},
    })


def time_sweep(sc: Scenario, workers: int, scheduler: str | None = None) -> dict[str, float]:
    """Runs per second of a fresh sweep (cluster start-up included, as a user sees it)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = run_sweep(sc, out, workers=workers, scheduler=scheduler, progress=False)
        seconds = time.perf_counter() - start
    return {"runs": result.total, "seconds": seconds, "runs_per_s": result.total / seconds}


def peak_memory_mb(runs: int, ticks: int, members: int, workers: int) -> float:
    """Peak resident memory (MB) of a fresh parent process that sweeps ``runs`` runs with per-tick tables."""
    code = (
        "import resource, sys, tempfile\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from bench_sweep import scenario\n"
        "from orgsim.sweep import run_sweep\n"
        "with tempfile.TemporaryDirectory() as out:\n"
        "    run_sweep(scenario(*map(int, sys.argv[2:5])), out, workers=int(sys.argv[5]), timeseries=True,"
        " progress=False)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(runs), str(ticks),
                          str(members), str(workers)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=200, help="runs of the speed sweep (default 200)")
    parser.add_argument("--ticks", type=int, default=500, help="ticks per run of the speed sweep (default 500)")
    parser.add_argument("--members", type=int, default=100, help="members per organisation (default 100)")
    parser.add_argument("--memory-runs", type=int, nargs=2, default=[200, 2000],
                        help="runs of the two memory sweeps (default 200 2000)")
    parser.add_argument("--memory-ticks", type=int, default=100, help="ticks per run of the memory sweeps")
    args = parser.parse_args(argv)

    sc = scenario(args.runs, args.ticks, args.members)
    speed = {
        "local_1": time_sweep(sc, 1),
        "local_2": time_sweep(sc, 2),
        "dask_local_2": time_sweep(sc, 2, "local"),
    }
    base = speed["local_1"]["runs_per_s"]
    efficiency = {name: speed[name]["runs_per_s"] / base / 2 for name in ("local_2", "dask_local_2")}
    small, large = args.memory_runs
    memory = {str(n): peak_memory_mb(n, args.memory_ticks, args.members, 2) for n in (small, large)}
    report = {
        "sweep": {"runs": speed["local_1"]["runs"], "ticks": args.ticks, "members": args.members},
        "speed": speed,
        "parallel_efficiency": efficiency,
        "peak_parent_memory_mb": memory,
        "memory_growth": memory[str(large)] / memory[str(small)] - 1,
        "memory_sweep": {"ticks": args.memory_ticks, "members": args.members, "workers": 2, "timeseries": True},
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"sweep of {report['sweep']['runs']} runs ({args.members} members x {args.ticks} ticks), "
          f"{os.cpu_count()} CPUs")
    for name, label in (("local_1", "1 local worker"), ("local_2", "2 local workers"),
                        ("dask_local_2", "Dask LocalCluster, 2 workers")):
        s = speed[name]
        eff = f"  parallel efficiency {efficiency[name]:.0%}" if name in efficiency else ""
        print(f"  {label:<30} {s['runs_per_s']:7.2f} runs/s  ({s['seconds']:.1f} s){eff}")
    print(f"peak parent memory with per-tick tables ({args.memory_ticks} ticks): "
          f"{small} runs {memory[str(small)]:.0f} MB, {large} runs {memory[str(large)]:.0f} MB "
          f"({report['memory_growth']:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
