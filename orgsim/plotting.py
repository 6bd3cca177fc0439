"""Figures: readable at a glance, on a projector (large fonts, units on every axis, shocks marked)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from orgsim import atomic  # noqa: E402
from orgsim.experiment import Comparison  # noqa: E402

DPI = 110  # of saved comparison figures
COLOURS = {"siloed": "#1f4e79", "responsive": "#d9730d"}
_CYCLE = ["#2a9d8f", "#8e44ad", "#c0392b", "#7f8c8d"]
LAYER_STYLE = {"needs": "-", "technology": "--", "rules": ":", "volume": "-."}
PANELS = {
    "value_delivered": "Value delivered\n(value units per tick)",
    "alignment": "Alignment\n(0 = none, 1 = perfect)",
}


F = TypeVar("F", bound=Callable)


def projector(font: int = 14) -> Callable[[F], F]:
    """Decorator: the figure is drawn in type of ``font`` points (ticks and legend 2 smaller), legible on a
    projector, without changing matplotlib's global style for whatever is drawn next."""
    style = {"font.size": font, "axes.titlesize": font + 1, "axes.labelsize": font, "legend.fontsize": font - 2,
             "xtick.labelsize": font - 2, "ytick.labelsize": font - 2}

    def decorate(draw: F) -> F:
        @functools.wraps(draw)
        def drawn(*args, **kwargs):
            with plt.rc_context(style):
                return draw(*args, **kwargs)

        return drawn  # type: ignore[return-value]

    return decorate


def colour(organisation: str, index: int = 0) -> str:
    """The colour used for an organisation in every orgsim figure."""
    return COLOURS.get(organisation, _CYCLE[index % len(_CYCLE)])


@projector(14)
def plot_comparison(comparison: Comparison, path: str | Path | None = None, window: int = 10) -> Figure:
    """Throughput and alignment over time: mean over seeds (line) and 95 % CI (band), shocks marked."""
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(13, 8.5), sharex=True, constrained_layout=True)
    scheduled = comparison.scenario.environment.shocks
    for ax, (measure, label) in zip(axes, PANELS.items(), strict=True):
        band = comparison.band(measure, window)
        for i, org in enumerate(comparison.organisations):
            sel = band[band.organisation == org]
            ax.fill_between(sel.tick, sel.ci_low, sel.ci_high, color=colour(org, i), alpha=0.2, lw=0)
            ax.plot(sel.tick, sel["mean"], color=colour(org, i), lw=2.5, label=org)
        for shock in scheduled:
            ax.axvline(shock.tick, color="black", ls=LAYER_STYLE[shock.layer], lw=1.5)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for shock in scheduled:
        axes[0].annotate(f"{shock.layer} shock", (shock.tick, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(4, -4), textcoords="offset points", va="top", fontsize=12)
    # Random shocks differ between seeds (but not between organisations): a tick mark for each, once.
    shocks = comparison.shocks
    random = shocks[~shocks.scheduled.astype(bool)].drop_duplicates(["seed", "tick", "layer"])
    if len(random):
        for ax in axes:
            ax.plot(random.tick, [0.0] * len(random), "|", color="black", ms=14, alpha=0.5,
                    transform=ax.get_xaxis_transform(), label="random shock (any seed)" if ax is axes[0] else None)
    axes[0].legend(loc="lower left", frameon=True)
    axes[-1].set_xlabel("tick (working days)")
    n = comparison.runs.seed.nunique()
    desc = comparison.scenario.description or "orgsim comparison"
    fig.suptitle(f"{desc}\nmean of {n} seeds, {window}-tick moving average, band = 95 % CI", fontsize=15)
    if path is not None:
        atomic.save_figure(fig, path, dpi=DPI)
        plt.close(fig)
    return fig


def close_figure(fig: Figure) -> None:
    """Free a figure drawn without a path."""
    plt.close(fig)
