"""The dashboard's "why" view: the gap so far attributed to lever groups, in plain words."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from orgsim.attribution import LEVER_GROUPS, Attribution
from orgsim.dashboard import why
from orgsim.dashboard.lockstep import Lockstep
from orgsim.dashboard.settings import Settings

SMALL = Settings().changed(members=30, horizon=100, seed=2)


def test_the_why_of_the_live_run_adds_up_to_its_gap():
    live = Lockstep(SMALL)
    live.step(20)
    live.shock("needs", 0.6)
    live.step(20)
    calls = []
    result = why.compute(SMALL, live.tick, seeds=1, shocks=live.shocks(), progress=lambda k, n: calls.append((k, n)))
    # The all-left and all-right hybrids are the two organisations on screen, replayed bit for bit.
    left, right = (float(m.timeseries().value_delivered.mean()) for m in live.models)
    assert (result.level_a, result.level_b) == (left, right)
    assert (result.a, result.b) == SMALL.names()
    table = result.table.set_index("group")
    groups = why.contributions(result)
    assert list(groups.group) == list(LEVER_GROUPS)
    assert np.isclose(groups.contribution.sum(), right - left)  # Shapley values add up to the gap
    assert np.isclose(table.loc["total", "contribution"], table.iloc[-1].contribution)
    a, b = SMALL.left.design(), SMALL.right.design()
    for group, levers in LEVER_GROUPS.items():  # a group whose levers both designs share explains nothing
        if all(getattr(a, lever) == getattr(b, lever) for lever in levers):
            assert table.loc[group, "contribution"] == 0.0
    assert calls[-1][0] == calls[-1][1] == len(calls) >= 2
    assert why.waterfall_png(result)[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_cancelled_why_stops():
    stop = threading.Event()
    stop.set()
    assert why.compute(SMALL, 10, seeds=1, cancel=stop) is None


def _result(contributions: dict[str, float], level_a: float, ci: tuple[float, float]) -> Attribution:
    rows = [(g, c, c - 1, c + 1, 3, "t") for g, c in contributions.items()]
    total = sum(contributions.values())
    rows += [("total", total, *ci, 3, "t"), ("direct right - left", total, *ci, 3, "t")]
    table = pd.DataFrame(rows, columns=["group", "contribution", "ci_low", "ci_high", "n", "interval"])
    return Attribution("Silo'd", "Responsive", "mean_value_delivered", table, pd.DataFrame(), level_a,
                       level_a + total)


def test_the_sentence_names_the_groups_that_make_the_gap():
    result = _result({"management": 2.0, "structure": 6.0, "hand-offs": -1.0, "learning": 0.0}, 10.0, (5.0, 9.0))
    assert why.sentence(result, "weeks") == (
        "Responsive delivers 35 more value a week than Silo'd; most of the difference comes from how people are "
        "organised (departments or teams formed around demand, specialisation) (+30 a week), then how management "
        "plans and re-plans (how often, how soon it sees a change) (+10); the hand-offs between departments "
        "(waits, errors, rework) works the other way.")
    behind = _result({"structure": -2.0, "exploration": -3.0, "management": -1.0}, 20.0, (-9.0, 1.0))
    assert why.sentence(behind, "days") == (
        "Silo'd delivers 6 more value a day than Responsive; the largest part of the difference comes from time "
        "spent exploring new capabilities (+3 a day), then how people are organised (departments or teams formed "
        "around demand, specialisation) (+2). Over these 3 markets the gap itself is not clear-cut (95 % interval "
        "-9 to +1 a day).")
