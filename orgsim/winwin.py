"""Win-win-win: one run's result for its customers, the organisation and its people.

* **customers**: value delivered per tick, lead time (ticks, per demand delivered), failure demand
  (Seddon's: the share of arriving demand that is failed customers coming back);
* **organisation**: margin per tick, value delivered minus what the organisation pays for it: capacity,
  coordination, re-planning and restructuring, in value units per tick. Each cost is read from the
  model's per-tick column ``cost_<kind>`` (the wage bill, ``wage`` x capacity, split by where the time
  went); for a table without them, capacity is priced from the paid headcount, restructuring from
  ``moves``, and coordination and re-planning are *unknown* (NaN margin, named in ``missing``). The
  wage bill is the same for organisations of equal size, so between them margin differences equal value
  differences: the cost columns show where the money goes, not a different ranking;
* **people**: overload above 85 % (share), skill growth (change in mean proficiency per 100 ticks, a
  least-squares slope), and churn of team membership (share of members whose team changed per tick,
  from a ``team_churn`` column: model v2; unknown before).

Every function takes the per-tick table of ``OrgModel.timeseries()`` and uses a column only if it is there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: Costs of the organisation's leg, each with the per-tick column (value units per tick) that holds it.
COSTS: dict[str, str] = {
    "capacity": "cost_capacity",
    "coordination": "cost_coordination",
    "replanning": "cost_replanning",
    "restructuring": "cost_restructuring",
}
CHURN = "team_churn"


def costs(
    ts: pd.DataFrame, paid_capacity: float | None = None, unit_cost: float = 1.0, restructure_ticks: float = 0.0,
) -> pd.DataFrame:
    """Per tick, the cost of each kind in :data:`COSTS` (value units per tick): its column where the model
    records it; else capacity = ``paid_capacity`` x ``unit_cost`` (paid capacity: members x capacity),
    restructuring = moves x ``restructure_ticks`` x ``unit_cost`` (a moved member's lost ticks); NaN for
    what cannot be derived."""
    out = pd.DataFrame(index=ts.index)
    for kind, column in COSTS.items():
        if column in ts:
            out[kind] = ts[column].astype(float)
        elif kind == "capacity" and paid_capacity is not None:
            out[kind] = float(paid_capacity) * unit_cost
        elif kind == "restructuring" and "moves" in ts:
            out[kind] = ts["moves"].astype(float) * restructure_ticks * unit_cost
        else:
            out[kind] = np.nan
    return out


def margin(ts: pd.DataFrame, **cost_args: float) -> pd.Series:
    """Value delivered minus every cost of :func:`costs`, per tick (NaN where a cost is unknown)."""
    return ts["value_delivered"].astype(float) - costs(ts, **cost_args).sum(axis=1, min_count=len(COSTS))


def skill_growth(ts: pd.DataFrame, per: int = 100) -> float:
    """Least-squares slope of mean proficiency over ticks, times ``per``: proficiency gained per ``per``
    ticks (proficiency is in [0, 1]; negative when skills fade)."""
    y = ts["proficiency"].to_numpy(dtype=float)
    if len(y) < 2 or np.all(y == y[0]):
        return 0.0 if len(y) >= 2 else float("nan")
    return float(stats.linregress(np.arange(len(y)), y).slope * per)


def scorecard(ts: pd.DataFrame, warmup: int = 0, **cost_args: float) -> dict[str, float | list[str]]:
    """The three legs over ticks ``warmup`` on: customers_value, customers_lead_time (weighted by demands
    delivered), customers_failure_demand, organisation_margin, people_overload, people_skill_growth,
    people_team_churn; and ``missing``, the measures that need columns this model does not record."""
    steady = ts.iloc[warmup:]
    delivered = steady["completed"].to_numpy(dtype=float)
    lead = steady["lead_time"].to_numpy(dtype=float)
    done = delivered.sum()
    m = margin(steady, **cost_args)
    out: dict[str, float | list[str]] = {
        "customers_value": float(steady["value_delivered"].mean()),
        "customers_lead_time": float(np.nansum(lead * delivered) / done) if done > 0 else float("nan"),
        "customers_failure_demand": float(steady["failure_demand"].mean()),
        "organisation_margin": float(m.mean()),
        "people_overload": float(steady["overload"].mean()),
        "people_skill_growth": skill_growth(steady),
        "people_team_churn": float(steady[CHURN].mean()) if CHURN in steady else float("nan"),
    }
    unknown = costs(steady, **cost_args).isna().all()
    out["missing"] = [f"cost of {k} ({COSTS[k]})" for k, gone in unknown.items() if gone] + (
        [f"churn of team membership ({CHURN})"] if CHURN not in steady else [])
    return out
