"""Calibration of ``orgsim.budget``: time and memory of real runs against what the budget estimates.

Each point runs in a fresh process (so its memory is its own): a model of ``members`` members and
``arrival_rate`` demands a tick is built and run for ``ticks`` ticks; measured are the seconds per
tick (after 10 warm-up ticks), the growth of resident memory from before the model was built to the
end of the run, and the in-memory size of its per-tick table. A least-squares fit over the points gives
the constants that ``orgsim/budget.py`` uses; the table shows how far the budget's current constants
are from each measurement.

    python benchmarks/bench_budget.py            # a table
    python benchmarks/bench_budget.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

#: (members, arrival rate, ticks): a spread of sizes, the large ones short.
POINTS = [(100, 10.0, 300), (1_000, 10.0, 200), (1_000, 100.0, 100), (10_000, 10.0, 60),
          (10_000, 1000.0, 30), (100_000, 10.0, 20), (300_000, 10.0, 12)]

PROBE = r"""
import json, sys, time
from orgsim.model import OrgModel

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

members, rate, ticks = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
before = rss()
model = OrgModel("responsive", {"regime": "complex", "arrival_rate": rate}, members=members, seed=0)
model.run(10)
start = time.perf_counter()
model.run(ticks)
seconds = (time.perf_counter() - start) / ticks
table = model.timeseries()
print(json.dumps({"members": members, "arrival_rate": rate, "ticks": ticks + 10, "seconds_per_tick": seconds,
                  "run_bytes": rss() - before, "row_bytes": int(table.memory_usage(deep=True).sum()) / len(table)}))
"""


def measure(members: int, rate: float, ticks: int) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(members), str(rate), str(ticks)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from orgsim import budget

    rows = [measure(*point) for point in POINTS]
    x = np.array([[1.0, r["members"], r["arrival_rate"]] for r in rows])
    t = np.array([r["seconds_per_tick"] for r in rows])
    fit_time = np.linalg.lstsq(x, t, rcond=None)[0]
    m = np.array([[1.0, r["members"]] for r in rows])
    fit_bytes = np.linalg.lstsq(m, np.array([r["run_bytes"] for r in rows], dtype=float), rcond=None)[0]
    for r in rows:
        r["estimated_seconds_per_tick"] = budget.seconds_per_tick(r["members"], r["arrival_rate"])
        r["estimated_run_bytes"] = budget.run_bytes(r["members"], r["ticks"])
    result = {
        "points": rows,
        "fit": {"seconds_per_tick": fit_time.tolist(), "run_bytes": fit_bytes.tolist(),
                "row_bytes": float(np.median([r["row_bytes"] for r in rows]))},
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{'members':>8} {'arrivals':>8} {'ms/tick':>9} {'estimate':>9} {'run MB':>8} {'estimate':>9} {'B/row':>6}")
    for r in rows:
        print(f"{r['members']:>8,} {r['arrival_rate']:>8g} {1000 * r['seconds_per_tick']:>9.2f} "
              f"{1000 * r['estimated_seconds_per_tick']:>9.2f} {r['run_bytes'] / 2**20:>8.1f} "
              f"{r['estimated_run_bytes'] / 2**20:>9.1f} {r['row_bytes']:>6.0f}")
    a, b, c = fit_time
    print(f"fit: seconds per tick = {a:.3g} + {b:.3g} x members + {c:.3g} x arrivals; "
          f"run bytes = {fit_bytes[0]:.3g} + {fit_bytes[1]:.3g} x members; "
          f"per-tick row {result['fit']['row_bytes']:.0f} bytes")


if __name__ == "__main__":
    main()
