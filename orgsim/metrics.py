"""What orgsim measures: per-tick measures, a run's summary, and adaptation speed after shocks.

Definitions (the README's "What the measures mean" explains them for a newcomer):

* ``overlap(a, b)``: histogram intersection of two distributions, in [0, 1]; 1 when effort sits
  exactly where demand needs it.
* adaptation speed: after each shock, the ticks until the smoothed measure is back within ``tol`` of
  its pre-shock level and holds there (censored at the next shock or the end of the run, and flagged
  so), with the area of loss in ticks of pre-shock output.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Per-tick measures, in recording order, with their meaning. The model records exactly these.
MEASURES: dict[str, str] = {
    "arrived": "demands arrived this tick, follow-ups included (count)",
    "arrived_failure": "follow-ups of failed customers that arrived this tick: failure demand (count)",
    "refused": "demands turned away at intake: type not served, or WIP at its limit (count)",
    "completed": "demands delivered this tick, follow-ups included (count)",
    "expired": "demands that passed their deadline undelivered this tick (count)",
    "chased": "demands whose customer chased them this tick, not delivered by the promise (count)",
    "wip": "demands in the organisation at the end of the tick (count)",
    "queued": "demands in the organisation that got no work this tick (count)",
    "value_delivered": "value of demands delivered this tick, after cost of delay (value units)",
    "value_lost_delay": "value lost to waiting by demands delivered this tick (value units)",
    "value_lost_expiry": "value of demands that expired this tick (value units)",
    "value_lost_refused": "value of demands refused this tick (value units)",
    "lead_time": "mean ticks from arrival to delivery of customer demands delivered this tick (NaN if none)",
    "alignment": "mean of the three layer alignments below, in [0, 1]",
    "alignment_needs": "share of today's demand (by mix) whose type strategy serves, in [0, 1]",
    "alignment_technology": "overlap of capacity by capability with the work today's demand needs, in [0, 1]",
    "alignment_rules": "share of today's demand whose compliance work the organisation believes right, in [0, 1]",
    "failure_demand": "share of this tick's arriving demand that is failure demand (Seddon), in [0, 1]",
    "internal_rework": "share of this tick's work that is rework or waste the organisation made, in [0, 1]",
    "rework_created": "work units of rework the organisation created for itself this tick",
    "hidden_found": "work units of hidden work teams found while working this tick",
    "work_done": "work units of progress on demands this tick",
    "probes": "demands probed before being planned this tick (count)",
    "utilisation": "share of members' capacity spent producing (not exploring, not onboarding, not idle)",
    "coordination_overhead": "share of capacity lost to communication in teams",
    "planning_overhead": "share of capacity spent in re-planning meetings this tick",
    "onboarding_loss": "share of members not yet productive after a move",
    "value_per_capacity": "value delivered per unit of capacity (the organisation's view)",
    "proficiency": "mean skill of members in the capabilities they worked on, in [0, 1]",
    "skill_breadth": "mean over members of total / top proficiency: capabilities held at full depth, [1, K]",
    "overload": "mean share of capacity members are busy above a sustainable 85 %",
    "cost_capacity": "wages of capacity producing, scouting or idle this tick (value units; wage x capacity)",
    "cost_coordination": "wages of capacity lost to communication in teams this tick (value units)",
    "cost_replanning": "wages of capacity spent in re-planning meetings this tick (value units)",
    "cost_restructuring": "wages of members not yet productive after a move this tick (value units)",
    "teams": "teams working on a demand at the end of assembly (count)",
    "team_size": "mean headcount of those teams (members; 0 if none)",
    "team_churn": "share of members who joined or left a team this tick",
    "moves": "members moved to another department this tick (count)",
    "shocks": "shocks that hit the environment this tick (count)",
}
COUNTS = frozenset({"arrived", "arrived_failure", "refused", "completed", "expired", "chased", "wip", "queued",
                    "probes", "teams", "moves", "shocks"})
SUSTAINABLE_UTILISATION = 0.85


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram intersection of two non-negative vectors after normalising each; in [0, 1]."""
    sa, sb = float(np.sum(a)), float(np.sum(b))
    if sa <= 0.0 or sb <= 0.0:
        return 1.0 if sa <= 0.0 and sb <= 0.0 else 0.0
    return float(np.minimum(np.asarray(a) / sa, np.asarray(b) / sb).sum())


def rules_alignment(mix: np.ndarray, believed: np.ndarray, true: np.ndarray) -> float:
    """Share of demand (by mix) whose believed compliance work matches the true one (min/max ratio)."""
    hi = np.maximum(believed, true)
    ratio = np.where(hi > 0, np.minimum(believed, true) / np.where(hi > 0, hi, 1.0), 1.0)
    return float(mix @ ratio)


class MeasureLog:
    """Per-tick measures in pre-allocated arrays; grows by doubling."""

    def __init__(self, capacity: int = 512) -> None:
        self._data = {name: np.zeros(capacity) for name in MEASURES}
        self.n = 0

    def record(self, row: dict[str, float]) -> None:
        if self.n == len(self._data["arrived"]):
            self._data = {k: np.concatenate([v, np.zeros(len(v))]) for k, v in self._data.items()}
        for name, value in row.items():
            self._data[name][self.n] = value
        self.n += 1

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame({
            k: v[: self.n].astype(np.int64) if k in COUNTS else v[: self.n].copy()
            for k, v in self._data.items()
        })
        df.index.name = "tick"
        return df


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average; the first ``window - 1`` values average what exists so far. Values that
    are not finite (a lead time when nothing was delivered) are left out; NaN where a window has none."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    c = np.cumsum(np.insert(np.where(finite, x, 0.0), 0, 0.0))
    k = np.cumsum(np.insert(finite, 0, False))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    count = k[idx] - k[lo]
    return np.divide(c[idx] - c[lo], count, out=np.full(len(x), np.nan), where=count > 0)


def adaptation(
    series: np.ndarray,
    shock_ticks: Sequence[int],
    window: int = 30,
    baseline: int = 30,
    tol: float = 0.1,
    hold: int = 30,
) -> list[dict[str, float]]:
    """Recovery after each shock in ``shock_ticks`` of one per-tick series.

    The series is smoothed with a trailing ``window``-tick mean; the pre-shock level is the mean of
    the smoothed series over the ``baseline`` ticks before the shock. Returns one dict per shock:

    * ``recovery_ticks``: ticks from the shock until the smoothed series is at least ``1 - tol`` of
      the pre-shock level and stays there for ``hold`` ticks in a row (0 if it never fell below);
    * ``censored``: True if that did not happen before the next shock or the end of the run
      (``recovery_ticks`` is then the ticks observed);
    * ``loss``: area between the pre-shock level and the smoothed series until recovery, in ticks
      of pre-shock output.

    Results come in the order of ``shock_ticks``. A shock with no history before it, or a zero
    pre-shock level, gives NaN.
    """
    x = np.nan_to_num(np.asarray(series, dtype=float))
    smooth = moving_average(x, window)
    ticks = [int(t) for t in shock_ticks]
    later = sorted(ticks)
    out = []
    for s in ticks:
        # Shocks at the same tick share one window, which ends at the first later shock.
        after = bisect.bisect_right(later, s)
        end = later[after] if after < len(later) else len(x)
        pre = float(smooth[max(0, s - baseline) : s].mean()) if s > 0 else float("nan")
        if not np.isfinite(pre) or pre <= 0.0 or end <= s:
            out.append({"tick": s, "recovery_ticks": np.nan, "censored": False, "loss": np.nan})
            continue
        ok = smooth[s:end] >= (1.0 - tol) * pre
        # run[j] = length of the run of ok ticks starting at j (counted from the end).
        run = np.zeros(len(ok) + 1, dtype=np.int64)
        for j in range(len(ok) - 1, -1, -1):
            run[j] = run[j + 1] + 1 if ok[j] else 0
        held = np.flatnonzero(run[:-1] >= min(hold, len(ok)))
        rec = int(held[0]) if len(held) else len(ok)
        censored = len(held) == 0
        loss = float(np.clip(pre - smooth[s : s + rec], 0.0, None).sum() / pre)
        out.append({"tick": s, "recovery_ticks": float(rec), "censored": censored, "loss": loss})
    return out


def t_half_width(sd: np.ndarray | float, n: np.ndarray | float, level: float = 0.95) -> np.ndarray:
    """Half-width of the two-sided ``level`` t-interval of a mean, t(n - 1) x sd / sqrt(n), elementwise:
    0 where n = 1 (no spread to estimate), NaN where n = 0."""
    sd, n = np.asarray(sd, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n > 1, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n), 0.0)
    return np.where(n > 0, half, np.nan)


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and two-sided t-interval of the finite values: (mean, low, high, n)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    m = float(v.mean())
    half = float(t_half_width(v.std(ddof=1) if n > 1 else 0.0, n, level))
    return m, m - half, m + half, n


def adaptation_table(
    df: pd.DataFrame, shock_log: Sequence[tuple], measures: Sequence[str] = ("value_delivered", "alignment")
) -> pd.DataFrame:
    """One row per shock and measure: tick, layer, recovery_ticks, censored, loss."""
    ticks = [s[0] for s in shock_log]
    rows = []
    for measure in measures:
        for shock, rec in zip(shock_log, adaptation(df[measure].to_numpy(), ticks), strict=True):
            rows.append({"measure": measure, "layer": shock[1], "magnitude": shock[2], **rec})
    return pd.DataFrame(
        rows, columns=["measure", "layer", "magnitude", "tick", "recovery_ticks", "censored", "loss"]
    )


def summarise(df: pd.DataFrame, shock_log: Sequence[tuple], warmup: int = 50) -> dict[str, float]:
    """A run's summary: mean of every per-tick measure after ``warmup`` ticks, and adaptation.

    ``mean_lead_time`` is the mean over the demands delivered (each tick's mean weighted by its
    ``completed``), not over ticks.

    Adaptation keys are ``recovery_<measure>_<layer>`` (mean ticks over that layer's shocks, NaN if
    none), ``loss_<measure>_<layer>`` and ``censored_<layer>`` (shocks not recovered from).
    """
    steady = df.iloc[min(warmup, max(len(df) - 1, 0)) :]
    out: dict[str, float] = {f"mean_{name}": float(steady[name].mean()) for name in MEASURES}
    delivered = steady["completed"].to_numpy()
    if delivered.sum() > 0:
        out["mean_lead_time"] = float(np.nansum(steady["lead_time"].to_numpy() * delivered) / delivered.sum())
    out["total_value_delivered"] = float(df["value_delivered"].sum())
    adapt = adaptation_table(df, shock_log)
    for measure in ("value_delivered", "alignment"):
        for layer in ("needs", "technology", "rules", "volume"):
            sel = adapt[(adapt.measure == measure) & (adapt.layer == layer)]
            out[f"recovery_{measure}_{layer}"] = float(sel.recovery_ticks.mean()) if len(sel) else np.nan
            out[f"loss_{measure}_{layer}"] = float(sel.loss.mean()) if len(sel) else np.nan
            if measure == "value_delivered":
                out[f"censored_{layer}"] = float(sel.censored.sum())
    out["shocks"] = float(len(shock_log))
    return out
