"""Win-win-win measures from a per-tick table: what today's model gives, and model v2's columns when present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orgsim import OrgModel, winwin


def _table(n: int = 10, **columns) -> pd.DataFrame:
    base = {"value_delivered": np.full(n, 50.0), "completed": np.full(n, 5), "lead_time": np.full(n, 10.0),
            "failure_demand": np.full(n, 0.1), "overload": np.full(n, 0.05), "proficiency": np.full(n, 0.8),
            "moves": np.zeros(n, dtype=int)}
    return pd.DataFrame({**base, **columns}).rename_axis("tick")


def test_margin_with_today_columns_is_unknown_rather_than_value_minus_a_constant():
    ts = _table(moves=np.r_[0, 4, 0, 0, 0, 0, 0, 0, 0, 0])
    card = winwin.scorecard(ts, paid_capacity=40.0, unit_cost=1.0, restructure_ticks=10)
    assert np.isnan(card["organisation_margin"])
    assert card["missing"] == ["cost of coordination (cost_coordination)", "cost of replanning (cost_replanning)",
                               "churn of team membership (team_churn)"]
    cost = winwin.costs(ts, paid_capacity=40.0, restructure_ticks=10)
    assert cost.capacity.tolist() == [40.0] * 10 and cost.restructuring.tolist()[:3] == [0.0, 40.0, 0.0]


def test_margin_takes_model_v2_cost_columns_when_present():
    ts = _table(cost_capacity=np.full(10, 30.0), cost_coordination=np.full(10, 2.0),
                cost_replanning=np.r_[5.0, np.zeros(9)], cost_restructuring=np.full(10, 1.0),
                team_churn=np.full(10, 0.02))
    card = winwin.scorecard(ts)
    assert card["organisation_margin"] == pytest.approx(50 - 30 - 2 - 0.5 - 1)  # 16.5 per tick
    assert card["people_team_churn"] == pytest.approx(0.02) and card["missing"] == []


def test_customers_and_people_legs_by_hand():
    ts = _table(completed=np.r_[0, 1, 3, 0, 0, 0, 0, 0, 0, 0], lead_time=np.r_[np.nan, 4.0, 8.0, [np.nan] * 7],
                proficiency=0.5 + 0.001 * np.arange(10))
    card = winwin.scorecard(ts)
    assert card["customers_lead_time"] == pytest.approx((4 + 3 * 8) / 4)  # per demand, not per tick
    assert card["people_skill_growth"] == pytest.approx(0.1)  # 0.001 per tick = 0.1 per 100 ticks
    assert card["customers_value"] == 50.0 and card["people_overload"] == 0.05


def test_scorecard_of_a_real_run():
    ts = OrgModel("responsive", {"arrival_rate": 2.0}, members=20, seed=2).run(80).timeseries()
    card = winwin.scorecard(ts, warmup=10, paid_capacity=20.0)
    assert card["customers_value"] == pytest.approx(ts.value_delivered.iloc[10:].mean())
    assert 0.0 <= card["customers_failure_demand"] <= 1.0 and card["customers_lead_time"] >= 1.0
    assert np.isfinite(card["people_skill_growth"])


@pytest.mark.parametrize("design", ["siloed", "responsive"])
def test_the_models_cost_columns_split_the_wage_bill(design):
    """Each tick the four costs add up to wage x capacity; each is where the design spends time."""
    model = OrgModel(design, {"regime": "complex", "wage": 0.4}, members=30, seed=3).run(150)
    ts = model.timeseries()
    costs = ts[list(winwin.COSTS.values())]
    np.testing.assert_allclose(costs.sum(axis=1), 0.4 * 30.0, rtol=1e-12)
    assert (costs >= -1e-12).all().all()
    np.testing.assert_allclose(ts.cost_coordination, 0.4 * 30.0 * ts.coordination_overhead, rtol=1e-12)
    np.testing.assert_allclose(ts.cost_restructuring, 0.4 * 30.0 * ts.onboarding_loss, rtol=1e-12)
    if design == "siloed":
        assert (ts.cost_coordination == 0).all() and ts.cost_restructuring.sum() > 0  # no teams; moves
    else:
        assert (ts.cost_restructuring == 0).all() and ts.cost_coordination.sum() > 0  # nobody moves home
    assert (ts.cost_replanning > 0).any()
    card = winwin.scorecard(ts, warmup=20)
    assert card["missing"] == []
    assert card["organisation_margin"] == pytest.approx(ts.value_delivered.iloc[20:].mean() - 12.0)
