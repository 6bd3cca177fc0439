"""Intake: strategy refuses types it has not decided to serve, the WIP limit refuses, a probe reveals a
type's true needs at a cost, and a compliance gate checks every demand."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.demands import TEAM
from orgsim.environment import Arrivals
from orgsim.intake import GATE_CHECK, PROBE_WORK, intake
from orgsim.model import OrgModel

STILL = {"drift": 0.0, "shock_rate": 0.0, "shock_magnitude": 0.0}


def test_strategy_refuses_a_type_born_since_its_last_replan_and_serves_it_after():
    """Types are born (turbulence) in a world that otherwise stands still. Until strategy next re-plans,
    every demand of a new type is refused; after it, they are taken in (threshold 0 serves every type)."""
    world = {"regime": "clear", "turbulence": 1.0, "arrival_rate": 8.0, "followup_chance": 0.0,
             "layers": {layer: STILL for layer in ("needs", "technology", "rules", "volume")}}
    model = OrgModel("siloed", world, members=40, seed=6, strategy_threshold=0.0, sensing_delay=0,
                     cadence={"strategy": 40})
    env = model.environment
    draw, arrived = env.step, []
    env.step = lambda: arrived.append(draw()) or arrived[-1]
    refused_new = taken_new = 0
    for _ in range(400):
        t = model.tick
        model.step()
        book = model.demands
        unknown = env.generation != model.known_generation  # born since strategy last re-planned
        rows = (book.arrived == t) & ~book.failure
        assert not np.any(unknown[book.type[rows]]), t  # none of them taken in
        refused_new += int(unknown[arrived[-1].types].sum())
        born = {slot for tick, slot in env.births if tick < t}
        taken_new += int(np.isin(book.type[rows], list(born)).sum())
    assert len(env.births) >= 3
    assert refused_new > 0 and taken_new > 0


def _still_one_type(**overrides) -> dict:
    return {"regime": "clear", "demand_types": 1, "size_spread": 0.0, "arrival_rate": 1e-9,
            "followup_chance": 0.0, **overrides}


def _arrivals(model: OrgModel, n: int, size: float = 1.0) -> Arrivals:
    env = model.environment
    types = np.zeros(n, dtype=np.int64)
    sizes = np.full(n, size)
    return Arrivals(types=types, size=sizes, work=env.templates[types] * size,
                    value=env.type_value[types] * size)


@pytest.mark.parametrize("probing", [0.0, 1.0])
def test_a_probe_reveals_the_truth_at_its_cost_where_a_wrong_belief_hides_work(probing):
    model = OrgModel("responsive", _still_one_type(regulated_share=0.0), members=10, seed=0, probing=probing)
    truth = model.environment.templates[0].copy()
    wrong = np.roll(truth, 1)  # believes the work lies one capability over
    assert not np.array_equal(wrong > 0, truth > 0)
    model.belief_team[0] = wrong
    model.uncertain[0] = True
    out = intake(model, _arrivals(model, 2, size=1.5), t=7)
    book = model.demands
    assert len(book) == 2 and np.all(book.stream == TEAM)
    work = truth * 1.5
    if probing:
        assert out["probes"] == 2
        assert np.all(book.hidden == 0)  # nothing left to find
        first = np.argmax(work > 0)
        expected = work.copy()
        expected[first] += PROBE_WORK  # the probe: a small early piece of work, waste
        np.testing.assert_allclose(book.remaining, [expected, expected])
        np.testing.assert_allclose(book.rework_share, PROBE_WORK / expected.sum())
        np.testing.assert_array_equal(book.ready_at, 8)  # one tick's wait
        np.testing.assert_allclose(model.belief_team[0], truth)  # the stream's belief is corrected
        assert not model.uncertain[0]
    else:
        assert out["probes"] == 0
        np.testing.assert_allclose(book.hidden, [np.where(wrong > 0, 0.0, work)] * 2)  # missed work hides
        np.testing.assert_allclose(book.remaining, [np.where(wrong > 0, np.where(work > 0, work, wrong * 1.5),
                                                             0.0)] * 2)
        np.testing.assert_array_equal(book.ready_at, 7)
        np.testing.assert_allclose(model.belief_team[0], wrong)
        assert model.uncertain[0]


@pytest.mark.parametrize("constraints", ["gate", "integrated"])
@pytest.mark.parametrize("regulated", [0.0, 1.0])
def test_a_gate_checks_every_demand_with_at_least_gate_check_compliance_work(constraints, regulated):
    model = OrgModel("siloed", _still_one_type(regulated_share=regulated), members=10, seed=0,
                     constraints=constraints)
    c = model.capabilities.compliance
    needed = model.environment.templates[0, c]
    assert (needed > 0) == bool(regulated)
    intake(model, _arrivals(model, 3), t=0)
    planned = model.demands.remaining[:, c]
    if constraints == "gate":
        np.testing.assert_allclose(planned, max(needed, GATE_CHECK))
    else:
        np.testing.assert_allclose(planned, needed)


def test_the_wip_limit_refuses_new_demands_and_follow_ups_alike():
    model = OrgModel("siloed", _still_one_type(), members=10, seed=0, wip_limit=0.5)  # room for 5
    model.followups.fail(np.zeros(20, dtype=np.int64))  # followup_chance 0: none of them come back
    out = intake(model, _arrivals(model, 3), t=0)
    assert out == {"arrived": 3.0, "arrived_failure": 0.0, "refused": 0.0, "value_lost_refused": 0.0, "probes": 0.0}
    model.followups.chance = 1.0
    model.followups.fail(np.zeros(4, dtype=np.int64))
    out = intake(model, _arrivals(model, 2), t=1)
    # Two places left: the two new demands first, then the four follow-ups are refused.
    assert out["arrived"] == 6 and out["arrived_failure"] == 4 and out["refused"] == 4
    assert out["value_lost_refused"] == 0.0  # the refused were follow-ups: no value
    assert len(model.demands) == 5 and not model.demands.failure.any()
