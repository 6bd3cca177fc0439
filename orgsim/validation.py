"""Checks of the model against laws of queues that any model of work flowing through an organisation must obey.

* **Little's law** (Little 1961): over a long window, the mean work in progress L equals the accepted
  arrival rate lambda times the mean time in system W. The model records WIP at the end of a tick and a
  lead time that counts the arrival and the delivery tick, so a demand is in the end-of-tick WIP for
  ``lead time - 1`` ticks: L = lambda x (W - 1), W averaged over every demand that left (delivered, or
  expired at the deadline). Demands still inside at the end make the two differ by about WIP_end / T.
* **Kingman's formula** (Kingman 1961): waiting grows like rho / (1 - rho) in the load rho, so lead time
  is convex in load and steepens as the load approaches 1 (until the WIP limit caps the queue). Seeds
  make the flat part of the curve noisy, so convexity is judged by the curvature of a least-squares
  quadratic (``numpy.polyfit``), not by every second difference.

Both work on the model's own output (``OrgModel.timeseries()``); :func:`load_curve` runs the model at a
range of loads. ``scripts/validation.py`` prints both for the two presets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from orgsim.environment import EnvironmentConfig
from orgsim.model import OrgModel


def littles_law(ts: pd.DataFrame, deadline: int) -> dict[str, float]:
    """Little's law on one run's per-tick table: wip (L, mean end-of-tick WIP), arrival_rate (lambda,
    demands accepted per tick), time_in_system (W, mean ticks in system of the demands that left; an
    expired demand counts ``deadline`` ticks), predicted (lambda x (W - 1)) and relative_error
    ((L - predicted) / predicted)."""
    accepted = float((ts["arrived"] - ts["refused"]).sum())
    delivered, expired = ts["completed"].to_numpy(dtype=float), ts["expired"].to_numpy(dtype=float)
    left = delivered.sum() + expired.sum()
    ticks_in = np.nansum(ts["lead_time"].to_numpy(dtype=float) * delivered) + deadline * expired.sum()
    rate = accepted / len(ts)
    w = ticks_in / left if left > 0 else float("nan")
    wip = float(ts["wip"].mean())
    predicted = rate * (w - 1.0)
    return {"wip": wip, "arrival_rate": rate, "time_in_system": w, "predicted": predicted,
            "relative_error": (wip - predicted) / predicted if predicted > 0 else float("nan")}


def at_load(environment: dict[str, Any], load: float, members: int, capacity: float = 1.0) -> dict[str, Any]:
    """The environment with demand offered at ``load`` (customer work over the organisation's capacity,
    members x capacity): the ``load`` key where the model has one (v2), else the equivalent arrival rate."""
    env = {k: v for k, v in environment.items() if k not in ("load", "arrival_rate")}
    if "load" in EnvironmentConfig.model_fields:
        return {**env, "load": load}
    config = EnvironmentConfig.model_validate(env)
    mean_work = config.work_per_demand + config.regulated_share * 2.0  # compliance work is uniform(1, 3)
    return {**env, "arrival_rate": load * members * capacity / mean_work}


def load_curve(
    design: Any,
    environment: dict[str, Any],
    loads: Sequence[float],
    seeds: Sequence[int],
    ticks: int = 500,
    warmup: int = 100,
    members: int = 100,
) -> pd.DataFrame:
    """Run ``design`` at each load and seed: columns load, seed, lead_time (per demand delivered after
    ``warmup``), wip, wip_share (of the WIP limit), utilisation, refused_share (of the demands arrived)."""
    rows = []
    for load in loads:
        for seed in seeds:
            model = OrgModel(design, at_load(environment, load, members), members=members, seed=seed).run(ticks)
            s = model.summary(warmup)
            ts = model.timeseries().iloc[warmup:]
            rows.append({"load": load, "seed": seed, "lead_time": s["mean_lead_time"], "wip": s["mean_wip"],
                         "wip_share": s["mean_wip"] / (model.wip_limit * members),
                         "utilisation": s["mean_utilisation"],
                         "refused_share": float(ts.refused.sum() / max(ts.arrived.sum(), 1))})
    return pd.DataFrame(rows)


def convexity(x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Second divided differences of y over x (sorted by x): all >= 0 for a convex curve."""
    order = np.argsort(np.asarray(x, dtype=float))
    x, y = np.asarray(x, dtype=float)[order], np.asarray(y, dtype=float)[order]
    slopes = np.diff(y) / np.diff(x)
    return np.diff(slopes) / ((x[2:] - x[:-2]) / 2.0)


def kingman(curve: pd.DataFrame, max_wip_share: float = 0.8) -> dict[str, Any]:
    """Kingman's pattern on a :func:`load_curve`, over the loads at which mean WIP stays below
    ``max_wip_share`` of the WIP limit (beyond, the limit caps the queue and the law no longer applies):
    ``rises`` (lead time at the highest of them above that at the lowest), ``curvature`` (the x^2
    coefficient of a least-squares quadratic of the mean lead time over seeds in load) and ``convex``
    (curvature > 0); with the loads used, the mean lead times and ``second_differences``."""
    mean = curve.groupby("load")[["lead_time", "wip_share"]].mean()
    mean = mean[mean.wip_share <= max_wip_share]
    x, y = mean.index.to_numpy(dtype=float), mean.lead_time.to_numpy()
    curvature = float(np.polyfit(x, y, 2)[0]) if len(x) >= 3 else float("nan")
    return {"loads": x.tolist(), "lead_time": y.tolist(), "rises": bool(len(y) > 1 and y[-1] > y[0]),
            "curvature": curvature, "convex": bool(curvature > 0),
            "second_differences": convexity(x, y).tolist()}
