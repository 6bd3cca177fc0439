"""Helpers for the pace-layers notebook (03): one shock per layer, how fast each design re-aligns,
and what a structure cadence is worth when moving people costs something.

Each function is what one notebook cell shows to a room; ``orgsim.workshop`` holds the shared ones.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from orgsim.design import RESPONSIVE, SILOED, OrgDesign
from orgsim.environment import DemandEnvironment, EnvironmentConfig
from orgsim.experiment import Comparison
from orgsim.metrics import adaptation, mean_ci, moving_average
from orgsim.plotting import colour
from orgsim.workshop import NAMES, run

LAYERS = ("needs", "technology", "rules")
PACES = ("fast", "slower", "slowest")
SHOCK_DAY, TICKS, MAGNITUDE = 100, 400, 0.8
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


def layer_shock(layer: str, organisations: dict[str, Any] | None = None, magnitude: float = MAGNITUDE,
                seeds: int = 4) -> Comparison:
    """Both designs (or ``organisations``) in a stable world hit by one shock of ``layer`` on SHOCK_DAY."""
    env = {"regime": "clear", "shocks": [{"tick": SHOCK_DAY, "layer": layer, "magnitude": magnitude}]}
    return run(env, organisations, TICKS, seeds)


def realignment(result: Comparison, layer: str, measure: str | None = None) -> pd.DataFrame:
    """Per organisation and seed: days until the layer's alignment is back (``metrics.adaptation``),
    whether it never came back (censored), and value lost."""
    measure = measure or f"alignment_{layer}"
    rows = []
    for (org, seed), one in result.timeseries.groupby(["organisation", "seed"]):
        (align,) = adaptation(one[measure].to_numpy(), [SHOCK_DAY])
        (value,) = adaptation(one["value_delivered"].to_numpy(), [SHOCK_DAY])
        rows.append({"layer": layer, "organisation": org, "seed": seed, "days": align["recovery_ticks"],
                     "censored": align["censored"], "value_lost": value["loss"]})
    return pd.DataFrame(rows)


def every_layer(seeds: int = 4) -> tuple[dict[str, Comparison], pd.DataFrame]:
    """One shocked run per layer, and the re-alignment of each (one row per layer, organisation, seed)."""
    results = {layer: layer_shock(layer, seeds=seeds) for layer in LAYERS}
    speed = pd.concat([realignment(results[layer], layer) for layer in LAYERS], ignore_index=True)
    return results, speed


def days_text(speed: pd.DataFrame, layer: str, org: str) -> str:
    """Median days to re-align, or "> N" when most runs had not re-aligned by the end."""
    sel = speed[(speed.layer == layer) & (speed.organisation == org)]
    if sel.censored.sum() > len(sel) / 2:
        return f"> {TICKS - SHOCK_DAY}"
    return f"{sel.days.median():.0f}"


def realignment_figure(results: dict[str, Comparison], speed: pd.DataFrame) -> Figure:
    """Alignment of the shocked layer and value delivered over time, a column per layer; dotted lines
    on the machine's structure re-plans."""
    fig, axes = plt.subplots(2, 3, figsize=(17, 9), sharex=True, constrained_layout=True)
    for col, layer in enumerate(LAYERS):
        ts = results[layer].timeseries
        for i, org in enumerate(["siloed", "responsive"]):
            for row, measure in enumerate([f"alignment_{layer}", "value_delivered"]):
                wide = ts[ts.organisation == org].pivot(index="tick", columns="seed", values=measure)
                smooth = np.mean([moving_average(wide[s].to_numpy(), 10) for s in wide], axis=0)
                axes[row, col].plot(wide.index, smooth, lw=3, color=colour(org, i), label=NAMES[org])
        for ax in axes[:, col]:
            ax.axvline(SHOCK_DAY, color="black", lw=2)
            every = SILOED.cadence.structure
            for t in range(every * (SHOCK_DAY // every + 1), TICKS, every):
                ax.axvline(t, color=colour("siloed"), lw=1, ls=":")
            ax.grid(alpha=0.3)
        axes[0, col].set_title(f"{layer} shock: re-aligned in\n{days_text(speed, layer, 'siloed')} days (machine), "
                               f"{days_text(speed, layer, 'responsive')} (responsive)")
        axes[1, col].set_xlabel("day")
    axes[0, 0].set_ylabel("Alignment of the\nshocked layer (0-1)")
    axes[1, 0].set_ylabel("Value delivered\n(value units per day)")
    axes[0, 0].legend(loc="lower right")
    seeds = speed.seed.nunique()
    fig.suptitle(f"One shock per pace layer on day {SHOCK_DAY}; dotted lines: the machine's structure re-plans\n"
                 f"(mean of {seeds} runs, 10-day moving average)")
    return fig


def realignment_bars(speed: pd.DataFrame) -> tuple[Figure, pd.DataFrame]:
    """Mean days to re-align each layer with 95 % CIs, per design, and the table behind the bars."""
    rows = []
    for (layer, org), sel in speed.groupby(["layer", "organisation"], sort=False):
        m, lo, hi, _ = mean_ci(sel.days)
        rows.append({"layer": layer, "organisation": org, "mean": m, "low": lo, "high": hi,
                     "censored": int(sel.censored.sum())})
    summary = pd.DataFrame(rows)
    seeds = speed.seed.nunique()
    fig, ax = plt.subplots(figsize=(12, 6.5), constrained_layout=True)
    x = np.arange(len(LAYERS))
    for i, org in enumerate(["siloed", "responsive"]):
        s = summary[summary.organisation == org].set_index("layer").loc[list(LAYERS)]
        bars = ax.bar(x + (i - 0.5) * 0.38, s["mean"], 0.38, color=colour(org, i), label=NAMES[org],
                      yerr=[s["mean"] - s.low, s.high - s["mean"]], capsize=6)
        for bar, stuck in zip(bars, s.censored, strict=True):
            if stuck:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() / 2,
                        f"{stuck} of {seeds}\nnot re-aligned\nby day {TICKS}", ha="center", color="white", fontsize=13)
    ax.set_xticks(x, [f"{layer}\n(pace: {pace})" for layer, pace in zip(LAYERS, PACES, strict=True)])
    ax.set_ylabel("Days to re-align the layer\n(mean, 95 % CI)")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    mean = summary.set_index(["layer", "organisation"])["mean"]
    slower = [layer for layer in LAYERS if mean[layer, "siloed"] > mean[layer, "responsive"]]
    if len(slower) == len(LAYERS):
        title = "The machine re-aligns more slowly on every layer"
    elif slower:
        title = f"The machine re-aligns more slowly on {', '.join(slower)} only"
    else:
        title = "The machine re-aligns as fast as the responsive organisation or faster on every layer"
    title += "\n(median days, machine vs responsive: " + "; ".join(
        f"{layer} {days_text(speed, layer, 'siloed')} vs {days_text(speed, layer, 'responsive')}"
        for layer in LAYERS) + ")"
    ax.set_title(title)
    return fig, summary


def structure_cadence(cadences: tuple[int, ...] = (5, 21, 63, 250), costs: tuple[int, ...] = (5, 60),
                      turbulence: float = 0.6, seeds: int = 4) -> tuple[Figure, pd.DataFrame]:
    """The machine (silo'd preset) with its structure re-planned every ``cadences`` days, at each
    ``restructure_cost`` (days before a moved person is productive, for a full skill gap), in a world
    of ``turbulence``: value per day and moves, with the best cadence per cost in the title."""
    orgs = {f"every_{c}_cost_{k}": {"preset": "siloed", "cadence": {"structure": c}, "restructure_cost": k}
            for c in cadences for k in costs}
    runs = run({"regime": "complex", "turbulence": turbulence}, orgs, TICKS, seeds).runs
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
    ax.set_title("The machine's best structure cadence: " + ", ".join(f"{best[k]} days at cost {k}" for k in costs)
                 + f"\n({trend}; turbulence {turbulence}, mean of {seeds} runs)")
    return fig, grid
