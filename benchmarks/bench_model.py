"""Speed of OrgModel against Mesa's own BoltzmannWealth example, and how it scales with headcount.

In one process: (a) Mesa's BoltzmannWealth example as shipped in ``mesa.examples`` (about one agent
per grid cell, as in Mesa's own benchmarks), (b) OrgModel with both presets at several headcounts, in
the default world (regime complex) and in a clear one. Arrivals follow the environment's default load
(``DEFAULT_LOAD`` of the members' capacity), so they scale with members. The responsive preset works in
teams assembled by the agents' rules each tick (``orgsim.teams``). Each figure is the best of
``--repeats`` fresh runs, timed after a warm-up that fills the work in progress. Time is the process's
CPU time by default (``--clock cpu``): on a machine shared with other work it is far steadier than wall
time, and both models are timed the same way; ``--clock wall`` times by the wall clock.

    python benchmarks/bench_model.py            # a table
    python benchmarks/bench_model.py --json     # one JSON object

Targets (issue 9): ratio ours/Mesa >= 1.0 at 1,000 members; scaling exponent (slope of log time per
tick against log members) <= 1.1. The headline figures are the worst case over designs and worlds.
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

from orgsim.environment import DEFAULT_LOAD
from orgsim.model import OrgModel

DESIGNS = ("siloed", "responsive")
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
#: Worlds timed: the default regime first.
WORLDS = ("complex", "clear")


def time_mesa(agents: int = 1000, steps: int = 300, repeats: int = 3, seed: int = 0, clock: str = "cpu") -> float:
    """Best seconds per step of Mesa's BoltzmannWealth with ``agents`` agents (construction not timed)."""
    side = math.ceil(math.sqrt(agents))
    now = CLOCKS[clock]
    best = math.inf
    for _ in range(repeats):
        model = BoltzmannWealth(n=agents, width=side, height=side, seed=seed)
        start = now()
        for _ in range(steps):
            model.step()
        best = min(best, (now() - start) / steps)
    return best


def time_orgsim(members: int, design: str, regime: str = WORLDS[0], ticks: int = 100, warmup: int = 50,
                repeats: int = 3, seed: int = 0, clock: str = "cpu") -> float:
    """Best seconds per tick of OrgModel over ``ticks`` ticks after ``warmup`` untimed ticks."""
    now = CLOCKS[clock]
    best = math.inf
    for _ in range(repeats):
        model = OrgModel(design, {"regime": regime}, members=members, seed=seed).run(warmup)
        start = now()
        model.run(ticks)
        best = min(best, (now() - start) / ticks)
    return best


def scaling_exponent(members: Sequence[int], seconds_per_tick: Sequence[float]) -> float:
    """Least-squares slope of log(seconds per tick) against log(members): 1.0 is linear growth."""
    return float(np.polyfit(np.log(members), np.log(seconds_per_tick), 1)[0])


def measure(sizes: Sequence[int] = (100, 1000, 10_000), ticks: int = 100, warmup: int = 50,
            repeats: int = 3, mesa_agents: int = 1000, mesa_steps: int = 300,
            worlds: Sequence[str] = WORLDS, clock: str = "cpu") -> dict:
    """All the figures, as one JSON-ready dict, by world and design (``..._by_case[world][design]``).
    Figures without a world and design are the worst case: the slowest rate, the largest exponent."""
    sizes = sorted(set(sizes))
    worlds = list(dict.fromkeys(worlds))
    mesa_step = time_mesa(mesa_agents, mesa_steps, repeats, clock=clock)
    mesa_rate = mesa_agents / mesa_step
    per_tick = {w: {d: {n: time_orgsim(n, d, w, ticks, warmup, repeats, clock=clock) for n in sizes} for d in DESIGNS}
                for w in worlds}
    cases = [(w, d) for w in worlds for d in DESIGNS]
    rate = {w: {d: {str(n): n / s for n, s in per_tick[w][d].items()} for d in DESIGNS} for w in worlds}
    figures: dict = {
        "mesa_agent_steps_per_s": mesa_rate,
        "agent_steps_per_s": {str(n): min(rate[w][d][str(n)] for w, d in cases) for n in sizes},
        "agent_steps_per_s_by_case": rate,
        "seconds_per_tick_by_case": {w: {d: {str(n): s for n, s in per_tick[w][d].items()} for d in DESIGNS}
                                     for w in worlds},
    }
    if mesa_agents in sizes:
        by_case = {w: {d: rate[w][d][str(mesa_agents)] / mesa_rate for d in DESIGNS} for w in worlds}
        figures[f"ratio_{mesa_agents}"] = min(by_case[w][d] for w, d in cases)
        figures[f"ratio_{mesa_agents}_by_case"] = by_case
    if len(sizes) >= 2:
        by_case = {w: {d: scaling_exponent(sizes, [per_tick[w][d][n] for n in sizes]) for d in DESIGNS}
                   for w in worlds}
        figures["scaling_exponent"] = max(by_case[w][d] for w, d in cases)
        figures["scaling_exponent_by_case"] = by_case
        # The fit over all sizes mixes fixed per-tick overhead (small sizes) with per-member work; the
        # slope between the two largest sizes shows how the per-member work alone grows.
        top = sizes[-2:]
        figures["scaling_exponent_largest_pair"] = max(
            scaling_exponent(top, [per_tick[w][d][n] for n in top]) for w, d in cases
        )
    figures["settings"] = {
        "sizes": sizes, "worlds": worlds, "designs": list(DESIGNS), "ticks": ticks, "warmup": warmup,
        "repeats": repeats, "clock": clock, "mesa_agents": mesa_agents, "mesa_steps": mesa_steps, "load": DEFAULT_LOAD,
        "mesa": mesa.__version__, "numpy": np.__version__, "python": platform.python_version(),
    }
    return figures


def report(figures: dict) -> str:
    """The figures as a short text table."""
    s = figures["settings"]
    cases = [(w, d) for w in s["worlds"] for d in s["designs"]]
    lines = [
        f"Mesa {s['mesa']} BoltzmannWealth (mesa.examples), {s['mesa_agents']:,} agents x {s['mesa_steps']} steps: "
        f"{figures['mesa_agent_steps_per_s']:,.0f} agent-steps/s",
        f"orgsim OrgModel, {s['ticks']} ticks after {s['warmup']} warm-up, load {s['load']:g} "
        f"(best of {s['repeats']}, {s['clock']} time); agent-steps/s (ms per tick):",
        f"{'members':>9}" + "".join(f"{w + ' ' + d:>24}" for w, d in cases),
    ]
    for n in s["sizes"]:
        cells = "".join(
            f"{figures['agent_steps_per_s_by_case'][w][d][str(n)]:>14,.0f}"
            f" ({1000 * figures['seconds_per_tick_by_case'][w][d][str(n)]:>6.2f})"
            for w, d in cases
        )
        lines.append(f"{n:>9,}" + cells)
    ratio = f"ratio_{s['mesa_agents']}"
    if ratio in figures:
        detail = ", ".join(f"{w} {d} {figures[f'{ratio}_by_case'][w][d]:.2f}" for w, d in cases)
        lines.append(f"ratio ours/Mesa at {s['mesa_agents']:,}: {figures[ratio]:.2f} ({detail}); target >= 1.0")
    if "scaling_exponent" in figures:
        detail = ", ".join(f"{w} {d} {figures['scaling_exponent_by_case'][w][d]:.2f}" for w, d in cases)
        lines.append(f"scaling exponent (log time per tick vs log members): {figures['scaling_exponent']:.2f} "
                     f"({detail}); target <= 1.1")
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
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS),
                        choices=["clear", "complicated", "complex", "chaotic"], help="regimes timed")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="cpu: this process's CPU time (default; steady on a shared machine); wall: wall clock")
    parser.add_argument("--ticks", type=_positive, default=100, help="timed ticks per run (default 100)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed ticks before (default 50)")
    parser.add_argument("--repeats", type=_positive, default=3, help="fresh runs; the best counts (default 3)")
    parser.add_argument("--mesa-agents", type=_positive, default=1000, help="BoltzmannWealth agents")
    parser.add_argument("--mesa-steps", type=_positive, default=300, help="BoltzmannWealth steps")
    args = parser.parse_args(argv)
    figures = measure(args.sizes, args.ticks, max(0, args.warmup), args.repeats, args.mesa_agents,
                      args.mesa_steps, args.worlds, args.clock)
    print(json.dumps(figures) if args.json else report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
