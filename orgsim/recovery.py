"""Recovery from a scheduled shock, measured against a no-shock twin, and summarised over seeds.

A shocked run is paired with its *twin*: the same scenario, organisation and seed with that one
scheduled shock removed. The two are identical up to the shock's tick (the shock draws from a random
stream of its own in model v2, so the twin also sees the same later randomness). Per tick,

    loss = twin - shocked          (for a measure where higher is better; shocked - twin otherwise)

smoothed with a trailing ``window``-tick mean (:func:`orgsim.metrics.moving_average`) over the whole
run, so before the shock the smoothed loss is 0. After a shock at tick ``s``, up to ``end`` (the next
scheduled shock, or the end of the run):

* **hit**: the smoothed loss goes beyond ``tol`` x the twin's smoothed level at some tick ``h >= s``;
  a shock that is never beyond tolerance is **not hit**: its own outcome, with no time to recover;
* **time to recover**: ``r - s`` for the first ``r > h`` from which the smoothed loss stays within
  tolerance for ``hold`` ticks in a row (``r + hold <= end``); if there is none the recovery is
  **censored** at ``max(end - hold, h) - s`` (the time to recover is known to be larger than that);
* **depth**: the largest smoothed loss in the window (measure units, >= 0);
* **area**: the raw loss summed over the window (measure units x ticks; net, so it can be < 0).

Times to recover over seeds are summarised with Kaplan-Meier estimates (:func:`km_median`), never a
mean of censored values; "not hit" shocks are counted apart and left out of the estimate. Only
scheduled shocks have twins: random shocks belong to the world's own stream and are in both runs.
"""

from __future__ import annotations

import bisect
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from orgsim.metrics import moving_average
from orgsim.scenario import Scenario

#: Per-tick measures whose recovery every shocked run reports, and which way is better.
RECOVERY_MEASURES: dict[str, str] = {"value_delivered": "higher", "alignment": "higher"}
#: Run summary keys of the model's own recovery measure (against the run's pre-shock level; means of
#: censored values), left out of the tables in favour of the twin-based recovery.
SELF_BASELINE = re.compile(r"(recovery|loss|censored)_.*")
#: Outcomes of one shock.
RECOVERED, CENSORED, NOT_HIT = "recovered", "censored", "not hit"


@dataclass(frozen=True)
class Rule:
    """How recovery is judged: smoothing window, tolerance (share of the twin's level), hold (ticks)."""

    window: int = 30
    tol: float = 0.1
    hold: int = 30

    def describe(self) -> str:
        return (f"smoothed loss (trailing {self.window}-tick mean) within {self.tol:.0%} of the no-shock "
                f"twin's level, held {self.hold} ticks")


RULE = Rule()


def recovery(
    shocked: Sequence[float],
    twin: Sequence[float],
    tick: int,
    end: int | None = None,
    rule: Rule = RULE,
    better: str = "higher",
) -> dict[str, Any]:
    """Recovery of one per-tick series from a shock at ``tick``, against its twin's series.

    Both series start at tick 0 and cover at least ``end`` ticks (default: the shorter one's length).
    Returns outcome (recovered, censored or not hit), time (ticks; for a censored one the time it is
    known to exceed; NaN if not hit), censored (bool), hit_tick, depth, area, and level (the twin's
    mean over the window, for scale).
    """
    x, y = np.asarray(shocked, dtype=float), np.asarray(twin, dtype=float)
    end = min(len(x), len(y)) if end is None else int(end)
    if not 0 <= tick < end <= min(len(x), len(y)):
        raise ValueError(f"shock tick {tick} and window end {end} do not fit series of {min(len(x), len(y))} ticks")
    x, y = x[:end], y[:end]
    loss = y - x if better == "higher" else x - y
    smooth = moving_average(loss, rule.window)[tick:]
    level = np.abs(moving_average(y, rule.window)[tick:])
    beyond = ~(smooth <= rule.tol * level)  # NaN (no value in the window) counts as beyond
    raw = loss[tick:]
    depth = float(max(0.0, np.nanmax(smooth))) if np.isfinite(smooth).any() else float("nan")
    out = {"depth": depth, "area": float(np.nansum(raw)), "level": float(np.nanmean(y[tick:]))}
    hits = np.flatnonzero(beyond)
    if not len(hits):
        return {"outcome": NOT_HIT, "time": float("nan"), "censored": False, "hit_tick": float("nan"), **out}
    h = int(hits[0])
    # within_run[j]: length of the run of within-tolerance ticks starting at j.
    within_run = np.zeros(len(beyond) + 1, dtype=np.int64)
    for j in range(len(beyond) - 1, -1, -1):
        within_run[j] = within_run[j + 1] + 1 if not beyond[j] else 0
    held = np.flatnonzero(within_run[h + 1 : -1] >= rule.hold)
    if len(held):
        return {"outcome": RECOVERED, "time": float(h + 1 + held[0]), "censored": False,
                "hit_tick": float(tick + h), **out}
    observed = max(len(beyond) - rule.hold, h)
    return {"outcome": CENSORED, "time": float(observed), "censored": True, "hit_tick": float(tick + h), **out}


# --- twins ----------------------------------------------------------------------------------------------
def without_shock(scenario: Scenario, index: int) -> Scenario:
    """``scenario`` with its scheduled shock number ``index`` (in file order) removed."""
    shocks = scenario.environment.shocks
    if not 0 <= index < len(shocks):
        raise IndexError(f"no scheduled shock {index}; the scenario has {len(shocks)}")
    env = scenario.environment.model_copy(update={"shocks": shocks[:index] + shocks[index + 1 :]})
    return scenario.model_copy(update={"environment": env})


def window_end(scenario: Scenario, index: int) -> int:
    """Tick at which shock ``index``'s recovery window ends: the next later scheduled shock, or the run's end."""
    ticks = sorted(s.tick for s in scenario.environment.shocks)
    tick = scenario.environment.shocks[index].tick
    later = bisect.bisect_right(ticks, tick)
    return ticks[later] if later < len(ticks) else scenario.run.ticks


def twin_timeseries(scenario: Scenario, organisation: str, seed: int, index: int) -> pd.DataFrame:
    """Per-tick measures of the twin of shock ``index``: run without it, up to the end of its window."""
    twin = without_shock(scenario, index)
    return twin.model(organisation, seed).run(window_end(scenario, index)).timeseries()


def shock_recoveries(
    scenario: Scenario,
    organisation: str,
    seed: int,
    shocked: pd.DataFrame,
    measures: dict[str, str] | None = None,
    rule: Rule = RULE,
) -> pd.DataFrame:
    """One row per scheduled shock and measure of a shocked run (``shocked``: its per-tick table):
    shock, layer, tick, magnitude, end, measure, and the :func:`recovery` of that measure against the
    shock's twin (one twin run per shock, up to the end of its window)."""
    measures = RECOVERY_MEASURES if measures is None else measures
    rows = []
    for i, shock in enumerate(scenario.environment.shocks):
        end = window_end(scenario, i)
        twin = twin_timeseries(scenario, organisation, seed, i)
        for measure, better in measures.items():
            rec = recovery(shocked[measure].to_numpy(), twin[measure].to_numpy(), shock.tick, end, rule, better)
            rows.append({"shock": i, "layer": shock.layer, "tick": shock.tick, "magnitude": shock.magnitude,
                         "end": end, "measure": measure, **rec})
    return pd.DataFrame(rows, columns=[*_SHOCK_KEYS, *_RESULT_KEYS])


_SHOCK_KEYS = ["shock", "layer", "tick", "magnitude", "end", "measure"]
_RESULT_KEYS = ["outcome", "time", "censored", "hit_tick", "depth", "area", "level"]


# --- in a flat row (sweeps keep one row per run) ----------------------------------------------------------
def to_columns(table: pd.DataFrame) -> dict[str, Any]:
    """A :func:`shock_recoveries` table as flat columns ``shock<i>_<key>`` and ``shock<i>_<measure>_<key>``,
    for a run's row in a sweep's runs table (:func:`from_columns` reads them back)."""
    out: dict[str, Any] = {}
    for row in table.itertuples(index=False):
        p = f"shock{row.shock}_"
        out.update({p + "layer": row.layer, p + "tick": row.tick, p + "magnitude": row.magnitude, p + "end": row.end})
        for key in _RESULT_KEYS:
            value = getattr(row, key)
            out[f"{p}{row.measure}_{key}"] = value if key == "outcome" else float(value)
    return out


def from_columns(runs: pd.DataFrame, ids: Sequence[str] = ("organisation", "seed")) -> pd.DataFrame:
    """The long table (one row per run, shock and measure) of runs whose rows hold :func:`to_columns`."""
    prefixes = sorted({c.split("_")[0] for c in runs.columns if c.startswith("shock") and c.endswith("_layer")},
                      key=lambda p: int(p[5:]))
    frames = []
    for p in prefixes:
        for measure in RECOVERY_MEASURES:
            cols = {f"{p}_{measure}_{k}": k for k in _RESULT_KEYS}
            if not set(cols) <= set(runs.columns):
                continue
            sel = runs[[*ids, *(f"{p}_{k}" for k in _SHOCK_KEYS[1:5]), *cols]].rename(
                columns={**cols, **{f"{p}_{k}": k for k in _SHOCK_KEYS[1:5]}})
            sel = sel[sel["layer"].notna()]
            frames.append(sel.assign(shock=int(p[5:]), measure=measure))
    if not frames:
        return pd.DataFrame(columns=[*ids, *_SHOCK_KEYS, *_RESULT_KEYS])
    long = pd.concat(frames, ignore_index=True)
    long["censored"] = long["censored"].astype(bool)
    return long[[*ids, *_SHOCK_KEYS, *_RESULT_KEYS]]


# --- over seeds --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Median:
    """A Kaplan-Meier median time to recover with its confidence interval (ticks).

    ``median`` is inf when the estimate never falls to one half (more than half of the recoveries
    still censored): then the median is only known to exceed ``longest`` (the longest time observed).
    ``ci_high`` is inf when the upper band never falls to one half.
    """

    median: float
    ci_low: float
    ci_high: float
    events: int  # recoveries observed
    censored: int

    @property
    def reached(self) -> bool:
        return bool(np.isfinite(self.median))

    def text(self, longest: float | None = None) -> str:
        if self.events + self.censored == 0:
            return "-"
        hi = "not reached" if not np.isfinite(self.ci_high) else f"{self.ci_high:.0f}"
        if not self.reached:
            return "median not reached" + (f" (> {longest:.0f})" if longest is not None else "")
        return f"{self.median:.0f} [{self.ci_low:.0f}, {hi}]"


def km_median(times: Sequence[float], censored: Sequence[bool], level: float = 0.95) -> Median:
    """Kaplan-Meier median of ``times`` (some right-censored) and its ``level`` CI, from the pointwise
    log-log band of the survival function (``scipy.stats.ecdf``): the CI holds the times at which the
    band contains one half. NaN for no data; inf where a bound is not reached."""
    t = np.asarray(times, dtype=float)
    c = np.asarray(censored, dtype=bool)
    keep = np.isfinite(t)
    t, c = t[keep], c[keep]
    if len(t) == 0:
        return Median(np.nan, np.nan, np.nan, 0, 0)
    events, n_cens = int((~c).sum()), int(c.sum())
    if events == 0:
        return Median(np.inf, np.inf, np.inf, 0, n_cens)
    sf = stats.ecdf(stats.CensoredData(uncensored=t[~c], right=t[c])).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the band is undefined where S = 0: handled below
        band = sf.confidence_interval(level, method="log-log") if len(t) > 1 else None

    def first_at_or_below_half(q: np.ndarray, p: np.ndarray) -> float:
        below = np.flatnonzero(np.nan_to_num(p, nan=0.0) <= 0.5)  # NaN where the estimate is 0
        return float(q[below[0]]) if len(below) else np.inf

    median = first_at_or_below_half(sf.quantiles, sf.probabilities)
    if band is None:
        return Median(median, median, median, events, n_cens)
    low = first_at_or_below_half(band.low.quantiles, band.low.probabilities)
    high = first_at_or_below_half(band.high.quantiles, band.high.probabilities)
    return Median(median, low, high, events, n_cens)


def summarise(records: pd.DataFrame, by: Sequence[str] = ("organisation",), level: float = 0.95) -> pd.DataFrame:
    """Per group of ``by``, pace layer and measure: shocks, not_hit, recovered, censored, the Kaplan-Meier
    median time to recover of the shocks that hit (median, ci_low, ci_high; inf = not reached), longest
    (the longest time observed), and depth and area with their intervals (:func:`orgsim.intervals.interval`,
    which says which interval it used)."""
    from orgsim.intervals import interval

    rows = []
    for key, group in records.groupby([*by, "layer", "measure"], sort=False):
        hit = group[group.outcome != NOT_HIT]
        med = km_median(hit.time, hit.censored, level)
        depth = interval(group.depth, low=0.0, level=level)
        area = interval(group.area, level=level)
        rows.append((*key, len(group), int((group.outcome == NOT_HIT).sum()), med.events, med.censored,
                     med.median, med.ci_low, med.ci_high, float(hit.time.max()) if len(hit) else np.nan,
                     depth.estimate, depth.low, depth.high, depth.method,
                     area.estimate, area.low, area.high, area.method))
    return pd.DataFrame(rows, columns=[
        *by, "layer", "measure", "shocks", "not_hit", "recovered", "censored", "median", "ci_low", "ci_high",
        "longest", "depth", "depth_ci_low", "depth_ci_high", "depth_interval", "area", "area_ci_low",
        "area_ci_high", "area_interval",
    ])


def for_runs(
    scenario: Scenario,
    runs: Sequence[tuple[str, int, pd.DataFrame]],
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """:func:`shock_recoveries` of several shocked runs, given as (organisation, seed, per-tick table);
    columns organisation, seed and the shock table's."""
    frames = []
    for org, seed, series in runs:
        frames.append(shock_recoveries(scenario, org, seed, series).assign(organisation=org, seed=seed))
        if progress is not None:
            progress(1)
    return pd.concat(frames, ignore_index=True)[empty().columns] if frames else empty()


def empty() -> pd.DataFrame:
    """A table of recoveries with no rows: the columns of :func:`for_runs`."""
    return pd.DataFrame(columns=["organisation", "seed", *_SHOCK_KEYS, *_RESULT_KEYS])
