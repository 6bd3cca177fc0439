"""Seddon's failure demand: failed customers come back with follow-ups that carry no value and take
front-line capacity; the measure is their share of arriving demand, apart from internal rework."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.capabilities import Capabilities
from orgsim.failure_demand import FollowUps, front_line
from orgsim.model import OrgModel

STILL_ONE_TYPE = {"regime": "clear", "demand_types": 1, "regulated_share": 0.0, "size_spread": 0.0}


def test_follow_ups_need_front_line_work_and_come_back_at_their_chance():
    caps = Capabilities()
    follow = FollowUps(0.3, 1.5, caps, np.random.default_rng(0))
    assert follow.fail(np.zeros(0, dtype=np.int64)) == 0
    back = follow.fail(np.arange(20_000) % 7)
    types, work = follow.arrive()
    assert len(types) == back
    assert back == pytest.approx(0.3 * 20_000, abs=4 * np.sqrt(20_000 * 0.3 * 0.7))
    front = caps.names.index("operations")
    assert front_line(caps) == front
    np.testing.assert_array_equal(work[:, front], 1.5)
    assert np.all(np.delete(work, front, axis=1) == 0)
    assert set(np.unique(types)) == set(range(7))  # a follow-up keeps the type of the demand it follows
    assert len(follow.arrive()[0]) == 0  # the queue empties when they arrive
    # Without an operations capability the last established one takes the follow-ups.
    assert front_line(Capabilities(("a", "compliance", "b", "frontier-1"), frontier=1)) == 2


def test_every_failed_customer_comes_back_the_next_tick_when_the_chance_is_one():
    """No capacity, a WIP limit and a deadline: customers are failed by refusal and by expiry (nobody is
    late before the deadline here). With chance 1 each comes back the next tick, and follow-ups are failed
    in turn."""
    world = {**STILL_ONE_TYPE, "arrival_rate": 3.0, "deadline": 8, "promise": 100_000, "followup_chance": 1.0}
    model = OrgModel("siloed", world, members=10, capacity=1e-6, wip_limit=2.0, seed=1)
    df = model.run(80).timeseries()
    failed = (df.refused + df.expired).to_numpy()
    np.testing.assert_array_equal(df.arrived_failure.to_numpy()[1:], failed[:-1])
    assert df.arrived_failure.iloc[0] == 0 and df.refused.sum() > 0 and df.expired.sum() > 0
    share = np.divide(df.arrived_failure, df.arrived, out=np.zeros(len(df)), where=df.arrived > 0)
    np.testing.assert_allclose(df.failure_demand, share)
    assert df.failure_demand.iloc[40:].mean() > 0.5  # failure demand feeds on itself
    assert df.value_delivered.sum() == 0


def test_follow_ups_carry_no_value_and_are_delivered_by_the_front_line():
    world = {**STILL_ONE_TYPE, "arrival_rate": 2.0, "deadline": 6, "followup_chance": 1.0, "followup_work": 2.0}
    model = OrgModel("siloed", world, members=20, seed=3)
    front = front_line(model.capabilities)
    seen = 0
    for _ in range(150):
        model.step()
        book = model.demands
        rows = np.flatnonzero(book.failure)
        seen += len(rows)
        assert np.all(book.value[rows] == 0)
        assert np.all(book.true_work[rows, front] == 2.0)
        assert np.all(np.delete(book.true_work[rows], front, axis=1) == 0)
    df = model.timeseries()
    assert seen > 0 and df.arrived_failure.sum() > 0


@pytest.mark.parametrize("design", ["siloed", "responsive"])
def test_no_follow_ups_mean_exactly_no_failure_demand_while_internal_rework_goes_on(design):
    world = {"regime": "chaotic", "load": 1.5, "deadline": 15, "promise": 5, "followup_chance": 0.0}
    df = OrgModel(design, world, members=30, seed=2, handoff_error=0.5).run(200).timeseries()
    assert df.refused.sum() > 0 and df.chased.sum() > 0 and df.expired.sum() > 0  # customers were failed
    assert np.all(df.arrived_failure == 0) and np.all(df.failure_demand == 0.0)
    assert df.internal_rework.iloc[20:].mean() > 0.01  # the organisation's own rework and waste: measured apart
    if design == "siloed":
        assert df.rework_created.sum() > 0  # lossy hand-offs between departments


def test_more_follow_up_chance_means_more_failure_demand_on_the_same_arrivals():
    world = {"regime": "complex", "load": 1.2, "deadline": 20, "promise": 8}
    share = {}
    for chance in (0.2, 0.8):
        df = OrgModel("siloed", {**world, "followup_chance": chance}, members=30, seed=4).run(200).timeseries()
        share[chance] = df.arrived_failure.sum() / df.arrived.sum()
    assert 0 < share[0.2] < share[0.8] < 1
