"""Team assembly (orgsim.teams): the rules on hand-built cases, and what they do inside a running model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orgsim.design import RESPONSIVE
from orgsim.environment import Arrivals
from orgsim.intake import intake
from orgsim.model import OrgModel, skill_profiles
from orgsim.teams import NO_TEAM, cover_bits, leavers, recruit, start_alone, waiting, work_bits

COVER = 0.5
ROOT = Path(__file__).resolve().parents[1]


def _skills(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=float)


def test_cover_and_work_bits():
    skills = _skills([0.9, 0.5, 0.1], [0.2, 0.49, 0.95])
    assert list(cover_bits(skills, COVER)) == [0b011, 0b100]
    assert list(work_bits(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0]]))) == [0b110, 0]


def test_a_t_shaped_member_covers_two_capabilities_so_the_team_stays_small():
    # Member 0 covers capabilities 0 and 1; members 1 and 2 are specialists in 0 and in 1.
    skills = _skills([0.8, 0.6, 0.05], [0.95, 0.05, 0.05], [0.05, 0.95, 0.05])
    cover = cover_bits(skills, COVER)
    members, demands = recruit(cover, skills.sum(axis=1), np.ones(3, bool), np.array([0b011]))
    assert list(members) == [0] and list(demands) == [0]


def test_specialists_make_a_bigger_team():
    skills = _skills([0.95, 0.05, 0.05], [0.05, 0.95, 0.05], [0.05, 0.05, 0.95])
    cover = cover_bits(skills, COVER)
    members, demands = recruit(cover, skills.sum(axis=1), np.ones(3, bool), np.array([0b011]))
    assert sorted(members) == [0, 1] and list(demands) == [0, 0]


def test_the_oldest_demand_gets_the_scarce_member_and_the_next_takes_the_second_best():
    skills = _skills([0.95, 0.05], [0.6, 0.05])
    cover = cover_bits(skills, COVER)
    # Both demands need capability 0; both members are of one kind, the more skilled goes first.
    members, demands = recruit(cover, skills.sum(axis=1), np.ones(2, bool), np.array([0b01, 0b01]))
    assert dict(zip(demands.tolist(), members.tolist(), strict=True)) == {0: 0, 1: 1}


def test_nobody_is_recruited_who_covers_nothing_needed():
    skills = _skills([0.95, 0.05, 0.05])
    cover = cover_bits(skills, COVER)
    members, _ = recruit(cover, skills.sum(axis=1), np.ones(1, bool), np.array([0b110]))
    assert len(members) == 0
    # ... but a demand with nobody starts with the member most skilled in its remaining work.
    members, demands = start_alone(_skills([0.1, 0.3, 0.2], [0.2, 0.1, 0.1]), np.ones(2, bool),
                                   np.array([[0.0, 1.0, 1.0]]))
    assert list(members) == [0] and list(demands) == [0]


def test_leaving_rules():
    # Demands 10 (team stream, work left in capability 1 only) and 11 (handed to a gate, not a team's).
    uid = np.array([10, 11])
    left = np.array([0b010, 0b001])
    is_team = np.array([True, False])
    cover = np.array([0b001, 0b010, 0b001, 0b001])
    team = np.array([10, 10, 11, 12])
    out = leavers(team, cover, uid, left, is_team, np.array([0.1, 0.9, 0.0, 0.0]))
    # Member 0 covers nothing left and a team-mate does: it leaves; member 1 stays; members 2 and 3's
    # demands are gone from the team stream.
    assert out.tolist() == [True, False, True, True]
    # The last member stays, even covering nothing left: the most skilled in the remaining work.
    out = leavers(np.array([10, 10, NO_TEAM]), np.array([0b001, 0b001, 0b010]), uid, left, is_team,
                  np.array([0.2, 0.4, 0.0]))
    assert out.tolist() == [True, False, False]
    # ... but only once its demand has waited `patience` ticks for cover; before that it leaves too.
    for waited, expected in (([True, False], [True, False, False]), ([False, False], [True, True, False])):
        out = leavers(np.array([10, 10, NO_TEAM]), np.array([0b001, 0b001, 0b010]), uid, left, is_team,
                      np.array([0.2, 0.4, 0.0]), waited=np.array(waited))
        assert out.tolist() == expected


def test_waiting_counts_ticks_without_cover():
    stalled = np.array([0, 3, 7, 2])
    asking = np.array([True, True, True, False])  # the last is not ready: its count stays
    covered = np.array([False, False, True, False])
    assert waiting(stalled, asking, covered).tolist() == [1, 4, 0, 2]


def _lonely_non_coverers(model: OrgModel) -> tuple[np.ndarray, np.ndarray]:
    """Rows of demands whose team-mates all cover none of the team work left, and each row's headcount."""
    book = model.demands
    members = np.flatnonzero(model.team >= 0)
    rows = book.rows(model.team[members])
    left = model._team_work(book.remaining[rows]) > 0
    covers = ((model.skills[members] >= model.design.team_cover) & left).any(axis=1)
    any_cover = np.zeros(len(book), dtype=bool)
    any_cover[rows[covers]] = True
    staffed = np.bincount(rows, minlength=len(book))
    return np.flatnonzero((staffed > 0) & ~any_cover), staffed


@pytest.mark.parametrize("patience", [0, 5])
def test_patience_keeps_members_free_for_work_they_cover(patience):
    """A demand nobody covers gets one member who cannot cover it only after waiting ``patience`` ticks."""
    model = OrgModel("responsive", {"regime": "complex", "load": 0.95}, members=40, seed=4, patience=patience,
                     exploration=0.0)
    seen: list[np.ndarray] = []
    assemble = model._assemble

    def checked(t: int) -> float:
        churn = assemble(t)
        stuck, staffed = _lonely_non_coverers(model)
        assert (staffed[stuck] == 1).all()  # never two members who both cover nothing left
        # This tick's assembly already counted this tick: at least patience before it, plus one.
        seen.append(model.demands.stalled[stuck])
        return churn

    model._assemble = checked
    model.run(80)
    waited = np.concatenate(seen)
    assert len(waited) > 0 and (waited >= patience + 1).all(), waited.min()
    # Without patience, members are put on work they do not cover at once; with it, never before 5 ticks.
    assert ((waited < 6).sum() > 0) == (patience == 0)


def test_in_a_running_model_teams_form_change_and_dissolve():
    model = OrgModel("responsive", {"regime": "complex"}, members=40, seed=3)
    memberships = []
    for _ in range(60):
        model.step()
        memberships.append(model.team.copy())
        held = model.team[model.team >= 0]
        # Every member is in at most one team, and only fluid members are in teams.
        assert not (model.team[~model.fluid] >= 0).any()
        assert set(held.tolist()) <= set(model.demands.uid.tolist()) | set(held.tolist())
    ts = model.timeseries()
    assert (ts.teams > 0).all()
    assert ts.team_churn.iloc[10:].mean() > 0.0
    # Some member changes team over the run: teams form around demands and dissolve when done.
    changed = (np.diff(np.array(memberships), axis=0) != 0).any(axis=0)
    assert changed.mean() > 0.5


def test_a_silo_has_no_teams():
    ts = OrgModel("siloed", {"regime": "complex"}, members=40, seed=3).run(40).timeseries()
    assert (ts.teams == 0).all() and (ts.team_size == 0).all() and (ts.coordination_overhead == 0).all()


@pytest.mark.parametrize("specialisation, headcount", [(0.0, 1), (1.0, 2)])
def test_in_a_model_work_on_two_adjacent_capabilities_gets_one_generalist_or_two_specialists(specialisation,
                                                                                              headcount):
    world = {"regime": "clear", "demand_types": 1, "size_spread": 0.0, "arrival_rate": 1e-9,
             "followup_chance": 0.0, "regulated_share": 0.0}
    model = OrgModel("responsive", world, members=12, seed=0, specialisation=specialisation, probing=0.0)
    env, names = model.environment, model.capabilities.names
    template = np.zeros(len(names))
    template[[names.index("design"), names.index("build")]] = 4.0  # neighbours on the ring
    env.work_templates[0] = template
    model.belief_team[0] = template  # the work is known: none of it hidden
    # Half the members are hired into design, half into build.
    homes = np.resize([names.index("design"), names.index("build")], 12)
    model.home[:] = homes
    model.skills[:] = skill_profiles(specialisation, model._adjacency, model.capabilities.frontier_indices)[homes]
    types = np.zeros(2, dtype=np.int64)
    intake(model, Arrivals(types=types, size=np.ones(2), work=env.templates[types], value=np.ones(2)), t=0)
    model._assemble(0)
    staffed = model.team[model.team != NO_TEAM]
    assert np.bincount(staffed - staffed.min()).tolist() == [headcount, headcount]


def _half_done_demands(standardisation: float) -> tuple[OrgModel, np.ndarray]:
    """A responsive run with certain hand-off errors, and the rows of its demands with one capability done
    and work left (at least two)."""
    model = OrgModel("responsive", {"regime": "complex"}, members=30, seed=2, handoff_error=1.0,
                     handoff_delay=3, rework_fraction=0.5, standardisation=standardisation).run(40)
    book = model.demands
    finished = (book.remaining <= 0) & (book.planned > 0)
    rows = np.flatnonzero(finished.any(axis=1) & (book.remaining.sum(axis=1) > 0))
    assert len(rows) >= 2
    return model, rows


def test_a_demand_its_whole_team_left_is_handed_over():
    """work.hand_over: the demand waits handoff_delay ticks; with handoff_error 1 the team's knowledge is
    lost and rework_fraction of the planned work of its largest finished capability comes back."""
    from orgsim.work import hand_over

    model, rows = _half_done_demands(standardisation=0.0)
    book = model.demands
    finished = (book.remaining <= 0) & (book.planned > 0)
    before = book.remaining[rows].copy()
    step = np.argmax(np.where(finished[rows], book.planned[rows], -1.0), axis=1)
    expected = 0.5 * book.planned[rows, step]
    created = hand_over(model, 40, rows)
    assert (book.ready_at[rows] == 43).all()
    assert created == pytest.approx(expected.sum())
    np.testing.assert_allclose(book.remaining[rows, step], before[np.arange(len(rows)), step] + expected)
    other = np.ones_like(before, dtype=bool)
    other[np.arange(len(rows)), step] = False
    np.testing.assert_array_equal(book.remaining[rows][other], before[other])


@pytest.mark.parametrize("specialisation, covered", [(0.0, 3), (RESPONSIVE.specialisation, 1), (1.0, 1)])
def test_how_many_capabilities_a_hire_covers(specialisation, covered):
    """Generalists cover their home and both ring neighbours; the responsive preset's broad hires and
    specialists cover their home only (README, 'What the model contains')."""
    model = OrgModel("responsive", {"regime": "clear"}, members=12, seed=0, specialisation=specialisation)
    counts = np.bitwise_count(cover_bits(model.skills, model.design.team_cover))
    assert counts.tolist() == [covered] * 12


def test_team_routine_grows_with_deliveries_and_cuts_hand_over_errors():
    """Team process (orgsim.work): the team stream's routine in a type grows as teams deliver it; with
    standardisation 1 a fully practised type is handed over without loss even at handoff_error 1."""
    from orgsim.work import hand_over

    model, rows = _half_done_demands(standardisation=1.0)
    assert 0.2 < model.team_routine.max() <= 1.0 and model.team_routine.min() >= 0.0
    model.team_routine[:] = 1.0
    assert hand_over(model, 40, rows) == 0.0


def _profiles(specialisation: float) -> np.ndarray:
    """The hire profiles (home x capability) of the default capabilities at ``specialisation``."""
    model = OrgModel("responsive", {"regime": "clear"}, members=6, seed=0)
    return skill_profiles(specialisation, model._adjacency, model.capabilities.frontier_indices)


def test_odd_quotes_the_generalist_and_specialist_profiles():
    """docs/ODD.md's breadth finding quotes the skills of generalists and specialists at hire."""
    general, special = _profiles(0.0), _profiles(1.0)
    odd = " ".join((ROOT / "docs" / "ODD.md").read_text(encoding="utf-8").split())
    assert (f"home skill {general[1, 1]:g}, both ring neighbours {general[1, 2]:g}, so each covers three "
            f"capabilities) against specialists (home {special[1, 1]:g}, nothing else covered)") in odd


def test_readme_quotes_the_hire_profiles_the_code_makes():
    """README's reading of the results quotes the responsive hire's home and neighbour skills."""
    from orgsim.design import SILOED

    broad, deep = (_profiles(d.specialisation) for d in (RESPONSIVE, SILOED))
    home, neighbour = broad[1, 1], broad[1, 2]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"({home:g} against {deep[1, 1]:g})" in readme
    assert f"a neighbour at {neighbour:g} is below `team_cover`" in readme
    assert neighbour < RESPONSIVE.team_cover


def test_a_type_born_in_a_dead_types_slot_starts_without_routine():
    """Routine is practice with a type's work (orgsim.work): a new type in a reused slot has none, in the
    departments or the team stream; other types keep theirs."""
    model = OrgModel("responsive", {"regime": "clear"}, members=12, seed=0)
    model.routine[:] = 0.7
    model.team_routine[:] = 0.7
    model.environment._bear(1, np.random.default_rng(0), weight=0.0)
    model.step()
    assert (model.routine[:, 1] == 0).all() and model.team_routine[1] == 0
    assert model.team_routine[0] > 0 and (model.routine[:, 0] > 0).all()
