"""Management: re-plans cost meeting time, memory sets how far back a layer looks, and structure moves
members who keep their skills and take time to become productive in proportion to their skill gap."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim import planning
from orgsim.learning import SKILL_FLOOR
from orgsim.model import OrgModel

WORLD = {"regime": "clear", "load": 0.7}


def test_each_replan_costs_planning_cost_of_everyones_capacity():
    cadence = {"operations": 2, "process": 3, "structure": 4, "strategy": 6}
    model = OrgModel("siloed", WORLD, members=30, seed=0, cadence=cadence, planning_cost=0.07).run(60)
    df = model.timeseries()
    due = np.array([len(planning.due_layers(model, t)) for t in range(60)])
    assert due[0] == 0 and due.max() == 4 and set(due) == {0, 1, 2, 3, 4}
    np.testing.assert_allclose(df.planning_overhead, 0.07 * due, rtol=1e-12)


def test_meetings_that_fill_the_day_stop_all_work():
    every_tick = {layer: 1 for layer in ("operations", "process", "structure", "strategy")}
    df = OrgModel("responsive", WORLD, members=30, seed=1, cadence=every_tick, planning_cost=0.3,
                  exploration=0.0).run(30).timeseries()
    assert df.planning_overhead.iloc[0] == 0 and np.all(df.planning_overhead.iloc[1:] == 1.0)  # 4 x 0.3, capped
    assert df.work_done.iloc[0] > 0
    assert np.all(df.work_done.iloc[1:] == 0) and np.all(df.utilisation.iloc[1:] == 0)
    free = OrgModel("responsive", WORLD, members=30, seed=1, cadence=every_tick, planning_cost=0.0,
                    exploration=0.0).run(30).timeseries()
    assert np.all(free.planning_overhead == 0) and np.all(free.work_done.iloc[1:] > 0)


@pytest.mark.parametrize(("memory", "delay"), [(1, 0), (7, 3), (30, 12)])
def test_memory_sets_the_window_every_layer_reads(memory, delay):
    model = OrgModel(0.5, {"regime": "complex", "load": 0.7}, members=20, seed=2, memory=memory,
                     sensing_delay=delay, cadence={"operations": 1, "process": 2, "structure": 3, "strategy": 4})
    reads = []
    read = model.sensor.read

    def spy(name, window, lag, **kw):
        reads.append((name, window, lag))
        return read(name, window, lag, **kw)

    model.sensor.read = spy
    assert model.sensor.horizon == delay + memory + 1
    model.run(25)
    assert {name for name, _, _ in reads} == {"arrivals", "department_work", "delivered_work", "delivered",
                                               "stream_backlog"}
    assert {(window, lag) for _, window, lag in reads} == {(memory, delay)}


def test_memory_changes_what_strategy_senses_but_not_when_it_replans():
    short = OrgModel("siloed", {"regime": "complex"}, members=20, seed=3, memory=1).run(300).timeseries()
    long = OrgModel("siloed", {"regime": "complex"}, members=20, seed=3, memory=60).run(300).timeseries()
    np.testing.assert_array_equal(short.planning_overhead, long.planning_overhead)  # same cadence, same meetings
    assert not short.equals(long)


def test_structure_moves_keep_skills_and_onboard_in_proportion_to_the_skill_gap():
    shock = [{"tick": 10, "layer": "technology", "magnitude": 1.0}]
    model = OrgModel("siloed", {"regime": "clear", "load": 0.7, "shocks": shock}, members=60, seed=5,
                     sensing_delay=0, memory=10, specialisation=0.5, restructure_cost=30,
                     cadence={"structure": 10_000}).run(40)
    skills, home = model.skills.copy(), model.home.copy()
    model.onboarding[:] = 0
    planning.structure(model)
    moved = np.flatnonzero(model.home != home)
    assert len(moved) > 0 and model.moves == len(moved)
    np.testing.assert_array_equal(model.skills, skills)  # nobody is re-trained for free
    gap = np.clip(1.0 - skills[moved, model.home[moved]], 0.0, 1.0 - SKILL_FLOOR) / (1.0 - SKILL_FLOOR)
    np.testing.assert_array_equal(model.onboarding[moved], np.round(30 * gap).astype(int))
    assert np.all(model.onboarding[np.setdiff1d(np.arange(60), moved)] == 0)
    assert model.onboarding[moved].max() > 0
    # Each move takes the donor department's member most skilled in the receiving work.
    for i in moved:
        stayed = np.flatnonzero((home == home[i]) & (model.home == home[i]))
        assert np.all(skills[stayed, model.home[i]] <= skills[i, model.home[i]])
