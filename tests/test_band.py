"""The uncertainty band: other seeds with the same settings and shocks, summarised for the page."""

from __future__ import annotations

import threading

import numpy as np

from orgsim.dashboard.band import Band, compute, replayed, run_seed, summarise
from orgsim.dashboard.charts import PANELS, Timeline
from orgsim.dashboard.lockstep import Lockstep
from orgsim.dashboard.settings import Settings

SMALL = Settings().changed(members=30, horizon=120, seed=4)
MEASURES = [p[0] for p in PANELS]


def test_a_seed_replays_the_live_run_bit_for_bit_with_its_shocks():
    live = Lockstep(SMALL)
    live.step(20)
    live.shock("needs", 0.6)
    live.step(15)
    live.shock("rules")
    live.step(5)
    marks = live.shocks()
    assert [m.source for m in replayed(marks)] == ["you", "you"]
    again = run_seed(SMALL, SMALL.seed, marks, live.tick)
    for replay, model in zip(again, live.models, strict=True):
        assert replay.equals(model.timeseries())
    other = run_seed(SMALL, SMALL.seed + 1, marks, live.tick)
    assert len(other[0]) == live.tick and not other[0].equals(again[0])  # another market, as long


def test_band_edges_and_win_counts_come_from_the_seeds_runs():
    timeline = Timeline(SMALL)
    ticks, seeds = 40, [4, 5, 6, 7]
    runs = [run_seed(SMALL, s, (), ticks) for s in seeds]
    band = summarise(runs, seeds, ticks, timeline.line, MEASURES)
    for measure in MEASURES:
        assert band.low[measure].shape == band.high[measure].shape == (2, ticks)
        ok = np.isfinite(band.low[measure])
        assert (band.low[measure][ok] <= band.high[measure][ok]).all()
    # Every seed's value line lies within [min, max] of the seeds, and the band is inside that.
    lines = np.array([[timeline.line("value_delivered", t) for t in pair] for pair in runs])
    assert (band.low["value_delivered"] >= lines.min(axis=0) - 1e-9).all()
    assert (band.high["value_delivered"] <= lines.max(axis=0) + 1e-9).all()
    assert (band.high["value_delivered"] - band.low["value_delivered"]).max() > 0  # seeds differ
    totals = np.array([[t.value_delivered.sum() for t in pair] for pair in runs])
    assert band.left_wins == int((totals[:, 0] > totals[:, 1]).sum())
    assert band.right_wins == int((totals[:, 1] > totals[:, 0]).sum())
    assert band.left_wins + band.right_wins <= len(seeds)


def test_one_seed_band_is_the_live_line_itself():
    live = Lockstep(SMALL)
    live.step(25)
    timeline = Timeline(SMALL)
    band = compute(SMALL, live.shocks(), live.tick, timeline.line, ["value_delivered"], seeds=1)
    for side, model in enumerate(live.models):
        line = timeline.line("value_delivered", model.timeseries())
        np.testing.assert_array_equal(band.low["value_delivered"][side], line)
        np.testing.assert_array_equal(band.high["value_delivered"][side], line)


def test_the_sentence_says_how_many_runs_agree():
    value = np.array([[10.0, 12.0]] * 18 + [[12.0, 10.0]] * 2)
    band = Band(tuple(range(20)), 200, {}, {}, value)
    assert band.sentence(("the silo'd organisation", "the responsive organisation"), "weeks") == (
        "In 18 of 20 runs (other markets, the same shocks), the responsive organisation had delivered more value "
        "after 40 weeks.")
    close = Band(tuple(range(10)), 50, {}, {}, np.array([[1.0, 2.0]] * 6 + [[2.0, 1.0]] * 4))
    assert close.sentence(("A", "B"), "days").endswith("B had delivered more value after 50 days, and A in 4: "
                                                       "too close to call on one run.")


def test_progress_is_reported_and_a_cancelled_band_stops():
    calls = []
    band = compute(SMALL, (), 10, Timeline(SMALL).line, ["value_delivered"], seeds=3,
                   progress=lambda done, n: calls.append((done, n)))
    assert calls == [(1, 3), (2, 3), (3, 3)] and band.seeds == (4, 5, 6)
    stop = threading.Event()
    stop.set()
    assert compute(SMALL, (), 10, Timeline(SMALL).line, ["value_delivered"], seeds=3, cancel=stop) is None


def test_the_axes_grow_to_hold_a_wide_band():
    """A band higher than the lines drawn so far is not clipped: each panel's axis grows to hold it
    (shares stay capped at 100 %), and never shrinks."""
    timeline = Timeline(SMALL)
    before = [ax.get_ylim() for ax in timeline.axes]
    ticks = 30
    low = {m: np.zeros((2, ticks)) for m, _, _ in PANELS}
    high = {m: np.full((2, ticks), 3.0 * max(top for _, top in before)) for m, _, _ in PANELS}
    timeline.show_band(Band(tuple(range(3)), ticks, low, high, np.ones((3, 2))))
    for ax, (measure, _, scale), (_, old_top) in zip(timeline.axes, PANELS, before, strict=True):
        bottom, top = ax.get_ylim()
        if scale == "percent":
            assert top == 1.0
        else:
            assert top >= high[measure].max() > old_top
        assert bottom <= before[timeline.axes.index(ax)][0] + 1e-12
