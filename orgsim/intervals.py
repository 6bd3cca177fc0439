"""Confidence intervals over seeds that never leave their measure's range.

:func:`interval` picks the interval from the range of the measure and says which it used:

* a measure bounded on either side (shares, counts, values >= 0, ticks) gets a seeded bootstrap
  interval of the mean (``scipy.stats.bootstrap``, BCa; percentile where BCa cannot be computed).
  A bootstrap interval lies within the smallest and largest value observed, so within the range;
* a measure that is unbounded (a difference between organisations, a Shapley contribution, a net
  area of loss) gets the t-interval, which suits a mean of a roughly symmetric quantity.

With fewer than 2 values there is no interval (low = high = the value). With very few seeds (under
about 8) bootstrap intervals are too narrow; use more seeds rather than reading them as exact.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from orgsim.metrics import COUNTS, MEASURES, t_half_width

INF = float("inf")
#: Range of each per-tick measure in ``orgsim.metrics.MEASURES`` (model v2: add new measures here; a test
#: checks that every measure has one). Counts are [0, inf) without being listed.
RANGES: dict[str, tuple[float, float]] = {
    "value_delivered": (0.0, INF),
    "value_lost_delay": (0.0, INF),
    "value_lost_expiry": (0.0, INF),
    "value_lost_refused": (0.0, INF),
    "lead_time": (1.0, INF),
    "alignment": (0.0, 1.0),
    "alignment_needs": (0.0, 1.0),
    "alignment_technology": (0.0, 1.0),
    "alignment_rules": (0.0, 1.0),
    "failure_demand": (0.0, 1.0),
    "rework_created": (0.0, INF),
    "work_done": (0.0, INF),
    "utilisation": (0.0, 1.0),
    "coordination_overhead": (0.0, 1.0),
    "value_per_capacity": (0.0, INF),
    "proficiency": (0.0, 1.0),
    "skill_breadth": (1.0, INF),
    "overload": (0.0, 1.0),
    "internal_rework": (0.0, 1.0),
    "hidden_found": (0.0, INF),
    "planning_overhead": (0.0, 1.0),
    "onboarding_loss": (0.0, 1.0),
    "team_size": (0.0, INF),
    "team_churn": (0.0, 1.0),
    "cost_capacity": (0.0, INF),
    "cost_coordination": (0.0, INF),
    "cost_replanning": (0.0, INF),
    "cost_restructuring": (0.0, INF),
    # Win-win-win measures of orgsim.winwin (margin can be negative).
    "margin": (-INF, INF),
    "skill_growth": (-INF, INF),
}
#: Run summary keys (``mean_<measure>``, ...) whose range is not that of a per-tick measure.
SUMMARY_RANGES: dict[str, tuple[float, float]] = {
    r"total_value_delivered": (0.0, INF),
    r"(recovery|loss)_.*": (0.0, INF),
    r"censored_.*": (0.0, INF),
    r"shocks": (0.0, INF),
}
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A mean over seeds with its confidence interval, and the name of the interval used."""

    estimate: float
    low: float
    high: float
    n: int
    method: str  # "BCa bootstrap", "percentile bootstrap", "t", or "none" (fewer than 2 values)


def measure_range(name: str) -> tuple[float, float]:
    """The range of a per-tick measure or a run summary key (``mean_<measure>``, ``recovery_...``);
    KeyError for a name with no declared range."""
    base = name.removeprefix("mean_")
    if base in COUNTS:
        return (0.0, INF)
    if base in RANGES:
        return RANGES[base]
    for pattern, bounds in SUMMARY_RANGES.items():
        if re.fullmatch(pattern, name):
            return bounds
    raise KeyError(name)


def interval(
    values: Iterable[float],
    low: float = -INF,
    high: float = INF,
    level: float = 0.95,
    seed: int = 0,
    bootstrap: bool | None = None,
) -> Interval:
    """Mean of the finite ``values`` and its ``level`` interval, chosen by the range [low, high]:
    bootstrap (BCa, seeded) if either bound is finite, t otherwise; ``bootstrap`` forces the choice."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0, "none")
    m = float(v.mean())
    use_t = _unbounded(low, high) if bootstrap is None else not bootstrap
    if n < 2 or np.all(v == v[0]):
        return Interval(m, m, m, n, "none" if n < 2 else ("t" if use_t else "BCa bootstrap"))
    if use_t:
        half = float(t_half_width(v.std(ddof=1), n, level))
        return Interval(m, m - half, m + half, n, "t")
    lo, hi, method = _bootstrap(v, level, seed)
    return Interval(m, float(np.clip(lo, low, high)), float(np.clip(hi, low, high)), n, method)


def measure_interval(name: str, values: Iterable[float], level: float = 0.95, seed: int = 0) -> Interval:
    """:func:`interval` of a measure or summary key, with the range it has; a name with no known range
    gets a bootstrap interval (it stays within the values observed)."""
    try:
        low, high = measure_range(name)
    except KeyError:
        return interval(values, level=level, seed=seed, bootstrap=True)
    return interval(values, low, high, level=level, seed=seed)


def table_intervals(samples: pd.DataFrame, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """:func:`measure_interval` of every column of ``samples`` (rows: seeds; columns: measures or summary
    keys), the bootstrap vectorised over the columns that have a value in every row. Returns one row per
    column: measure, estimate, ci_low, ci_high, n, interval."""
    numeric = samples.apply(pd.to_numeric, errors="coerce").astype(float)
    out: dict[str, Interval] = {}
    batch = []
    for name in numeric.columns:
        v = numeric[name].to_numpy()
        boot = _bootstrapped(name)
        if boot and len(v) > 1 and np.isfinite(v).all() and not np.all(v == v[0]):
            batch.append(name)
        else:
            out[name] = measure_interval(name, v, level, seed)
    if batch:
        x = numeric[batch].to_numpy().T
        lo, hi, method = _bootstrap(x, level, seed)
        for i, name in enumerate(batch):
            if not (np.isfinite(lo[i]) and np.isfinite(hi[i])):
                out[name] = measure_interval(name, x[i], level, seed)
                continue
            low, high = _range(name)
            out[name] = Interval(float(x[i].mean()), float(np.clip(lo[i], low, high)),
                                 float(np.clip(hi[i], low, high)), x.shape[1], method)
    rows = [(name, *(getattr(out[name], k) for k in ("estimate", "low", "high", "n", "method")))
            for name in numeric.columns]
    return pd.DataFrame(rows, columns=["measure", "estimate", "ci_low", "ci_high", "n", "interval"])


def row_intervals(
    name: str, samples: np.ndarray, level: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``samples`` of measure ``name`` (rows: e.g. ticks; columns: seeds): the mean of the
    finite values and the interval of :func:`measure_interval` (the bootstrap vectorised over rows with a
    value in every column). Returns (estimate, low, high) arrays."""
    x = np.asarray(samples, dtype=float)
    low, high = _range(name)
    estimate, lo, hi = (np.full(len(x), np.nan) for _ in range(3))
    complete = np.isfinite(x).all(axis=1) & (np.ptp(np.nan_to_num(x), axis=1) > 0)
    if x.shape[1] > 1 and complete.any() and _bootstrapped(name):
        lo[complete], hi[complete], _ = _bootstrap(x[complete], level, seed)
        estimate[complete] = x[complete].mean(axis=1)
    for i in np.flatnonzero(~np.isfinite(lo) | ~np.isfinite(hi)):
        ci = measure_interval(name, x[i], level, seed)
        estimate[i], lo[i], hi[i] = ci.estimate, ci.low, ci.high
    return estimate, np.clip(lo, low, high), np.clip(hi, low, high)


def _range(name: str) -> tuple[float, float]:
    try:
        return measure_range(name)
    except KeyError:
        return (-INF, INF)


def _bootstrapped(name: str) -> bool:
    try:
        return not _unbounded(*measure_range(name))
    except KeyError:
        return True


def _unbounded(low: float, high: float) -> bool:
    return not (np.isfinite(low) or np.isfinite(high))


def _bootstrap(v: np.ndarray, level: float, seed: int) -> tuple[Any, Any, str]:
    """Bootstrap interval of the mean along the last axis of ``v``: BCa, or percentile where BCa cannot be
    computed for a 1-d sample (a batch keeps NaN there for the caller to redo one by one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa's degenerate cases give NaN, handled below
        res = stats.bootstrap((v,), np.mean, confidence_level=level, n_resamples=BOOTSTRAP_RESAMPLES,
                              method="BCa", axis=-1, rng=np.random.default_rng(seed))
        ci = res.confidence_interval
        if v.ndim > 1 or (np.isfinite(ci.low) and np.isfinite(ci.high)):
            return ci.low, ci.high, "BCa bootstrap"
        res = stats.bootstrap((v,), np.mean, confidence_level=level, n_resamples=BOOTSTRAP_RESAMPLES,
                              method="percentile", rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high, "percentile bootstrap"


def check_ranges() -> list[str]:
    """Measures of ``orgsim.metrics.MEASURES`` with no declared range (should be none)."""
    return [m for m in MEASURES if m not in COUNTS and m not in RANGES]
