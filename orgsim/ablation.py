"""Ablations: switch one mechanism off and measure what changes, on paired seeds.

Every mechanism of the model can be switched off by setting a lever to a neutral value. ``CASES`` lists,
for each mechanism, the designs and worlds where it should matter (and in which direction) and where it
should have no effect at all. :func:`ablate` runs a design with and without the mechanism on the same
seeds and returns the paired difference with its 95 % interval; :func:`ablation_table` does it for every
case (``tests/test_mechanisms.py`` checks the directions; ``python -m orgsim.ablation`` prints the table).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from orgsim.design import RESPONSIVE, SILOED
from orgsim.metrics import mean_ci
from orgsim.model import OrgModel

#: Worlds the ablations run in (environment settings).
WORLDS: dict[str, dict[str, Any]] = {
    "clear": {"regime": "clear"},
    "complex": {"regime": "complex"},
    "chaotic": {"regime": "chaotic"},
    "technology": {"regime": "clear", "layers": {"technology": {"drift": 0.01, "shock_rate": 0.005,
                                                                "shock_magnitude": 0.6}}},
    "needs shocks": {"regime": "clear", "shocks": [{"tick": t, "layer": "needs", "magnitude": 0.8}
                                                   for t in (80, 160, 240)]},
    "new capability": {"regime": "clear", "load": 0.6, "frontier_announcements": [5, 10], "frontier_fails": 0.0,
                       "shocks": [{"tick": 150, "layer": "technology", "magnitude": 0.4}]},
    "abandoned capability": {"regime": "clear", "load": 0.6, "frontier_announcements": [5, 10],
                             "frontier_fails": 1.0,
                             "shocks": [{"tick": 150, "layer": "technology", "magnitude": 0.4}]},
    "overloaded": {"regime": "complex", "load": 0.95},
    "chaotic with slack": {"regime": "chaotic", "load": 0.4},
    "clear with slack": {"regime": "clear", "load": 0.4},
    "rules shocks": {"regime": "clear", "shocks": [{"tick": t, "layer": "rules", "magnitude": 0.8}
                                                   for t in (80, 160, 240)]},
}
#: Largest effect, as a share of the measure, that counts as "no material effect".
MATERIAL = 0.05
#: The silo'd preset's management (cadences, sensing, memory, probing): holding it equal isolates structure.
SILOED_MANAGEMENT = {"cadence": SILOED.cadence.model_dump(), "sensing_delay": SILOED.sensing_delay,
                     "sensing_noise": SILOED.sensing_noise, "memory": SILOED.memory, "probing": SILOED.probing,
                     "constraints": SILOED.constraints}
#: The responsive preset's structure (everyone in the fluid pool, broad hires).
RESPONSIVE_STRUCTURE = {"fluidity": RESPONSIVE.fluidity, "specialisation": RESPONSIVE.specialisation}


@dataclass(frozen=True)
class Case:
    """One ablation: ``mechanism`` on (levers ``on``) and off (levers ``off``) on ``design`` in ``world``.

    ``expect`` is the direction of on minus off in ``measure``: ``"+"``, ``"-"``, ``"0"`` where the
    mechanism is not at work at all (the runs are identical), or ``"~"`` where it is at work but should
    have no material effect (the interval includes 0 and the mean effect is under ``MATERIAL`` of the
    measure). A lever named ``"world"`` in ``on`` or ``off`` holds environment settings that override the
    world's, for mechanisms of the environment (failure demand, coupled pace layers).
    """

    mechanism: str
    design: str
    on: dict[str, Any]
    off: dict[str, Any]
    world: str
    expect: str
    measure: str = "mean_value_delivered"
    ticks: int = 300
    warmup: int = 50


_NO_REPLANS = {"cadence": {"operations": 10_000, "process": 10_000, "structure": 10_000, "strategy": 10_000}}
_TEAMS = {**SILOED_MANAGEMENT, **RESPONSIVE_STRUCTURE}
_NO_HANDOFF = {"handoff_delay": 0, "handoff_error": 0.0}
_EXPLORE = {"ticks": 260, "warmup": 150}
_NO_LEARNING = {"learning_rate": 0.0, "forgetting_rate": 0.0}
_INTEGRATED, _GATE = {"constraints": "integrated"}, {"constraints": "gate"}
_NO_FOLLOWUPS = {"world": {"followup_chance": 0.0}}
_UNCOUPLED = {"world": {"layer_coupling": 0.0}}

CASES: tuple[Case, ...] = (
    Case("teams (management held equal)", "siloed", _TEAMS, {}, "chaotic", "+"),
    Case("teams (management held equal)", "siloed", _TEAMS, {}, "clear", "-"),
    Case("breadth in a fluid organisation", "responsive", {"specialisation": 0.0}, {"specialisation": 1.0},
         "chaotic with slack", "+"),
    Case("breadth in a fluid organisation", "responsive", {"specialisation": 0.0}, {"specialisation": 1.0},
         "clear", "-"),
    Case("waiting for cover (patience)", "responsive", {}, {"patience": 0}, "overloaded", "+"),
    Case("waiting for cover (patience)", "siloed", {}, {"patience": 0}, "clear", "0"),
    Case("team hand-overs", "responsive", {}, _NO_HANDOFF, "complex", "-"),
    Case("team hand-overs", "responsive", {"patience": 0}, {"patience": 0, **_NO_HANDOFF}, "complex", "~"),
    Case("specialists' efficiency", "siloed", {"specialisation": 1.0}, {"specialisation": 0.3}, "clear", "+",
         "mean_proficiency"),
    Case("coordination cost by headcount", "responsive", {}, {"coordination_cost": 0.0}, "clear", "+",
         "mean_coordination_overhead"),
    Case("coordination cost by headcount", "siloed", {}, {"coordination_cost": 0.0}, "clear", "0"),
    Case("standardisation (routine)", "siloed", {}, {"standardisation": 0.0}, "clear", "-", "mean_internal_rework"),
    Case("standardisation (routine)", "siloed", _NO_HANDOFF, {**_NO_HANDOFF, "standardisation": 0.0}, "clear", "0"),
    Case("team process (routine)", "responsive", {}, {"standardisation": 0.0}, "clear", "-",
         "mean_coordination_overhead"),
    Case("team process (routine)", "responsive", {"coordination_cost": 0.0, **_NO_HANDOFF},
         {"coordination_cost": 0.0, **_NO_HANDOFF, "standardisation": 0.0}, "clear", "0"),
    Case("re-planning cost", "responsive", {}, {"planning_cost": 0.0}, "overloaded", "-", "mean_utilisation"),
    Case("re-planning cost", "responsive", _NO_REPLANS, {**_NO_REPLANS, "planning_cost": 0.0}, "clear", "0"),
    Case("onboarding by skill gap", "siloed", {}, {"restructure_cost": 0}, "needs shocks", "-"),
    Case("onboarding by skill gap", "responsive", {}, {"restructure_cost": 0}, "needs shocks", "0"),
    Case("knowledge transfer", "siloed", {}, {"knowledge_transfer": 0.0}, "needs shocks", "+",
         "mean_proficiency"),
    Case("knowledge transfer", "siloed", {}, {"knowledge_transfer": 0.0}, "clear", "~"),
    Case("probing", "responsive", {}, {"probing": 0.0}, "complex", "-", "mean_internal_rework"),
    Case("probing", "responsive", {}, {"probing": 0.0}, "clear", "0"),
    Case("exploration (scouting)", "responsive", {"exploration": 0.05}, {"exploration": 0.0}, "new capability",
         "+", **_EXPLORE),
    Case("exploration (scouting)", "responsive", {"exploration": 0.05}, {"exploration": 0.0}, "clear", "-"),
    Case("exploration (scouting)", "responsive", {"exploration": 0.05}, {"exploration": 0.0}, "abandoned capability",
         "-", **_EXPLORE),
    Case("learning by doing", "responsive", {}, _NO_LEARNING, "new capability", "+", **_EXPLORE),
    Case("learning by doing", "siloed", {}, _NO_LEARNING, "clear", "~"),
    Case("integrated compliance", "responsive", _INTEGRATED, _GATE, "rules shocks", "+", "mean_alignment_rules"),
    Case("integrated compliance", "responsive", _INTEGRATED, _GATE, "clear", "~", "mean_alignment_rules"),
    Case("failure demand (follow-ups)", "siloed", {}, _NO_FOLLOWUPS, "complex", "+", "mean_value_lost_refused"),
    Case("failure demand (follow-ups)", "siloed", {}, _NO_FOLLOWUPS, "clear with slack", "~"),
    Case("coupled pace layers", "siloed", {}, _UNCOUPLED, "needs shocks", "-"),
    Case("coupled pace layers", "siloed", {}, _UNCOUPLED, "clear", "0"),
    Case("sensing delay (analyse)", "responsive", {"sensing_delay": 10}, {}, "complex", "-", "mean_alignment_needs"),
    Case("sensing delay (analyse)", "responsive", {"sensing_delay": 10}, {}, "clear", "~", "mean_alignment_needs"),
)


def run_summary(design: str, levers: dict[str, Any], world: str | dict[str, Any], seed: int, ticks: int = 300,
                members: int = 60, warmup: int = 50) -> dict[str, float]:
    """The run summary of ``design`` with ``levers`` in ``world`` (a name of ``WORLDS`` or settings).

    A lever named ``"world"`` holds environment settings that override the world's (a mechanism of the
    environment, such as failure demand, is switched off there).
    """
    levers = dict(levers)
    environment = {**(WORLDS[world] if isinstance(world, str) else world), **levers.pop("world", {})}
    model = OrgModel(design, environment, members=members, seed=seed, **levers).run(ticks)
    return model.summary(warmup)


def _one(args: tuple) -> dict[str, float]:
    design, levers, world, seed, ticks, members, warmup = args
    return run_summary(design, levers, world, seed, ticks, members, warmup)


def ablate(design: str, on: dict[str, Any], off: dict[str, Any], world: str | dict[str, Any],
           measure: str = "mean_value_delivered", seeds: Sequence[int] = range(10), ticks: int = 300,
           members: int = 60, warmup: int = 50, workers: int = 1) -> dict[str, float]:
    """Paired difference (on - off) of ``measure`` over ``seeds``: mean, 95 % t-interval and n."""
    return ablate_measures(design, on, off, world, (measure,), seeds, ticks, members, warmup, workers)[measure]


def ablate_measures(design: str, on: dict[str, Any], off: dict[str, Any], world: str | dict[str, Any],
                    measures: Sequence[str], seeds: Sequence[int] = range(10), ticks: int = 300,
                    members: int = 60, warmup: int = 50, workers: int = 1) -> dict[str, dict[str, float]]:
    """:func:`ablate` for several summary ``measures`` of the same runs: one result per measure."""
    jobs = [(design, levers, world, s, ticks, members, warmup) for levers in (on, off) for s in seeds]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            summaries = list(pool.map(_one, jobs))
    else:
        summaries = [_one(job) for job in jobs]
    n = len(seeds)
    out = {}
    for measure in measures:
        values = np.array([summary[measure] for summary in summaries])
        mean, low, high, count = mean_ci(values[:n] - values[n:])
        out[measure] = {"on": float(np.mean(values[:n])), "off": float(np.mean(values[n:])), "effect": mean,
                        "ci_low": low, "ci_high": high, "n": count}
    return out


def ablation_table(cases: Sequence[Case] = CASES, seeds: Sequence[int] = range(10), members: int = 60,
                   workers: int = 2) -> pd.DataFrame:
    """Every case's effect (on - off) with its 95 % interval, and whether it agrees with ``expect``."""
    rows = []
    for c in cases:
        r = ablate(c.design, c.on, c.off, c.world, c.measure, seeds, c.ticks, members, c.warmup, workers)
        rows.append({"mechanism": c.mechanism, "design": c.design, "world": c.world, "measure": c.measure,
                     "expect": c.expect, **r, "agrees": agrees(c.expect, r)})
    return pd.DataFrame(rows)


def agrees(expect: str, result: dict[str, float]) -> bool:
    """Whether a paired result shows the expected direction: the 95 % interval above 0 (``+``), below 0
    (``-``), no material effect (``~``: the interval includes 0 and the mean effect is under ``MATERIAL``
    of the measure with the mechanism off), or an effect of exactly 0 (``0``: not at work at all)."""
    if expect == "+":
        return result["ci_low"] > 0
    if expect == "-":
        return result["ci_high"] < 0
    if expect == "~":
        return result["ci_low"] <= 0 <= result["ci_high"] and abs(result["effect"]) <= MATERIAL * abs(result["off"])
    return abs(result["effect"]) < 1e-12 and abs(result["ci_high"] - result["ci_low"]) < 1e-12


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the ablation table of every mechanism.")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    table = ablation_table(CASES, range(args.seeds), args.members, args.workers)
    print(table.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
