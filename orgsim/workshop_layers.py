"""Helpers for the pace-layers notebook (03): one shock per layer, how fast each design recovers,
and what a structure cadence is worth when moving people costs something.

Recovery is measured as everywhere in orgsim (``orgsim.recovery``): against the no-shock *twin*, the
same organisation and seed in the same world without the shock. With one shock per run, that twin is
the same unshocked run for every layer, so it is run once and each layer's run is compared with it.

Each function is what one notebook cell shows to a room; ``orgsim.workshop`` holds the shared ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from orgsim import recovery
from orgsim.design import RESPONSIVE, SILOED, OrgDesign
from orgsim.environment import DemandEnvironment, EnvironmentConfig
from orgsim.experiment import Comparison, collect, run_one
from orgsim.metrics import moving_average
from orgsim.plotting import colour
from orgsim.scenario import Scenario
from orgsim.workshop import NAMES, PRESETS, Size, recovery_table, run, said, scenario, who_wins

LAYERS = ("needs", "technology", "rules")
PACES = ("fast", "slower", "slowest")
SHOCK_DAY, TICKS, MAGNITUDE = 100, 400, 0.8
STABLE = {"regime": "clear"}
CALENDAR = {1: "daily", 5: "weekly", 10: "fortnightly", 21: "monthly", 63: "quarterly", 250: "yearly"}
DESIGNS = {"siloed": SILOED, "responsive": RESPONSIVE}


def calendar(designs: dict[str, OrgDesign] = DESIGNS) -> pd.DataFrame:
    """Each design's re-planning cadences (working days, and in calendar words), sensing delay and memory."""
    def words(days: int) -> str:
        return f"{days} ({CALENDAR[days]})" if days in CALENDAR else str(days)

    table = pd.DataFrame({NAMES[k]: {layer: words(every) for layer, every in d.cadence.model_dump().items()}
                          for k, d in designs.items()})
    table.loc["sensing delay"] = [str(d.sensing_delay) for d in designs.values()]
    table.loc["memory (days looked back)"] = [str(d.memory) for d in designs.values()]
    table.index.name = "re-plans every ... working days"
    return table


def shock_reach(layer: str, magnitude: float = MAGNITUDE, worlds: int = 20) -> float:
    """What one shock changes in a fresh stable world, mean over ``worlds`` worlds: the share of
    arriving demand of another type (needs), the share of a demand's work that moves to other
    capabilities (technology), or the number of demand types whose regulation flips (rules)."""
    config = EnvironmentConfig(regime="clear")
    changed = []
    for seed in range(worlds):
        env = DemandEnvironment(config, np.random.default_rng(seed))
        mix, templates, regulated = env.mix.copy(), env.templates, env.regulated.copy()
        env.shock(layer, magnitude)
        if layer == "needs":
            changed.append(np.abs(env.mix - mix).sum() / 2)
        elif layer == "technology":  # over the types with work before and after (slots of dead types have none)
            live = (templates.sum(axis=1) > 0) & (env.templates.sum(axis=1) > 0)
            before = templates[live] / templates[live].sum(axis=1, keepdims=True)
            after = env.templates[live] / env.templates[live].sum(axis=1, keepdims=True)
            changed.append(mix[live] @ (np.abs(after - before).sum(axis=1) / 2) / mix[live].sum())
        else:
            changed.append((env.regulated != regulated).sum())
    return float(np.mean(changed))


def reach_table(magnitude: float = MAGNITUDE, worlds: int = 20) -> pd.DataFrame:
    """``shock_reach`` of every layer, as a table a room can read."""
    n_types = EnvironmentConfig().demand_types
    return pd.DataFrame({
        "what changes": ["arriving demands of another type than before (share)",
                         "a demand's work that moves to other capabilities (share, weighted by the mix)",
                         f"demand types whose regulation flips (of {n_types})"],
        f"shock of {magnitude}, mean of {worlds} worlds": [f"{shock_reach('needs', magnitude, worlds):.0%}",
                                                           f"{shock_reach('technology', magnitude, worlds):.0%}",
                                                           f"{shock_reach('rules', magnitude, worlds):.0f}"],
    }, index=pd.Index(LAYERS, name="layer"))


@dataclass(frozen=True)
class LayerRuns:
    """The unshocked twin runs and one run per shocked layer, and the recovery of each shocked run against
    its twin (``records``: one row per layer, organisation, seed and measure, as ``orgsim.recovery``)."""

    twin: Comparison
    shocked: dict[str, Comparison]
    records: pd.DataFrame

    @property
    def shock_day(self) -> int:
        return next(iter(self.shocked.values())).scenario.environment.shocks[0].tick

    @property
    def ticks(self) -> int:
        return self.twin.scenario.run.ticks


def _runs(sc: Scenario) -> Comparison:
    """Every organisation and seed of ``sc``, without twins (the caller pairs them)."""
    return collect(sc, [run_one(sc, org, seed) for seed in sc.seeds for org in sc.organisations])


def layer_recovery(organisations: dict[str, Any] | None = None, size: Size | None = None,
                   layers: tuple[str, ...] = LAYERS, magnitude: float = MAGNITUDE) -> LayerRuns:
    """A stable world hit on SHOCK_DAY by one shock per layer (a run each), every run paired with its
    no-shock twin: recovery of value delivered and of the shocked layer's alignment (``recovery.recovery``
    with ``recovery.RULE``, the definitions of every orgsim table)."""
    twin = _runs(scenario(STABLE, organisations, TICKS, size))
    shocked, rows = {}, []
    for layer in layers:
        env = {**STABLE, "shocks": [{"tick": SHOCK_DAY, "layer": layer, "magnitude": magnitude}]}
        sc = scenario(env, organisations, TICKS, size)
        shocked[layer] = result = _runs(sc)
        tick = sc.environment.shocks[0].tick
        for (org, seed), one in result.timeseries.groupby(["organisation", "seed"], sort=False):
            base = twin.timeseries[(twin.timeseries.organisation == org) & (twin.timeseries.seed == seed)]
            for measure in ("value_delivered", f"alignment_{layer}")[:2 if f"alignment_{layer}" in one else 1]:
                rec = recovery.recovery(one[measure].to_numpy(), base[measure].to_numpy(), tick)
                rows.append({"organisation": org, "seed": seed, "layer": layer, "tick": tick,
                             "measure": measure.removesuffix(f"_{layer}"), **rec})
    return LayerRuns(twin, shocked, pd.DataFrame(rows))


def recovery_summary(runs: LayerRuns, measure: str = "value_delivered") -> pd.DataFrame:
    """Per layer and organisation: ``orgsim.workshop.recovery_table`` of the runs against their twins."""
    return recovery_table(runs.records, measure, key="layer", late="not recovered by the end")


def days_text(runs: LayerRuns, layer: str, org: str, measure: str = "value_delivered") -> str:
    """Kaplan-Meier median days to recover, "not hit" when no run was hit, "> N" when not reached."""
    sel = runs.records[(runs.records.layer == layer) & (runs.records.organisation == org)
                       & (runs.records.measure == measure)]
    hit = sel[sel.outcome != recovery.NOT_HIT]
    if hit.empty:
        return "not hit"
    med = recovery.km_median(hit.time, hit.censored)
    return f"{med.median:.0f}" if med.reached else f"> {hit.time.max():.0f}"


def loss_curves(runs: LayerRuns, layer: str, org: str, measure: str) -> pd.Series:
    """Mean over seeds of the smoothed loss against the twin (twin minus shocked, trailing RULE.window mean)."""
    shocked = runs.shocked[layer].timeseries
    twin = runs.twin.timeseries
    column = measure if measure == "value_delivered" else f"alignment_{layer}"
    a = shocked[shocked.organisation == org].pivot(index="tick", columns="seed", values=column)
    b = twin[twin.organisation == org].pivot(index="tick", columns="seed", values=column)
    loss = np.mean([moving_average((b[s] - a[s]).to_numpy(), recovery.RULE.window) for s in a], axis=0)
    return pd.Series(loss, index=a.index)


def recovery_figure(runs: LayerRuns) -> Figure:
    """Loss of value and of the shocked layer's alignment against the no-shock twin, a column per layer;
    dotted lines on the machine's structure re-plans."""
    fig, axes = plt.subplots(2, len(runs.shocked), figsize=(17, 9), sharex=True, squeeze=False,
                             constrained_layout=True)
    day, orgs = runs.shock_day, list(runs.twin.organisations)
    for col, layer in enumerate(runs.shocked):
        for i, org in enumerate(orgs):
            for row, measure in enumerate(["value_delivered", "alignment"]):
                curve = loss_curves(runs, layer, org, measure)
                axes[row, col].plot(curve.index, curve, lw=3, color=colour(org, i), label=NAMES.get(org, org))
        for ax in axes[:, col]:
            ax.axhline(0, color="black", lw=1)
            ax.axvline(day, color="black", lw=2)
            every = SILOED.cadence.structure
            for t in range(every * (day // every + 1), runs.ticks, every):
                ax.axvline(t, color=colour("siloed"), lw=1, ls=":")
            ax.grid(alpha=0.3)
        axes[0, col].set_title(f"{layer} shock: value back in\n" + ", ".join(
            f"{days_text(runs, layer, org)} ({NAMES.get(org, org).split(' ')[0]})" for org in orgs) + " days")
        axes[1, col].set_xlabel("day")
    axes[0, 0].set_ylabel("Value lost per day\nagainst the twin")
    axes[1, 0].set_ylabel("Alignment lost\nagainst the twin (0-1)")
    axes[0, 0].legend(loc="upper right")
    fig.suptitle(f"One shock per pace layer on day {day}, each run against its no-shock twin; dotted: the "
                 f"machine's structure re-plans\n(mean of {runs.twin.runs.seed.nunique()} runs, "
                 f"{recovery.RULE.window}-day moving average; median days: Kaplan-Meier)")
    return said(fig)


def recovery_bars(runs: LayerRuns, measure: str = "value_delivered") -> Figure:
    """Kaplan-Meier median days to recover per layer and design, 95 % CI; hatched: median not reached."""
    table = recovery.summarise(runs.records[runs.records.measure == measure], by=("organisation",))
    fig, ax = plt.subplots(figsize=(12, 6.5), constrained_layout=True)
    layers = list(runs.shocked)
    x = np.arange(len(layers))
    longest = runs.ticks - runs.shock_day
    for i, org in enumerate(runs.twin.organisations):
        s = table[table.organisation == org].set_index("layer").reindex(layers)
        height = s["median"].where(np.isfinite(s["median"]), longest).fillna(0)
        low = s.ci_low.where(np.isfinite(s.ci_low), longest).fillna(0)
        high = s.ci_high.where(np.isfinite(s.ci_high), longest).fillna(0)
        bars = ax.bar(x + (i - 0.5) * 0.38, height, 0.38, color=colour(org, i), label=NAMES.get(org, org),
                      yerr=[(height - low).clip(lower=0), (high - height).clip(lower=0)], capsize=6)
        for bar, r in zip(bars, s.itertuples(), strict=True):
            if not np.isfinite(r.median):
                bar.set_hatch("//")
            note = f"{r.not_hit} not hit\n{r.censored} not back" if r.not_hit or r.censored else ""
            ax.text(bar.get_x() + bar.get_width() / 2, 2, note, ha="center", va="bottom", fontsize=12)
    ax.set_xticks(x, [f"{layer}\n(pace: {pace})" for layer, pace in zip(layers, PACES, strict=False)])
    ax.set_ylabel("Days until value is back\n(Kaplan-Meier median, 95 % CI)")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(recovery_verdict(runs, measure) + f"\n(hatched: median not reached by day {runs.ticks}; "
                 f"{recovery.RULE.describe()})", fontsize=14)
    return said(fig)


def recovery_verdict(runs: LayerRuns, measure: str = "value_delivered") -> str:
    """On which layers each design gets value back sooner (Kaplan-Meier medians), and where neither does."""
    table = recovery.summarise(runs.records[runs.records.measure == measure], by=("organisation",))
    med = table.set_index(["layer", "organisation"])["median"]
    orgs = list(runs.twin.organisations)
    sooner: dict[str, list[str]] = {org: [] for org in orgs}
    neither = []
    for layer in runs.shocked:
        days = {org: med.get((layer, org), np.nan) for org in orgs}
        finite = {org: d for org, d in days.items() if np.isfinite(d)}
        if all(np.isnan(d) for d in days.values()):  # no run was hit
            continue
        if not finite:
            neither.append(layer)
        elif len(set(days.values())) > 1:
            sooner[min(finite, key=finite.get)].append(layer)
    parts = [f"the {NAMES.get(org, org)} on {', '.join(ls)}" for org, ls in sooner.items() if ls]
    late = f"neither back by the end on {', '.join(neither)}" if neither else ""
    if not parts:
        return "Neither design gets value back sooner" + (f": {late}" if late else "")
    return "Value back sooner: " + "; ".join(parts) + (f"; {late}" if late else "")


def structure_cadence(cadences: tuple[int, ...] = (5, 21, 63, 250), costs: tuple[int, ...] = (5, 60),
                      turbulence: float = 0.6, size: Size | None = None) -> tuple[Figure, pd.DataFrame]:
    """The machine (silo'd preset) with its structure re-planned every ``cadences`` days, at each
    ``restructure_cost`` (days before a moved person is productive, for a full skill gap), in a world
    of ``turbulence``: value per day and moves, with the best cadence per cost in the title."""
    orgs = {f"every_{c}_cost_{k}": {"preset": "siloed", "cadence": {"structure": c}, "restructure_cost": k}
            for c in cadences for k in costs}
    runs = run({"regime": "complex", "turbulence": turbulence}, orgs, TICKS, size).runs
    runs["cadence"] = runs.organisation.map({name: o["cadence"]["structure"] for name, o in orgs.items()})
    runs["cost"] = runs.organisation.map({name: o["restructure_cost"] for name, o in orgs.items()})
    grid = runs.groupby(["cost", "cadence"])[["mean_value_delivered", "mean_moves"]].mean()
    fig, ax = plt.subplots(figsize=(12, 6.5), constrained_layout=True)
    best = {}
    for cost, style in zip(costs, ["o-", "s--", "^:"], strict=False):
        g = grid.loc[cost]
        ax.plot(g.index, g.mean_value_delivered, style, lw=3, ms=10, label=f"moving a person costs up to {cost} days")
        best[cost] = int(g.mean_value_delivered.idxmax())
    ax.set_xscale("log")
    ax.set_xticks(list(cadences), [str(c) for c in cadences])
    ax.set_xlabel("Structure re-planned every ... days (log scale)")
    ax.set_ylabel("Value delivered\n(value units per day)")
    ax.grid(alpha=0.3)
    ax.legend()
    trend = ("the dearer a move, the slower the best cadence" if best[costs[-1]] > best[costs[0]]
             else "the cost of a move does not slow the best cadence here")
    seeds = runs.seed.nunique()
    ax.set_title("The machine's best structure cadence: " + ", ".join(f"{best[k]} days at cost {k}" for k in costs)
                 + f"\n({trend}; turbulence {turbulence}, mean of {seeds} runs)")
    return said(fig), grid


# --- exercises ----------------------------------------------------------------------------------------------
def volume_shock(size: Size | None = None) -> pd.DataFrame:
    """03, exercise 1: arrivals double on SHOCK_DAY; value, value refused and failure demand after it,
    and the recovery of value against the twin."""
    runs = layer_recovery(size=size, layers=("volume",), magnitude=1.0)
    ts = runs.shocked["volume"].timeseries
    after = ts[ts.tick >= runs.shock_day]
    per_seed = after.groupby(["organisation", "seed"])[["value_delivered", "value_lost_refused", "arrived_failure"]]
    table = per_seed.mean().groupby("organisation").mean().rename(index=NAMES).round(2)
    wide = after.groupby(["seed", "organisation"]).value_delivered.mean().unstack("organisation")
    print(who_wins(wide, "After the volume doubles"))
    return table.join(recovery_summary(runs).droplevel("layer")[["median days to recover [95 % CI]"]])


def faster_strategy(size: Size | None = None, every: int = 21) -> pd.DataFrame:
    """03, exercise 2: the machine with its strategy re-planned every ``every`` days: days to recover per layer."""
    orgs = {"siloed": PRESETS["siloed"], "quick_strategy": {"preset": "siloed", "cadence": {"strategy": every}}}
    return recovery_summary(layer_recovery(orgs, size))[["not hit", "median days to recover [95 % CI]"]]


def integrated_compliance(size: Size | None = None) -> pd.DataFrame:
    """03, exercise 3: the machine with compliance integrated in its departments, hit by a rules shock."""
    orgs = {"siloed": PRESETS["siloed"], "integrated": {"preset": "siloed", "constraints": "integrated"}}
    return recovery_summary(layer_recovery(orgs, size, layers=("rules",)))
