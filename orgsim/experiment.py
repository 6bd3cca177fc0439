"""Experiments: run organisations of a scenario over seeds and compare them with confidence intervals.

Every organisation of a scenario runs with the same seeds, so for each seed they face the very same
stream of demands and shocks; only their design differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orgsim.metrics import MEASURES, mean_ci, moving_average, t_half_width
from orgsim.scenario import Scenario

#: Measures shown in the headline table, in order, with a short label and unit.
HEADLINE: dict[str, str] = {
    "mean_value_delivered": "value delivered per tick",
    "mean_completed": "demands delivered per tick",
    "mean_lead_time": "lead time (ticks)",
    "mean_wip": "work in progress (demands)",
    "mean_alignment": "alignment (0-1)",
    "mean_alignment_needs": "  needs layer",
    "mean_alignment_technology": "  technology layer",
    "mean_alignment_rules": "  rules layer",
    "mean_failure_demand": "failure demand (share of work)",
    "mean_value_lost_delay": "value lost to delay per tick",
    "mean_value_lost_expiry": "value lost to expiry per tick",
    "mean_value_lost_refused": "value refused per tick",
    "mean_utilisation": "utilisation (share of capacity)",
    "mean_coordination_overhead": "coordination overhead (share)",
    "mean_value_per_capacity": "value per unit of capacity",
    "mean_proficiency": "proficiency at work (0-1)",
    "mean_skill_breadth": "skill breadth (capabilities)",
    "mean_overload": "overload above 85 % (share)",
    "recovery_value_delivered_needs": "recovery after needs shock (ticks)",
    "recovery_value_delivered_technology": "recovery after technology shock (ticks)",
    "recovery_value_delivered_rules": "recovery after rules shock (ticks)",
    "recovery_value_delivered_volume": "recovery after volume shock (ticks)",
}


@dataclass(frozen=True)
class RunResult:
    """One organisation, one seed."""

    organisation: str
    seed: int
    timeseries: pd.DataFrame
    summary: dict[str, float]
    shocks: pd.DataFrame


def run_one(scenario: Scenario, organisation: str, seed: int) -> RunResult:
    """Run one organisation of ``scenario`` for one seed over ``scenario.run.ticks`` ticks."""
    model = scenario.model(organisation, seed).run(scenario.run.ticks)
    return RunResult(
        organisation, seed, model.timeseries(), model.summary(scenario.run.warmup), model.shocks()
    )


@dataclass(frozen=True)
class Comparison:
    """The results of every organisation of a scenario over its seeds."""

    scenario: Scenario
    runs: pd.DataFrame  # one row per organisation and seed: the run summary
    timeseries: pd.DataFrame  # long: organisation, seed, tick, every measure
    shocks: pd.DataFrame  # organisation, seed, tick, layer, magnitude, scheduled

    @property
    def organisations(self) -> list[str]:
        return list(dict.fromkeys(self.runs["organisation"]))

    def summary(self) -> pd.DataFrame:
        """Mean and 95 % CI over seeds of every summary measure: organisation, measure, mean, ci_low,
        ci_high, n (n counts the seeds where the measure is defined)."""
        rows = []
        measures = [c for c in self.runs.columns if c not in ("organisation", "seed")]
        for org in self.organisations:
            sel = self.runs[self.runs.organisation == org]
            for measure in measures:
                mean, low, high, n = mean_ci(sel[measure].to_numpy(dtype=float))
                rows.append((org, measure, mean, low, high, n))
        return pd.DataFrame(rows, columns=["organisation", "measure", "mean", "ci_low", "ci_high", "n"])

    def band(self, measure: str, window: int = 10) -> pd.DataFrame:
        """Per organisation and tick: mean and 95 % CI over seeds of the smoothed ``measure``. Ticks where
        a run has no value (lead time when nothing was delivered) are left out, not counted as 0."""
        frames = []
        for org in self.organisations:
            sel = self.timeseries[self.timeseries.organisation == org]
            wide = sel.pivot(index="tick", columns="seed", values=measure)
            smooth = np.column_stack([moving_average(wide[c].to_numpy(), window) for c in wide.columns])
            mean, half = _mean_t_half_width(smooth)
            frames.append(pd.DataFrame({
                "organisation": org, "tick": wide.index, "mean": mean,
                "ci_low": mean - half, "ci_high": mean + half,
            }))
        return pd.concat(frames, ignore_index=True)


def _mean_t_half_width(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: mean of the finite values (NaN if none) and half-width of their 95 % t-interval (0 if < 2)."""
    finite = np.isfinite(samples)
    n = finite.sum(axis=1)
    mean = np.divide(np.where(finite, samples, 0.0).sum(axis=1), n, out=np.full(len(n), np.nan), where=n > 0)
    squares = (np.where(finite, samples - mean[:, None], 0.0) ** 2).sum(axis=1)
    var = np.divide(squares, n - 1, out=np.zeros(len(n)), where=n > 1)
    return mean, np.nan_to_num(t_half_width(np.sqrt(var), n))


def compare(
    scenario: Scenario,
    organisations: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Run every organisation (or those named) of ``scenario`` for each of its seeds.

    ``progress`` is called with 1 after each run (e.g. ``tqdm.update``).
    """
    names = list(organisations or scenario.organisations)
    for name in names:
        scenario.design(name)  # fail before running anything
    results = []
    for seed in scenario.seeds:
        for name in names:
            results.append(run_one(scenario, name, seed))
            if progress is not None:
                progress(1)
    return collect(scenario, results)


def collect(scenario: Scenario, results: Sequence[RunResult]) -> Comparison:
    """Assemble run results into a :class:`Comparison`."""
    runs = pd.DataFrame([{"organisation": r.organisation, "seed": r.seed, **r.summary} for r in results])
    series = pd.concat(
        [r.timeseries.reset_index().assign(organisation=r.organisation, seed=r.seed) for r in results],
        ignore_index=True,
    )[["organisation", "seed", "tick", *MEASURES]]
    shocks = pd.concat(
        [r.shocks.assign(organisation=r.organisation, seed=r.seed) for r in results], ignore_index=True
    )
    return Comparison(scenario, runs, series, shocks)


def headline_table(summary: pd.DataFrame) -> str:
    """The headline measures as a fixed-width text table: mean [95 % CI] per organisation.

    A recovery row also says how many of the recoveries it averages were censored (not recovered by
    the next shock or the end of the run: the ticks observed, a lower bound, enter the mean).
    """
    orgs = list(dict.fromkeys(summary["organisation"]))
    width = max(len(label) for label in HEADLINE.values()) + 2
    col = 38
    value = summary.set_index(["organisation", "measure"])
    lines = ["measure".ljust(width) + "".join(o.rjust(col) for o in orgs)]
    for measure, label in HEADLINE.items():
        cells = []
        for org in orgs:
            if (org, measure) not in value.index or value.loc[(org, measure), "n"] == 0:
                cells.append("-".rjust(col))
                continue
            m, lo, hi, n = value.loc[(org, measure), ["mean", "ci_low", "ci_high", "n"]]
            text = f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
            if measure.startswith("recovery_value_delivered_"):
                censored = value.loc[(org, "censored_" + measure.rsplit("_", 1)[1])]
                text += f" ({round(censored['mean'] * censored['n'])} censored)"
            cells.append(text.rjust(col))
        if any(c.strip() != "-" for c in cells):
            lines.append(label.ljust(width) + "".join(cells))
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"
