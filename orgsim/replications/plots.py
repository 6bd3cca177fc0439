"""Figures of the March (1991) replication, drawn like the paper's: one line per curve, 95 % CI bands."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from orgsim import atomic  # noqa: E402

_STYLE = {"font.size": 14, "axes.titlesize": 15, "axes.labelsize": 15, "legend.fontsize": 13}

# figure key -> x column, curve column (or None), x label, curve label, title stating the finding
_LAYOUT: dict[str, tuple[str, str | None, str, str, str]] = {
    "1": ("p1", "p2", "Socialisation rate p1", "code learning p2",
          "Fig. 1: slower socialisation ends with more knowledge"),
    "2": ("n_fast", None, "Number of fast learners (p1 = 0.9) of 50", "",
          "Fig. 2: a mix of slow and fast learners beats all-fast"),
    "4": ("p3", "p1", "Turnover rate p3", "socialisation p1",
          "Fig. 4: with fast socialisation, turnover raises knowledge"),
    "5": ("period", "p3", "Period", "turnover p3",
          "Fig. 5: under turbulence, knowledge holds only with turnover"),
}

_YLABEL = {"1": "Equilibrium code knowledge", "2": "Equilibrium code knowledge",
           "4": "Code knowledge in period 20", "5": "Code knowledge"}


def plot_figure(key: str, table: pd.DataFrame, path: Path) -> Path:
    """Draw figure ``key`` ("1", "2", "4" or "5") from its table and save it as a PNG at ``path``."""
    x, curve, xlabel, curve_label, title = _LAYOUT[key]
    groups = table.groupby(curve) if curve else [(None, table)]
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(9, 6.5))
        for value, rows in groups:
            rows = rows.sort_values(x)
            label = f"{curve_label} = {value:g}" if curve else None
            (line,) = ax.plot(rows[x], rows["knowledge_mean"], marker="o" if len(rows) < 30 else None,
                              linewidth=2, label=label)
            ax.fill_between(rows[x], rows["knowledge_ci_low"], rows["knowledge_ci_high"],
                            color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(_YLABEL[key])
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if curve:
            ax.legend()
        reps = int(table["reps"].min())
        fig.text(0.99, 0.01, f"m = 30, n = 50, {reps} replications per point, 95 % CI",
                 ha="right", va="bottom", fontsize=10, color="0.4")
        fig.tight_layout()
        atomic.save_figure(fig, path, dpi=120)
        plt.close(fig)
    return path
