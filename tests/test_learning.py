"""Know-how (orgsim.learning): learning by doing, forgetting, transfer and scouting, in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.learning import SKILL_FLOOR, group_best, scouting, update_skills


def test_learning_by_doing_and_forgetting_in_closed_form():
    skills = np.array([[0.5, 0.5]])
    practice = np.array([[1.0, 0.0]])
    after = update_skills(skills, practice, np.array([True]), learning_rate=0.1, forgetting_rate=0.2,
                          transfer=0.0, best=skills, transfer_mask=np.zeros_like(skills))
    # Worked full time: +0.1 x (1 - 0.5); not used: -0.2 x (0.5 - floor).
    assert after[0, 0] == pytest.approx(0.55)
    assert after[0, 1] == pytest.approx(0.5 - 0.2 * (0.5 - SKILL_FLOOR))


def test_members_onboarding_neither_learn_nor_forget():
    skills = np.array([[0.5, 0.5]])
    after = update_skills(skills, np.array([[1.0, 0.0]]), np.array([False]), 0.1, 0.2, 0.0, skills,
                          np.zeros_like(skills))
    np.testing.assert_array_equal(after, skills)


def test_knowledge_transfer_moves_towards_the_groups_best_in_what_it_works_on():
    skills = np.array([[0.9, 0.2], [0.3, 0.8], [0.1, 0.1]])
    group = np.array([7, 7, -1])
    best = group_best(skills, group)
    np.testing.assert_array_equal(best[:2], [[0.9, 0.8], [0.9, 0.8]])
    np.testing.assert_array_equal(best[2], skills[2])  # no group: its own
    mask = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])  # the team works on capability 0 only
    after = update_skills(skills, np.zeros_like(skills), np.ones(3, bool), 0.0, 0.0, 0.5, best, mask)
    assert after[1, 0] == pytest.approx(0.3 + 0.5 * (0.9 - 0.3))
    assert after[1, 1] == pytest.approx(0.8)  # not worked on by the team: no transfer
    assert after[0, 0] == pytest.approx(0.9)  # the best learns nothing from the others


def test_scouts_go_to_the_frontier_target_and_are_the_members_furthest_along():
    skills = np.array([[0.05, 0.3, 0.05], [0.05, 0.1, 0.05], [0.05, 0.2, 0.05], [0.9, 0.05, 0.05]])
    home = np.zeros(4, dtype=int)
    adjacency = np.ones((3, 3)) - np.eye(3)
    out = scouting(skills, home, adjacency, targets=np.array([1]), n_scouts=2)
    assert out[:, 1].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert out.sum() == 2
    # Members who already cover a target are marked negative by the model and never scout it.
    covered = np.where(skills >= 0.25, -1.0, skills)
    out = scouting(covered, home, adjacency, targets=np.array([1]), n_scouts=1)
    assert out[:, 1].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_no_scouts_no_exploration():
    skills = np.full((3, 3), 0.3)
    out = scouting(skills, np.zeros(3, dtype=int), np.ones((3, 3)), np.array([0]), n_scouts=0)
    assert not out.any()
