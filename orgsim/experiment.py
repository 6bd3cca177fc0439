"""Experiments: run organisations of a scenario over seeds and compare them with confidence intervals.

Every organisation of a scenario runs with the same seeds, so for each seed they face the very same
stream of demands and shocks; only their design differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from orgsim import recovery
from orgsim.environment import LAYERS
from orgsim.intervals import row_intervals, table_intervals
from orgsim.metrics import MEASURES, moving_average
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
    "mean_failure_demand": "failure demand (share of arriving demand)",
    "mean_internal_rework": "internal rework (share of work)",
    "mean_value_lost_delay": "value lost to delay per tick",
    "mean_value_lost_expiry": "value lost to expiry per tick",
    "mean_value_lost_refused": "value refused per tick",
    "mean_utilisation": "utilisation (share of capacity)",
    "mean_coordination_overhead": "coordination overhead (share)",
    "mean_value_per_capacity": "value per unit of capacity",
    "mean_proficiency": "proficiency at work (0-1)",
    "mean_skill_breadth": "skill breadth (capabilities)",
    "mean_overload": "overload above 85 % (share)",
    **{key: text for layer in LAYERS for key, text in (
        (f"recovery_value_delivered_{layer}", f"recovery after {layer} shock (ticks)"),
        (f"depth_value_delivered_{layer}", "  deepest loss (value per tick)"),
        (f"area_value_delivered_{layer}", "  value lost to next shock/end"),
    )},
}
#: Short names of the intervals in the headline table.
SHORT = {"BCa bootstrap": "BCa", "percentile bootstrap": "pct", "t": "t", "Kaplan-Meier median": "KM",
         "none": "-"}


@dataclass(frozen=True)
class RunResult:
    """One organisation, one seed."""

    organisation: str
    seed: int
    timeseries: pd.DataFrame
    summary: dict[str, float]
    shocks: pd.DataFrame
    recovery: pd.DataFrame | None = None  # per scheduled shock, against its twin (orgsim.recovery)


def run_one(scenario: Scenario, organisation: str, seed: int, twins: bool = False) -> RunResult:
    """Run one organisation of ``scenario`` for one seed over ``scenario.run.ticks`` ticks; with ``twins``,
    also its recovery from each scheduled shock against a no-shock twin (one more run per shock)."""
    model = scenario.model(organisation, seed).run(scenario.run.ticks)
    series = model.timeseries()
    twin = recovery.shock_recoveries(scenario, organisation, seed, series) if twins else None
    return RunResult(organisation, seed, series, model.summary(scenario.run.warmup), model.shocks(), twin)


@dataclass(frozen=True)
class Comparison:
    """The results of every organisation of a scenario over its seeds."""

    scenario: Scenario
    runs: pd.DataFrame  # one row per organisation and seed: the run summary
    timeseries: pd.DataFrame  # long: organisation, seed, tick, every measure
    shocks: pd.DataFrame  # organisation, seed, tick, layer, magnitude, scheduled
    #: organisation, seed, and per scheduled shock and measure its recovery against a no-shock twin
    recovery: pd.DataFrame = field(default_factory=recovery.empty)

    @property
    def organisations(self) -> list[str]:
        return list(dict.fromkeys(self.runs["organisation"]))

    def summary(self) -> pd.DataFrame:
        """Every summary measure over seeds, per organisation: columns organisation, measure, estimate,
        ci_low, ci_high (95 %), n (seeds, or shocks, it rests on) and interval (which one it is).

        Run means get the interval their range calls for (:mod:`orgsim.intervals`: bootstrap for bounded
        measures, t for unbounded ones). Recovery from scheduled shocks is against the no-shock twin
        (:mod:`orgsim.recovery`), per pace layer, for value delivered and alignment:
        ``recovery_<measure>_<layer>`` (Kaplan-Meier median ticks to recover of the shocks that hit; inf
        when not reached), ``censored_<measure>_<layer>`` and ``not_hit_<measure>_<layer>`` (counts of
        shocks), ``depth_<measure>_<layer>`` and ``area_<measure>_<layer>``.
        """
        measures = [c for c in self.runs.columns
                    if c not in ("organisation", "seed") and not recovery.SELF_BASELINE.fullmatch(c)]
        frames = []
        for org in self.organisations:
            table = table_intervals(self.runs.loc[self.runs.organisation == org, measures])
            frames.append(table.assign(organisation=org))
        rows = []
        for r in recovery.summarise(self.recovery).itertuples(index=False):
            name = f"{r.measure}_{r.layer}"
            rows += [
                (r.organisation, f"recovery_{name}", r.median, r.ci_low, r.ci_high, r.recovered + r.censored,
                 "Kaplan-Meier median"),
                (r.organisation, f"censored_{name}", r.censored, np.nan, np.nan, r.shocks, "none"),
                (r.organisation, f"not_hit_{name}", r.not_hit, np.nan, np.nan, r.shocks, "none"),
                (r.organisation, f"depth_{name}", r.depth, r.depth_ci_low, r.depth_ci_high, r.shocks, r.depth_interval),
                (r.organisation, f"area_{name}", r.area, r.area_ci_low, r.area_ci_high, r.shocks, r.area_interval),
            ]
        columns = ["organisation", "measure", "estimate", "ci_low", "ci_high", "n", "interval"]
        frames.append(pd.DataFrame(rows, columns=columns))
        return pd.concat(frames, ignore_index=True)[columns]

    def band(self, measure: str, window: int = 10) -> pd.DataFrame:
        """Per organisation and tick: mean and 95 % interval over seeds of the smoothed ``measure``, kept to
        its range (:func:`orgsim.intervals.row_intervals`: bootstrap for a bounded measure). Ticks where a
        run has no value (lead time when nothing was delivered) are left out, not counted as 0."""
        frames = []
        for org in self.organisations:
            sel = self.timeseries[self.timeseries.organisation == org]
            wide = sel.pivot(index="tick", columns="seed", values=measure)
            smooth = np.column_stack([moving_average(wide[c].to_numpy(), window) for c in wide.columns])
            mean, low, high = row_intervals(measure, smooth)
            frames.append(pd.DataFrame({"organisation": org, "tick": wide.index, "mean": mean,
                                        "ci_low": low, "ci_high": high}))
        return pd.concat(frames, ignore_index=True)


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
            results.append(run_one(scenario, name, seed, twins=True))
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
    twins = [r.recovery.assign(organisation=r.organisation, seed=r.seed) for r in results if r.recovery is not None]
    table = pd.concat(twins, ignore_index=True)[recovery.empty().columns] if twins else recovery.empty()
    return Comparison(scenario, runs, series, shocks, table)


def headline_table(summary: pd.DataFrame) -> str:
    """The headline measures as a fixed-width text table: estimate [95 % CI] per organisation, and the
    interval each row uses. A recovery row gives the Kaplan-Meier median ticks to recover and says how
    many shocks were censored (not recovered by the next shock or the end of the run) or not hit."""
    orgs = list(dict.fromkeys(summary["organisation"]))
    value = summary.set_index(["organisation", "measure"])
    table = []
    for measure, label in HEADLINE.items():
        cells, kinds = [], []
        for org in orgs:
            if (org, measure) not in value.index or value.loc[(org, measure), "n"] == 0:
                cells.append("-")
                continue
            row = value.loc[(org, measure)]
            kinds.append(row["interval"])
            if measure.startswith("recovery_"):
                suffix = measure.removeprefix("recovery_")
                censored, missed = (int(value.loc[(org, f"{k}_{suffix}"), "estimate"]) for k in ("censored", "not_hit"))
                cells.append(_km_text(row["estimate"], row["ci_low"], row["ci_high"])
                             + f" ({censored} cens., {missed} not hit)")
            else:
                cells.append(f"{_fmt(row['estimate'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]")
        if any(c != "-" for c in cells):
            table.append((label, cells, SHORT.get(kind := next((k for k in kinds if k != "none"), "none"), kind)))
    width = max(len(label) for label in HEADLINE.values()) + 2
    col = max([len(o) for o in orgs] + [len(c) for _, cells, _ in table for c in cells]) + 3
    lines = ["measure".ljust(width) + "".join(o.rjust(col) for o in orgs) + "  interval"]
    lines += [label.ljust(width) + "".join(c.rjust(col) for c in cells) + "  " + kind for label, cells, kind in table]
    lines.append(f"\nintervals: BCa = bootstrap (BCa) of the mean over seeds, t = t-interval, KM = Kaplan-Meier "
                 f"median over shocks that hit, with its 95 % CI.\nrecovery: against a no-shock twin; "
                 f"{recovery.RULE.describe()}.")
    return "\n".join(lines)


def _km_text(median: float, low: float, high: float) -> str:
    if not np.isfinite(median):
        return "not reached"
    return f"{median:.0f} [{low:.0f}, {high:.0f}]" if np.isfinite(high) else f"{median:.0f} [{low:.0f}, not reached]"


def _fmt(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"
