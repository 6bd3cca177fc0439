"""Time to compute the dashboard's on-demand views at the default size (100 members a side).

* the uncertainty band (``orgsim.dashboard.band.compute``): ``--seeds`` runs of both organisations up to
  ``--tick`` with a new regulation at a third of it, as the page's "How sure?" button does;
* the "why" view (``orgsim.dashboard.why.compute``): the Shapley attribution of the gap to lever groups
  over ``--why-seeds`` seeds, as the page's "Why?" button does.

    python benchmarks/bench_dashboard_views.py            # a table
    python benchmarks/bench_dashboard_views.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


def time_band(seeds: int, tick: int) -> float:
    from orgsim.dashboard.band import compute
    from orgsim.dashboard.charts import PANELS, Timeline
    from orgsim.dashboard.lockstep import Lockstep
    from orgsim.dashboard.settings import Settings

    settings = Settings()
    live = Lockstep(settings)
    live.step(tick // 3)
    live.shock("rules")
    live.step(tick - tick // 3)
    start = time.perf_counter()
    compute(settings, live.shocks(), live.tick, Timeline(settings).line, [p[0] for p in PANELS], seeds)
    return time.perf_counter() - start


def time_why(seeds: int, tick: int) -> float | None:
    try:
        from orgsim.dashboard.why import compute
    except ImportError:
        return None
    from orgsim.dashboard.settings import Settings

    start = time.perf_counter()
    compute(Settings(), tick, seeds)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="runs of the band (default 20, the page's)")
    parser.add_argument("--tick", type=int, default=250, help="day on screen (default 250, half the run)")
    parser.add_argument("--why-seeds", type=int, default=None, help="seeds of the why view (default: the page's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    from orgsim.dashboard import app

    why_seeds = args.why_seeds or getattr(app, "WHY_SEEDS", 3)
    band = time_band(args.seeds, args.tick)
    why = time_why(why_seeds, args.tick)
    result = {"members_per_organisation": 100, "tick": args.tick, "band_seeds": args.seeds, "band_s": band,
              "why_seeds": why_seeds, "why_s": why, "load_average": os.getloadavg()[0],
              "cpus": os.cpu_count(), "python": platform.python_version()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Dashboard views, 2 organisations x 100 members, up to day {args.tick}")
    print(f"  uncertainty band, {args.seeds} runs: {band:6.1f} s")
    print(f"  why view, {why_seeds} seeds:        " + ("not built" if why is None else f"{why:6.1f} s"))
    print(f"  (load average {result['load_average']:.1f} on {result['cpus']} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
