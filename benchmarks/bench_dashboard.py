"""Time per tick of the dashboard: both organisations stepped and the page redrawn, at the default size.

The page (``orgsim.dashboard.app.Page``) is rendered in process with ``solara.render`` and its Step
button clicked ``--ticks`` times from tick 0, with a new regulation at the middle tick. One click
does everything the server does for one tick of "play": step both models, snapshot them, compute
the KPI cards and the verdict, update and encode both live figures, and reconcile the widgets. It
does not include the browser's own work (decoding and painting the two images).

The same ticks are then split into their parts, without the page: the models alone, the snapshot
and leadership numbers, the two figures.

    python benchmarks/bench_dashboard.py            # a table
    python benchmarks/bench_dashboard.py --json     # one JSON object

Target (issue 4): under 150 ms per tick including the redraw (the mean, and the 95th percentile).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

TARGET_MS = 150.0


def time_page(ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """Milliseconds per Step click of the rendered page, one value per tick: wall-clock time, and the
    process's CPU time (less sensitive to other work on a shared machine)."""
    import ipyvuetify as v
    import solara

    from orgsim.dashboard.app import Page

    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    step = rc.find(v.Btn, meta_ref="step").widget
    shock = rc.find(v.Btn, meta_ref="shock-rules").widget
    wall, cpu = [], []
    for tick in range(ticks):
        if tick == ticks // 2:
            shock.click()
        start, start_cpu = time.perf_counter(), time.process_time()
        step.click()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    rc.close()
    return np.array(wall) * 1000, np.array(cpu) * 1000


def time_parts(ticks: int) -> dict[str, np.ndarray]:
    """Milliseconds per tick of the models, of snapshot + KPIs + verdict, and of the two figures."""
    from orgsim.dashboard import leadership
    from orgsim.dashboard.charts import Timeline
    from orgsim.dashboard.lockstep import Lockstep
    from orgsim.dashboard.orgview import OrgView
    from orgsim.dashboard.settings import Settings

    settings = Settings()
    run = Lockstep(settings)
    timeline, people = Timeline(settings), OrgView(settings, run.models[0].capabilities.names)
    parts: dict[str, list[float]] = {"models": [], "numbers": [], "figures": []}
    for tick in range(ticks):
        if tick == ticks // 2:
            run.shock("rules")
        t0 = time.perf_counter()
        run.step()
        t1 = time.perf_counter()
        snap = run.snapshot()
        leadership.kpis(snap), leadership.verdict(snap), leadership.adaptation_rows(snap)
        t2 = time.perf_counter()
        for figure in (timeline, people):
            figure.update(snap)
            figure.frame()
        t3 = time.perf_counter()
        for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[name].append(seconds * 1000)
    return {name: np.array(values) for name, values in parts.items()}


def describe(ms: np.ndarray) -> dict[str, float]:
    return {"mean_ms": float(ms.mean()), "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200, help="ticks to time (default 200)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.ticks < 2:
        parser.error("--ticks must be at least 2")

    wall, cpu = time_page(args.ticks)
    page, page_cpu = describe(wall), describe(cpu)
    parts = {name: describe(ms) for name, ms in time_parts(args.ticks).items()}
    result = {
        "ticks": args.ticks,
        "members_per_organisation": 100,
        "page_tick": page,
        "page_tick_cpu": page_cpu,
        "parts": parts,
        "target_ms": TARGET_MS,
        "meets_target": page["mean_ms"] < TARGET_MS and page["p95_ms"] < TARGET_MS,
        "load_average": os.getloadavg()[0],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Dashboard, 2 organisations x 100 members, {args.ticks} ticks from tick 0 (new regulation at "
          f"tick {args.ticks // 2})")
    print(f"{'ms per tick':32}{'mean':>8}{'median':>8}{'p95':>8}{'max':>8}")
    rows = {"page: step + redraw (one click)": page,
            "  the same, CPU time": page_cpu,
            "  models (both organisations)": parts["models"],
            "  snapshot, KPIs, verdict": parts["numbers"],
            "  figures (update + encode)": parts["figures"]}
    for label, d in rows.items():
        print(f"{label:32}{d['mean_ms']:8.1f}{d['median_ms']:8.1f}{d['p95_ms']:8.1f}{d['max_ms']:8.1f}")
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"\n{verdict} the target of {TARGET_MS:.0f} ms per tick (mean and 95th percentile of a page click)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
