"""Laws of queues on the model's own output: Little's law and Kingman's convex lead time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orgsim import OrgModel
from orgsim.validation import at_load, convexity, kingman, littles_law, load_curve


def test_littles_law_by_hand():
    # Two demands a tick; each delivered with a lead time of 3 ticks is in the end-of-tick WIP for 2 ticks.
    ts = pd.DataFrame({"arrived": [2] * 6, "refused": [0] * 6, "completed": [0, 0, 2, 2, 2, 2],
                       "expired": [0] * 6, "lead_time": [np.nan, np.nan, 3, 3, 3, 3], "wip": [2, 4, 4, 4, 4, 4]})
    law = littles_law(ts, deadline=60)
    assert (law["arrival_rate"], law["time_in_system"], law["predicted"]) == (2.0, 3.0, 4.0)
    assert law["wip"] == pytest.approx(22 / 6)  # the start-up ticks: the gap shrinks as runs get longer


@pytest.mark.parametrize("design", ["siloed", "responsive"])
def test_littles_law_holds_on_the_model(design):
    # Without follow-ups (failure demand), whose ticks in the system the model does not record.
    env = {"regime": "complex", "arrival_rate": 8.0, "followup_chance": 0.0}
    ts = OrgModel(design, env, members=100, seed=4).run(800).timeseries()
    law = littles_law(ts, deadline=60)
    assert law["wip"] > 20 and abs(law["relative_error"]) < 0.03


def test_convexity_tells_kingman_from_a_saturating_curve():
    rho = np.array([0.2, 0.4, 0.6, 0.8, 0.9])
    assert (convexity(rho, rho / (1 - rho)) > 0).all()
    assert (convexity(rho, np.sqrt(rho)) < 0).all()
    curve = pd.DataFrame({"load": np.repeat(rho, 2), "lead_time": np.repeat(1 + rho / (1 - rho), 2),
                          "wip_share": np.repeat([0.1, 0.2, 0.4, 0.7, 0.95], 2)})
    result = kingman(curve)
    assert result["loads"] == [0.2, 0.4, 0.6, 0.8] and result["rises"] and result["convex"]
    assert not kingman(curve.assign(lead_time=np.sqrt(curve.load)))["convex"]


def test_load_sets_the_arrival_rate_the_model_can_take():
    env = at_load({"regime": "clear", "arrival_rate": 3.0}, 0.5, members=50)
    assert env.get("load") == 0.5 or env["arrival_rate"] == pytest.approx(0.5 * 50 / (8.0 + 0.3 * 2.0))


def test_kingman_lead_time_is_convex_in_load_below_saturation():
    curve = load_curve("siloed", {"regime": "clear"}, [0.3, 0.5, 0.7, 0.8], seeds=[0, 1], ticks=400, members=50)
    result = kingman(curve)
    assert result["loads"] == [0.3, 0.5, 0.7, 0.8]
    assert result["rises"] and result["convex"], result
