"""Helpers for the workshop notebooks: each cell shown to a room is one or two lines that call these.

Scenarios written as dicts (validated like a file in ``scenarios/``), paired comparisons of two
organisations over seeds, sentences that state what the numbers say (with 95 % intervals of paired
differences, ``orgsim.metrics.mean_ci``), recovery from a shock against the no-shock twin
(``orgsim.recovery``, the definitions every table of orgsim uses), the crossover over turbulence at
several loads, and the attribution of a gap to lever groups (``orgsim.attribution``).

The size of every run comes from a :class:`Size`; with the environment variable ``ORGSIM_WORKSHOP_QUICK=1``
(set by ``tests/test_notebooks.py``) :func:`size` shrinks it so that the notebooks run in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from orgsim import attribution, recovery
from orgsim.design import RESPONSIVE, SILOED, OrgDesign
from orgsim.experiment import Comparison, compare
from orgsim.metrics import mean_ci
from orgsim.scenario import Scenario, validate_scenario

#: Font sizes readable on a projector.
PROJECTOR = {"font.size": 16, "axes.titlesize": 18, "axes.labelsize": 16, "legend.fontsize": 14,
             "xtick.labelsize": 14, "ytick.labelsize": 14, "figure.figsize": (12, 6.5)}
NAMES = {"siloed": "machine (silo'd)", "responsive": "responsive"}
PRESETS = {"siloed": {"preset": "siloed"}, "responsive": {"preset": "responsive"}}
TURBULENCE = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Offered load (work asked for over what the organisation can do) at which the crossover is drawn.
LOADS = (0.6, 0.95)
QUICK = "ORGSIM_WORKSHOP_QUICK"
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
    "mean_refused": "demands turned away per day",
    "mean_alignment": "alignment with demand (0-1)",
}
#: A stable market, and the two-shock scenario of scenarios/demand-shock.toml (needs, then technology).
STABLE: dict[str, Any] = {"regime": "clear"}
TWO_SHOCKS = ({"tick": 150, "layer": "needs", "magnitude": 0.8}, {"tick": 300, "layer": "technology", "magnitude": 0.8})
SHOCKED: dict[str, Any] = {"regime": "complex", "turbulence": 0.2, "shocks": list(TWO_SHOCKS)}
#: The machine with real-time sensing and the responsive calendar and memory (01, exercise 1).
FAST_MACHINE = {"preset": "siloed", "sensing_delay": 0, "memory": RESPONSIVE.memory,
                "cadence": RESPONSIVE.cadence.model_dump()}


# --- size ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Size:
    """How big every run of a notebook is: seeds per point, share of each run's full length (0-1],
    members per organisation, and how many turbulence levels and loads the crossover uses."""

    seeds: int = 3
    length: float = 1.0
    members: int = 100
    levels: tuple[float, ...] = TURBULENCE
    loads: tuple[float, ...] = LOADS

    def ticks(self, full: int) -> int:
        """The length of a run whose full length is ``full`` days."""
        return max(20, round(full * self.length))

    def text(self) -> str:
        quick = f" (quick mode, {QUICK}=1: runs at {self.length:.0%} of full length)" if self.length < 1 else ""
        return f"{self.seeds} runs per setting, {self.members} people per organisation{quick}"


def quick() -> bool:
    """True when ``ORGSIM_WORKSHOP_QUICK`` is set to anything but "" or "0"."""
    return os.environ.get(QUICK, "") not in ("", "0")


def size(seeds: int = 3) -> Size:
    """The notebooks' size: ``seeds`` runs per setting at full length, or, in quick mode, at most 2 seeds,
    a quarter of each run's length, 30 members and a coarser crossover grid."""
    if quick():
        return Size(seeds=min(seeds, 2), length=0.25, members=30, levels=(0.0, 1.0), loads=(0.6,))
    return Size(seeds=seeds)


def projector() -> None:
    """Set matplotlib's fonts to sizes a room can read; in a notebook, draw figures inline."""
    _inline()
    plt.rcParams.update(PROJECTOR)


def _inline() -> None:
    # orgsim.attribution selects the Agg backend on import (for the command line), which hides a
    # notebook's figures: in a Jupyter kernel, switch back to the inline backend.
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        shell.run_line_magic("matplotlib", "inline")


def setup(seeds: int = 3) -> Size:
    """Projector fonts, and the notebook's :func:`size`, printed."""
    projector()
    chosen = size(seeds)
    print("Every result below:", chosen.text())
    return chosen


def said(fig: Figure) -> Figure:
    """Print a figure's titles (its findings, in words) under it, and return it: the printed lines are what
    docs/scripts/workshop.py collects for the facilitator's guide."""
    titles = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    titles += [ax.get_title() for ax in fig.axes if ax.get_title()]
    print("\n".join(titles))
    return fig


# --- running -----------------------------------------------------------------------------------------------
def scenario(environment: dict[str, Any], organisations: dict[str, Any] | None = None, ticks: int = 400,
             size: Size | None = None, description: str = "") -> Scenario:
    """A validated scenario with the structure of a file in scenarios/, written as dicts, at ``size``
    (shock days and the warm-up scale with the length of the run)."""
    size = size or Size()
    data: dict[str, Any] = {"description": description, "environment": environment,
                            "run": {"ticks": ticks, "seeds": size.seeds, "warmup": 50, "members": size.members},
                            "organisations": organisations or PRESETS}
    full = validate_scenario(data)
    return full if size.length >= 1 else full.reduced(ticks=size.ticks(ticks))


def run(environment: dict[str, Any], organisations: dict[str, Any] | None = None, ticks: int | None = None,
        size: Size | None = None, description: str = "") -> Comparison:
    """Run every organisation (by default the two presets) on the same seeds; a world with scheduled shocks
    runs 500 days by default, any other 400."""
    ticks = ticks or (500 if environment.get("shocks") else 400)
    return compare(scenario(environment, organisations, ticks, size, description))


def levers(*designs: OrgDesign, names: tuple[str, ...] = tuple(NAMES.values())) -> pd.DataFrame:
    """The levers in which the designs (default: the two presets) differ, one column per design
    (cadences in working days)."""
    designs = designs or (SILOED, RESPONSIVE)

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
    s = s.assign(cell=[f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in zip(s.estimate, s.ci_low, s.ci_high,
                                                                           strict=True)])
    table = s.pivot(index="measure", columns="organisation", values="cell")
    table = table.loc[[m for m in measures if m in table.index], result.organisations]
    return table.rename(index=measures, columns=NAMES)


def comparison(result: Comparison, title: str, window: int = 20) -> Figure:
    """``orgsim.plotting.plot_comparison`` of a result with a title that states what it shows."""
    from orgsim.plotting import plot_comparison

    fig = plot_comparison(result, window=window)
    seeds = result.runs.seed.nunique()
    fig.suptitle(f"{title}\n(mean of {seeds} runs, {window}-day moving average, band = 95 % CI)", fontsize=15)
    return said(fig)


def stable_figure(result: Comparison) -> Figure:
    """The stable market's comparison figure, titled with who delivers more."""
    return comparison(result, who_wins(per_seed(result), "Stable market"))


def shock_windows(result: Comparison) -> list[tuple[str, int, int]]:
    """(layer, first day, end day) of each scheduled shock's window: to the next shock or the end of the run."""
    sc = result.scenario
    return [(s.layer, s.tick, recovery.window_end(sc, i)) for i, s in enumerate(sc.environment.shocks)]


def after_shocks(result: Comparison, a: str = "siloed", b: str = "responsive") -> Figure:
    """The comparison figure titled with who delivers more between each shock and the next (or the end)."""
    lines = [who_wins(per_seed_window(result, start, end), f"Days {start}-{end} (after the {layer} shock)", a, b)
             for layer, start, end in shock_windows(result)]
    return comparison(result, "\n".join(lines))


# --- recovery against the no-shock twin ------------------------------------------------------------------
def recovery_table(result: Comparison | pd.DataFrame, measure: str = "value_delivered", key: str = "shock",
                   late: str = "not recovered in time") -> pd.DataFrame:
    """Per shocked layer and organisation, recovery of ``measure`` against the no-shock twin (``orgsim.recovery``
    records, or a Comparison's): shocks not hit / recovered / ``late`` (censored at the window's end), the
    Kaplan-Meier median days to recover [95 % CI], the deepest loss per day and the loss summed over the window,
    mean [95 % CI]."""
    records = result.recovery if isinstance(result, Comparison) else result
    summary = recovery.summarise(records[records.measure == measure], by=("organisation",))
    rows = []
    for r in summary.itertuples(index=False):
        med = recovery.Median(r.median, r.ci_low, r.ci_high, r.recovered, r.censored)
        rows.append({key: r.layer, "organisation": NAMES.get(r.organisation, r.organisation),
                     "not hit": r.not_hit, "recovered": r.recovered, late: r.censored,
                     "median days to recover [95 % CI]": med.text(r.longest),
                     "deepest loss per day": f"{r.depth:.1f} [{r.depth_ci_low:.1f}, {r.depth_ci_high:.1f}]",
                     "loss summed over the window": f"{r.area:.0f} [{r.area_ci_low:.0f}, {r.area_ci_high:.0f}]"})
    return pd.DataFrame(rows).set_index([key, "organisation"])


def recovery_sentences(result: Comparison, measure: str = "value_delivered") -> str:
    """One line per shock: which organisation lost less against its twin, and who recovered sooner."""
    records = result.recovery[result.recovery.measure == measure]
    lines = []
    for layer, sel in records.groupby("layer", sort=False):
        area = sel.groupby("organisation").area.mean()
        med = {org: recovery.km_median(g[g.outcome != recovery.NOT_HIT].time, g[g.outcome != recovery.NOT_HIT].censored)
               for org, g in sel.groupby("organisation")}
        less = area.idxmin()
        text = (f"{layer} shock: the {NAMES.get(less, less)} organisation lost less value against its no-shock twin "
                f"({area[less]:.0f} vs {area.max():.0f} over the window, mean of {sel.seed.nunique()} runs)")
        timed = {org: m.median for org, m in med.items() if m.events + m.censored > 0}
        if len(timed) == len(area) and len(set(timed.values())) > 1:
            first = min(timed, key=timed.get)
            days = ", ".join(f"{NAMES.get(o, o)} {'not reached' if not np.isfinite(d) else f'{d:.0f}'}"
                             for o, d in timed.items())
            text += f"; the {NAMES.get(first, first)} recovered sooner (median days: {days})"
        lines.append(text)
    return "\n".join(lines)


# --- the crossover, over turbulence at several loads -------------------------------------------------------
def over_turbulence(organisations: dict[str, Any] | None = None, size: Size | None = None,
                    regime: str = "complex") -> pd.DataFrame:
    """Value per day of each organisation and seed at each turbulence level and load of ``size`` (long table)."""
    size = size or Size()
    frames = []
    for load in size.loads:
        for level in size.levels:
            runs = run({"regime": regime, "turbulence": level, "load": load}, organisations, size=size).runs
            frames.append(runs[["organisation", "seed", "mean_value_delivered"]].assign(turbulence=level, load=load))
    return pd.concat(frames, ignore_index=True)


def curve_of(values: pd.DataFrame, a: str = "siloed", b: str = "responsive") -> pd.DataFrame:
    """Mean and 95 % CI per load (if given) and turbulence level of ``a``, ``b`` and the paired difference b - a."""
    values = values if "load" in values else values.assign(load=np.nan)
    rows = []
    for (load, level), sel in values.groupby(["load", "turbulence"], dropna=False):
        wide = sel.pivot(index="seed", columns="organisation", values="mean_value_delivered")
        for name, series in ((a, wide[a]), (b, wide[b]), ("difference", wide[b] - wide[a])):
            m, lo, hi, _ = mean_ci(series)
            rows.append({"load": load, "turbulence": level, "organisation": name, "mean": m, "low": lo, "high": hi})
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
    """Where the curve's difference changes sign, in words (one line per load if the curve has several)."""
    if "load" in curve and curve.load.nunique() > 1:
        return "\n".join(f"load {load}: " + crossover_sentence(sel.drop(columns="load"), a, b)
                         for load, sel in curve.groupby("load"))
    x = crossing(curve)
    diff = curve[curve.organisation == "difference"]["mean"]
    if x is not None:
        return f"The {a} wins below turbulence {x:.2f}; the {b} wins above"
    return f"The {b if (diff > 0).all() else a} wins at every turbulence level tested"


def crossover_figure(curve: pd.DataFrame) -> Figure:
    """The paired difference (responsive minus machine) in value per day over turbulence, one line per load."""
    fig, ax = plt.subplots(figsize=(12, 7), constrained_layout=True)
    d = curve[curve.organisation == "difference"]
    ax.axhline(0, color="black", lw=1)
    for (load, sel), style in zip(d.groupby("load", dropna=False), ["o-", "s--", "^:", "D-."], strict=False):
        label = "responsive minus machine" if pd.isna(load) else f"load {load} (work asked / capacity)"
        (line,) = ax.plot(sel.turbulence, sel["mean"], style, lw=3, ms=9, label=label)
        ax.fill_between(sel.turbulence, sel.low, sel.high, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_ylabel("Value per day: responsive minus machine\n(above 0: the responsive one delivers more)")
    ax.set_xlabel("Turbulence (0 = nothing changes, 1 = chaotic)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    seeds = int(curve.attrs.get("seeds", 0))
    ax.set_title(crossover_sentence(curve) + (f"\n(band: 95 % CI of the paired difference, {seeds} runs per point)"
                                              if seeds else ""))
    return said(fig)


def crossover(size: Size | None = None) -> tuple[pd.DataFrame, Figure]:
    """The crossover of the two presets over turbulence at the loads of ``size``: the curve and its figure."""
    size = size or Size()
    values = over_turbulence(size=size)
    curve = curve_of(values)
    curve.attrs["seeds"] = size.seeds
    return curve, crossover_figure(curve)


# --- why: the gap attributed to lever groups ----------------------------------------------------------------
#: What each lever group of orgsim.attribution means to a room.
GROUP_WORDS = {
    "management": "how often management re-plans and how fast it senses",
    "structure": "departments versus teams that form around the work",
    "hand-offs": "hand-offs between steps",
    "constraints": "where compliance is checked",
    "exploration": "time spent exploring new skills",
    "learning": "how people learn and forget",
}


def attribute(environment: dict[str, Any], size: Size | None = None,
              workers: int | None = None) -> attribution.Attribution:
    """Responsive minus machine in value per day in ``environment``, attributed to lever groups (Shapley
    values over every hybrid of the two presets, paired seeds; ``orgsim.attribution.explain``), on
    ``workers`` processes (default 2; in quick mode 1, in this process: starting a pool costs more there)."""
    workers = workers or (1 if quick() else 2)
    ticks = 500 if environment.get("shocks") else 400
    return attribution.explain(scenario(environment, None, ticks, size), "siloed", "responsive",
                               workers=workers, progress=False)


def attribution_sentence(result: attribution.Attribution) -> str:
    """The biggest contributions to the gap, in plain words, and whether their intervals exclude 0."""
    groups = result.table.iloc[:-2].assign(size=lambda t: t.contribution.abs()).sort_values("size", ascending=False)
    total = result.table.iloc[-2]
    lines = [f"Responsive minus machine: {total.contribution:+.1f} value per day "
             f"(95 % CI {total.ci_low:+.1f} to {total.ci_high:+.1f})."]
    for row in groups.itertuples(index=False):
        if row.contribution == 0:
            continue
        firm = "firm" if row.ci_low > 0 or row.ci_high < 0 else "not firm: its CI includes 0"
        lines.append(f"  {row.contribution:+.1f} from {GROUP_WORDS.get(row.group, row.group)} ({firm})")
    return "\n".join(lines)


def waterfall(result: attribution.Attribution) -> Figure:
    """The attribution as a waterfall from the machine's value per day to the responsive one's."""
    return attribution.plot_waterfall(result)


# --- exercises ----------------------------------------------------------------------------------------------
def fast_machine(size: Size | None = None) -> str:
    """01, exercise 1: the two presets and the machine with a better dashboard, after each shock."""
    result = run(SHOCKED, {**PRESETS, "fast_machine": FAST_MACHINE}, size=size)
    lines = []
    for layer, start, end in shock_windows(result):
        wide = per_seed_window(result, start, end)
        lines.append(f"After the {layer} shock, value per day: " + ", ".join(
            f"{org} {v:.1f}" for org, v in wide.mean().items()))
        lines.append("  " + who_wins(wide, "fast machine vs responsive", "fast_machine", "responsive"))
    return "\n".join(lines)


def best_coupling(levels: tuple[float, ...] = (0.15, 0.8), couplings: tuple[float, ...] = (0.0, 0.5, 1.0),
                  size: Size | None = None) -> str:
    """01, exercise 2: which coupling (0 = responsive, 1 = machine) delivers most at each turbulence level."""
    hybrids = {f"coupling_{round(100 * c)}": {"coupling": c} for c in couplings}
    lines = []
    for level in levels:
        value = per_seed(run({"regime": "complex", "turbulence": level}, hybrids, size=size)).mean()
        lines.append(f"turbulence {level}: most value at {value.idxmax()}; " + ", ".join(
            f"{k} {v:.1f}" for k, v in value.items()))
    return "\n".join(lines)


def costly_teams(curve: pd.DataFrame, size: Size | None = None, factor: float = 3.0) -> str:
    """01, exercise 3: the crossover with the responsive preset's coordination and re-planning costs x ``factor``."""
    costly = {"siloed": {"preset": "siloed"},
              "costly": {"preset": "responsive", "coordination_cost": factor * RESPONSIVE.coordination_cost,
                         "planning_cost": factor * RESPONSIVE.planning_cost}}
    costly_curve = curve_of(over_turbulence(costly, size), "siloed", "costly")
    return ("Default costs:\n" + crossover_sentence(curve) + f"\nCosts of teams x {factor:g}:\n"
            + crossover_sentence(costly_curve, b="costly responsive organisation"))
