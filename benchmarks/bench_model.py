"""Speed of OrgModel against Mesa's own BoltzmannWealth example, and how it scales with headcount.

In one process: (a) Mesa's BoltzmannWealth example as shipped in ``mesa.examples`` (about one agent
per grid cell, as in Mesa's own benchmarks), (b) OrgModel with both presets at several headcounts,
arrivals scaled with members (the default arrival rate is set for 100 members). Each figure is the
best of ``--repeats`` fresh runs. OrgModel is timed after a warm-up that fills its work in progress.

    python benchmarks/bench_model.py            # a table
    python benchmarks/bench_model.py --json     # one JSON object

Targets (issue 2): ratio ours/Mesa >= 1.0 at 1,000 members; scaling exponent (slope of log time
per tick against log members) <= 1.0.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Sequence

import mesa
import numpy as np
from mesa.examples import BoltzmannWealth

from orgsim.environment import EnvironmentConfig
from orgsim.model import OrgModel

DESIGNS = ("siloed", "responsive")
#: Demands per tick for 100 members: the environment's default, which is set for 100 members.
ARRIVALS_PER_100 = EnvironmentConfig().arrival_rate


def time_mesa(agents: int = 1000, steps: int = 300, repeats: int = 3, seed: int = 0) -> float:
    """Best seconds per step of Mesa's BoltzmannWealth with ``agents`` agents (construction not timed)."""
    side = math.ceil(math.sqrt(agents))
    best = math.inf
    for _ in range(repeats):
        model = BoltzmannWealth(n=agents, width=side, height=side, seed=seed)
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def time_orgsim(members: int, design: str, ticks: int = 100, warmup: int = 50, repeats: int = 3,
                seed: int = 0) -> float:
    """Best seconds per tick of OrgModel over ``ticks`` ticks after ``warmup`` untimed ticks."""
    environment = {"arrival_rate": ARRIVALS_PER_100 * members / 100}
    best = math.inf
    for _ in range(repeats):
        model = OrgModel(design, environment, members=members, seed=seed).run(warmup)
        start = time.perf_counter()
        model.run(ticks)
        best = min(best, (time.perf_counter() - start) / ticks)
    return best


def scaling_exponent(members: Sequence[int], seconds_per_tick: Sequence[float]) -> float:
    """Least-squares slope of log(seconds per tick) against log(members): 1.0 is linear growth."""
    return float(np.polyfit(np.log(members), np.log(seconds_per_tick), 1)[0])


def measure(sizes: Sequence[int] = (100, 1000, 10_000), ticks: int = 100, warmup: int = 50,
            repeats: int = 3, mesa_agents: int = 1000, mesa_steps: int = 300) -> dict:
    """All the figures, as one JSON-ready dict. Figures without a design name are the slower preset's."""
    sizes = sorted(set(sizes))
    mesa_step = time_mesa(mesa_agents, mesa_steps, repeats)
    mesa_rate = mesa_agents / mesa_step
    per_tick = {d: {n: time_orgsim(n, d, ticks, warmup, repeats) for n in sizes} for d in DESIGNS}
    rate = {d: {str(n): n / s for n, s in per_tick[d].items()} for d in DESIGNS}
    slowest = {str(n): min(rate[d][str(n)] for d in DESIGNS) for n in sizes}
    figures: dict = {
        "mesa_agent_steps_per_s": mesa_rate,
        "agent_steps_per_s": slowest,
        "agent_steps_per_s_by_design": rate,
        "seconds_per_tick_by_design": {d: {str(n): s for n, s in per_tick[d].items()} for d in DESIGNS},
    }
    if mesa_agents in sizes:
        by_design = {d: rate[d][str(mesa_agents)] / mesa_rate for d in DESIGNS}
        figures[f"ratio_{mesa_agents}"] = min(by_design.values())
        figures[f"ratio_{mesa_agents}_by_design"] = by_design
    if len(sizes) >= 2:
        by_design = {d: scaling_exponent(sizes, [per_tick[d][n] for n in sizes]) for d in DESIGNS}
        figures["scaling_exponent"] = max(by_design.values())
        figures["scaling_exponent_by_design"] = by_design
        # The fit over all sizes mixes fixed per-tick overhead (small sizes) with per-member work; the
        # slope between the two largest sizes shows how the per-member work alone grows.
        top = sizes[-2:]
        figures["scaling_exponent_largest_pair"] = max(
            scaling_exponent(top, [per_tick[d][n] for n in top]) for d in DESIGNS
        )
    figures["settings"] = {
        "sizes": sizes, "ticks": ticks, "warmup": warmup, "repeats": repeats, "mesa_agents": mesa_agents,
        "mesa_steps": mesa_steps, "arrivals_per_100_members": ARRIVALS_PER_100,
        "mesa": mesa.__version__, "numpy": np.__version__, "python": platform.python_version(),
    }
    return figures


def report(figures: dict) -> str:
    """The figures as a short text table."""
    s = figures["settings"]
    lines = [
        f"Mesa {s['mesa']} BoltzmannWealth (mesa.examples), {s['mesa_agents']:,} agents x {s['mesa_steps']} steps: "
        f"{figures['mesa_agent_steps_per_s']:,.0f} agent-steps/s",
        f"orgsim OrgModel, {s['ticks']} ticks after {s['warmup']} warm-up, "
        f"{s['arrivals_per_100_members']:g} demands per tick per 100 members (best of {s['repeats']}):",
        f"{'members':>9}" + "".join(f"{d + ' agent-steps/s':>28}{'ms/tick':>9}" for d in DESIGNS),
    ]
    for n in s["sizes"]:
        cells = "".join(
            f"{figures['agent_steps_per_s_by_design'][d][str(n)]:>28,.0f}"
            f"{1000 * figures['seconds_per_tick_by_design'][d][str(n)]:>9.2f}"
            for d in DESIGNS
        )
        lines.append(f"{n:>9,}" + cells)
    ratio = f"ratio_{s['mesa_agents']}"
    if ratio in figures:
        detail = ", ".join(f"{d} {v:.2f}" for d, v in figures[f"{ratio}_by_design"].items())
        lines.append(f"ratio ours/Mesa at {s['mesa_agents']:,}: {figures[ratio]:.2f} ({detail}); target >= 1.0")
    if "scaling_exponent" in figures:
        detail = ", ".join(f"{d} {v:.2f}" for d, v in figures["scaling_exponent_by_design"].items())
        lines.append(f"scaling exponent (log time per tick vs log members): {figures['scaling_exponent']:.2f} "
                     f"({detail}); target <= 1.0")
        a, b = s["sizes"][-2:]
        lines.append(f"  between {a:,} and {b:,} members alone: {figures['scaling_exponent_largest_pair']:.2f}")
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--sizes", type=_positive, nargs="+", default=[100, 1000, 10_000], help="member counts")
    parser.add_argument("--ticks", type=_positive, default=100, help="timed ticks per run (default 100)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed ticks before (default 50)")
    parser.add_argument("--repeats", type=_positive, default=3, help="fresh runs; the best counts (default 3)")
    parser.add_argument("--mesa-agents", type=_positive, default=1000, help="BoltzmannWealth agents")
    parser.add_argument("--mesa-steps", type=_positive, default=300, help="BoltzmannWealth steps")
    args = parser.parse_args(argv)
    figures = measure(args.sizes, args.ticks, max(0, args.warmup), args.repeats, args.mesa_agents,
                      args.mesa_steps)
    print(json.dumps(figures) if args.json else report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
