"""The vectorised engine implements the agents' rules exactly: the per-agent reference gives the same run. Seeded
runs are reproducible bit for bit, and the engine's speed-ups have not changed what it computes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orgsim.model import OrgModel


@pytest.mark.parametrize("design", ["siloed", "responsive", 0.5])
@pytest.mark.parametrize("regime", ["clear", "chaotic"])
def test_reference_and_vectorised_engines_give_the_same_run(design, regime):
    runs = [OrgModel(design, {"regime": regime}, members=30, seed=3, engine=engine).run(150)
            for engine in ("vectorised", "agents")]
    fast, slow = (m.timeseries() for m in runs)
    np.testing.assert_allclose(fast.to_numpy(float), slow.to_numpy(float), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(runs[0].team, runs[1].team)
    np.testing.assert_allclose(runs[0].skills, runs[1].skills, rtol=1e-9)


def test_reference_agrees_in_distribution_over_seeds_with_specialists_in_teams():
    # Bigger teams (specialists) stress the assembly passes; compare the distribution of value delivered.
    values = {engine: [OrgModel("responsive", {"regime": "complex"}, members=24, seed=s, engine=engine,
                                specialisation=1.0).run(80).summary(20)["mean_value_delivered"]
                       for s in range(4)] for engine in ("vectorised", "agents")}
    np.testing.assert_allclose(values["vectorised"], values["agents"], rtol=1e-9)


def test_unknown_engine_is_refused():
    from orgsim.errors import OrgsimError

    with pytest.raises(OrgsimError, match="engine must be"):
        OrgModel("siloed", engine="turbo")


def test_reference_engine_agrees_with_a_gate_and_exploration():
    """Team-to-gate hand-overs and more scouts: the responsive preset with a compliance gate."""
    runs = [OrgModel("responsive", {"regime": "chaotic"}, members=30, seed=3, engine=engine, constraints="gate",
                     exploration=0.1).run(150) for engine in ("vectorised", "agents")]
    fast, slow = (m.timeseries() for m in runs)
    np.testing.assert_allclose(fast.to_numpy(float), slow.to_numpy(float), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(runs[0].team, runs[1].team)
    assert fast.teams.max() > 0 and fast.completed.sum() > 20


@pytest.mark.parametrize("design", ["siloed", "responsive", 0.5])
def test_same_seed_is_bit_identical(design):
    a = OrgModel(design, {"regime": "chaotic"}, members=80, seed=5).run(120).timeseries()
    b = OrgModel(design, {"regime": "chaotic"}, members=80, seed=5).run(120).timeseries()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


#: Summaries of seeded runs, recorded after the last deliberate change of the model's rules (the team stream's
#: routine, team process; before that patience and hand-overs in team assembly, scouts reading the organisation's
#: believed need; before that, commit 6b2d836). Speed-ups
#: reorder no random draw and change no rule, so these stay. A deliberate change of the rules changes
#: them: re-record them then, from the changed code, and say so in the commit.
RECORDED = {
    ("siloed", "complex"): {"total_value_delivered": 5429.874851246193, "mean_work_done": 54.531545670229846,
                            "mean_alignment": 0.8174791558155813, "mean_completed": 6.6866666666666665},
    ("responsive", "complex"): {"total_value_delivered": 6608.513840145666, "mean_work_done": 55.2260054442286,
                                "mean_team_churn": 0.22813333333333333, "mean_completed": 6.553333333333334},
    (0.5, "chaotic"): {"total_value_delivered": 3204.4743849500946, "mean_work_done": 32.966553730628455,
                       "mean_team_churn": 0.10046666666666666, "mean_moves": 0.44},
}


@pytest.mark.parametrize(("design", "regime"), list(RECORDED))
def test_seeded_summary_equals_the_recorded_one(design, regime):
    summary = OrgModel(design, {"regime": regime}, members=100, seed=2026).run(200).summary(50)
    for name, value in RECORDED[(design, regime)].items():
        assert summary[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_members_leave_teams_when_the_book_empties():
    """Edge case of the uid -> row table: every member's demand is gone at once (an empty book)."""
    model = OrgModel("responsive", {"regime": "clear"}, members=30, seed=1).run(20)
    assert (model.team >= 0).any()
    model.demands.keep(np.zeros(len(model.demands), dtype=bool))
    assert len(model.demands) == 0 and (model.demands.rows(model.team) == -1).all()
    model.environment.base_rate = 1e-9  # nothing arrives: the book stays empty through the next tick
    model.step()
    assert (model.team == -1).all() and model.timeseries().wip.iloc[-1] == 0
