"""Helpers for the workshop notebooks: each cell shown to a room is one or two lines that call these.

Scenarios written as dicts (validated like a file in ``scenarios/``), paired comparisons of two
organisations over seeds, sentences that state what the numbers say (with 95 % intervals of paired
differences, ``orgsim.metrics.mean_ci``), and the crossover over turbulence.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from orgsim.design import OrgDesign
from orgsim.experiment import Comparison, compare
from orgsim.metrics import mean_ci
from orgsim.plotting import colour
from orgsim.scenario import Scenario, validate_scenario

#: Font sizes readable on a projector.
PROJECTOR = {"font.size": 16, "axes.titlesize": 18, "axes.labelsize": 16, "legend.fontsize": 14,
             "xtick.labelsize": 14, "ytick.labelsize": 14, "figure.figsize": (12, 6.5)}
NAMES = {"siloed": "machine (silo'd)", "responsive": "responsive"}
TURBULENCE = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Summary measures the notebooks explain a result with, as the room reads them.
WHY = {
    "mean_value_delivered": "value delivered per day",
    "mean_lead_time": "lead time (days)",
    "mean_utilisation": "capacity spent producing (share)",
    "mean_proficiency": "proficiency at the work (0-1)",
    "mean_coordination_overhead": "capacity lost to coordination in teams (share)",
    "mean_planning_overhead": "capacity spent in re-planning meetings (share)",
    "mean_team_size": "people per team",
    "mean_failure_demand": "failure demand (share of arriving demand)",
    "mean_internal_rework": "rework and waste (share of work)",
    "mean_alignment": "alignment with demand (0-1)",
}


def projector() -> None:
    """Set matplotlib's fonts to sizes a room can read."""
    plt.rcParams.update(PROJECTOR)


def scenario(environment: dict[str, Any], organisations: dict[str, Any] | None = None, ticks: int = 400,
             seeds: int = 5, description: str = "") -> Scenario:
    """A validated scenario with the structure of a file in scenarios/, written as dicts."""
    data: dict[str, Any] = {"description": description, "run": {"ticks": ticks, "seeds": seeds, "warmup": 50},
                            "environment": environment}
    if organisations:
        data["organisations"] = organisations
    return validate_scenario(data)


def run(environment: dict[str, Any], organisations: dict[str, Any] | None = None, ticks: int = 400,
        seeds: int = 5, description: str = "") -> Comparison:
    """Run every organisation of a scenario (by default the two presets) on the same seeds."""
    return compare(scenario(environment, organisations, ticks, seeds, description))


def levers(*designs: OrgDesign, names: tuple[str, ...] = tuple(NAMES.values())) -> pd.DataFrame:
    """The levers in which the designs differ, one column per design (cadences in working days)."""
    def flat(design: OrgDesign) -> dict[str, str]:
        out = {k: str(v) for k, v in design.model_dump().items() if k != "cadence"}
        out.update({f"re-plan {layer} every (days)": str(v) for layer, v in design.cadence.model_dump().items()})
        return out

    table = pd.DataFrame({name: flat(d) for name, d in zip(names, designs, strict=True)})
    return table[table.nunique(axis=1) > 1]


def per_seed(result: Comparison, measure: str = "mean_value_delivered") -> pd.DataFrame:
    """One row per seed, one column per organisation (same seed = same customers for all)."""
    return result.runs.pivot(index="seed", columns="organisation", values=measure)


def per_seed_window(result: Comparison, start: int, end: int, measure: str = "value_delivered") -> pd.DataFrame:
    """Mean of a per-day measure over days ``start`` to ``end - 1``, one row per seed, a column per organisation."""
    ts = result.timeseries
    sel = ts[(ts.tick >= start) & (ts.tick < end)]
    return sel.groupby(["seed", "organisation"])[measure].mean().unstack("organisation")


def who_wins(wide: pd.DataFrame, setting: str, a: str = "siloed", b: str = "responsive") -> str:
    """A sentence stating which of ``a`` and ``b`` delivers more, from paired runs (one row per seed)."""
    diff = wide[b] - wide[a]
    mean, low, high, n = mean_ci(diff)
    winner, loser = (b, a) if mean > 0 else (a, b)
    base = wide[loser].mean()
    wins = int((np.sign(diff) == np.sign(mean)).sum())
    text = f"{setting}: the {NAMES.get(winner, winner)} organisation delivers {abs(mean) / base:.0%} more value"
    if low > 0 or high < 0:
        lo, hi = sorted((abs(low), abs(high)))
        return text + f" (95 % CI {lo / base:.0%} to {hi / base:.0%})"
    return text + f" on average (more in {wins} of {n} runs; not yet firm)"


def why(result: Comparison, measures: dict[str, str] | None = None) -> pd.DataFrame:
    """Mean [95 % CI] over seeds of summary measures (default ``WHY``), one column per organisation."""
    measures = measures or WHY
    s = result.summary()
    s = s[s.measure.isin(measures)]
    s = s.assign(cell=[f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in zip(s["mean"], s.ci_low, s.ci_high,
                                                                           strict=True)])
    table = s.pivot(index="measure", columns="organisation", values="cell")
    table = table.loc[[m for m in measures if m in table.index], result.organisations]
    return table.rename(index=measures, columns=NAMES)


def over_turbulence(organisations: dict[str, Any] | None = None, levels: tuple[float, ...] = TURBULENCE,
                    ticks: int = 400, seeds: int = 5) -> pd.DataFrame:
    """Value per day of each organisation and seed at each turbulence level (a long table)."""
    frames = []
    for level in levels:
        runs = run({"regime": "complex", "turbulence": level}, organisations, ticks, seeds).runs
        frames.append(runs[["organisation", "seed", "mean_value_delivered"]].assign(turbulence=level))
    return pd.concat(frames, ignore_index=True)


def curve_of(values: pd.DataFrame, a: str = "siloed", b: str = "responsive") -> pd.DataFrame:
    """Mean and 95 % CI per turbulence level of ``a``, ``b`` and the paired difference b - a."""
    rows = []
    for level, sel in values.groupby("turbulence"):
        wide = sel.pivot(index="seed", columns="organisation", values="mean_value_delivered")
        for name, series in ((a, wide[a]), (b, wide[b]), ("difference", wide[b] - wide[a])):
            m, lo, hi, _ = mean_ci(series)
            rows.append({"turbulence": level, "organisation": name, "mean": m, "low": lo, "high": hi})
    return pd.DataFrame(rows)


def crossing(curve: pd.DataFrame) -> float | None:
    """Turbulence where the mean difference (second minus first organisation) first turns positive."""
    d = curve[curve.organisation == "difference"].sort_values("turbulence")
    x, y = d.turbulence.to_numpy(), d["mean"].to_numpy()
    for i in range(1, len(y)):
        if y[i - 1] <= 0 < y[i]:
            return float(x[i - 1] + (x[i] - x[i - 1]) * -y[i - 1] / (y[i] - y[i - 1]))
    return None


def crossover_sentence(curve: pd.DataFrame, a: str = "machine", b: str = "responsive organisation") -> str:
    """Where the curve's difference changes sign, in words."""
    x = crossing(curve)
    diff = curve[curve.organisation == "difference"]["mean"]
    if x is not None:
        return f"The {a} wins below turbulence {x:.2f}; the {b} wins above"
    return f"The {b if (diff > 0).all() else a} wins at every turbulence level tested"


def crossover_figure(curve: pd.DataFrame, note: str = "") -> Figure:
    """Value per day of both presets over turbulence (top) and their paired difference (bottom)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 9), sharex=True, constrained_layout=True)
    for i, org in enumerate(["siloed", "responsive"]):
        c = curve[curve.organisation == org]
        top.plot(c.turbulence, c["mean"], "o-", lw=3, color=colour(org, i), label=NAMES[org])
        top.fill_between(c.turbulence, c.low, c.high, color=colour(org, i), alpha=0.2, lw=0)
    top.set_ylabel("Value delivered\n(value units per day)")
    top.legend()
    d = curve[curve.organisation == "difference"]
    bottom.axhline(0, color="black", lw=1)
    bottom.fill_between(d.turbulence, d.low, d.high, color="grey", alpha=0.3, lw=0, label="95 % CI")
    bottom.plot(d.turbulence, d["mean"], "o-", lw=3, color="black", label="responsive minus machine")
    bottom.set_ylabel("Difference\n(value units per day)")
    bottom.set_xlabel("Turbulence (0 = nothing changes, 1 = chaotic)")
    bottom.legend(loc="upper left")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.suptitle(crossover_sentence(curve) + (f"\n{note}" if note else ""))
    return fig


#: The two-shock scenario of notebook 01 (scenarios/demand-shock.toml): needs on day 150, technology on day 300.
TWO_SHOCKS = ({"tick": 150, "layer": "needs", "magnitude": 0.8}, {"tick": 300, "layer": "technology", "magnitude": 0.8})


def comparison(result: Comparison, title: str, window: int = 20) -> Figure:
    """``orgsim.plotting.plot_comparison`` of a result with a title that states what it shows."""
    from orgsim.plotting import plot_comparison

    fig = plot_comparison(result, window=window)
    seeds = result.runs.seed.nunique()
    fig.suptitle(f"{title}\n(mean of {seeds} runs, {window}-day moving average, band = 95 % CI)", fontsize=15)
    return fig


def after_shocks(result: Comparison, shocks: tuple[dict[str, Any], ...] = TWO_SHOCKS, after: int = 150) -> Figure:
    """The comparison figure titled with who delivers more in the ``after`` days following each shock."""
    lines = [who_wins(per_seed_window(result, s["tick"], s["tick"] + after),
                      f"{after} days after the {s['layer']} shock (day {s['tick']})") for s in shocks]
    return comparison(result, "\n".join(lines))
