"""The workshop notebooks' helpers (orgsim.workshop): sentences that say what the numbers say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orgsim import workshop as ws
from orgsim.design import RESPONSIVE, SILOED
from orgsim.metrics import mean_ci


def test_who_wins_states_the_paired_difference_and_whether_it_is_firm():
    firm = pd.DataFrame({"siloed": [10.0, 11.0, 12.0, 10.5], "responsive": [12.0, 13.1, 13.9, 12.6]})
    mean, low, high, _ = mean_ci(firm.responsive - firm.siloed)
    base = firm.siloed.mean()
    assert ws.who_wins(firm, "Stable") == (f"Stable: the responsive organisation delivers {mean / base:.0%} more "
                                          f"value (95 % CI {low / base:.0%} to {high / base:.0%})")
    loose = pd.DataFrame({"siloed": [10.0, 12.0, 10.0], "responsive": [11.0, 10.0, 10.5]})
    assert ws.who_wins(loose, "Noisy").startswith("Noisy: the machine (silo'd) organisation delivers")
    assert ws.who_wins(loose, "Noisy").endswith("(more in 1 of 3 runs; not yet firm)")


def test_crossing_interpolates_where_the_difference_turns_positive():
    rows = [{"turbulence": t, "organisation": "difference", "mean": m, "low": m - 1, "high": m + 1}
            for t, m in [(0.0, -3.0), (0.5, -1.0), (1.0, 3.0)]]
    curve = pd.DataFrame(rows)
    assert ws.crossing(curve) == pytest.approx(0.625)
    assert ws.crossover_sentence(curve) == ("The machine wins below turbulence 0.62; "
                                            "the responsive organisation wins above")
    never = curve.assign(mean=[-3.0, -1.0, -0.5])
    assert ws.crossing(never) is None
    assert ws.crossover_sentence(never) == "The machine wins at every turbulence level tested"


def test_levers_table_lists_only_the_levers_that_differ():
    table = ws.levers(SILOED, RESPONSIVE)
    assert table.loc["fluidity"].tolist() == ["0.0", "1.0"]
    assert table.loc["re-plan structure every (days)"].tolist() == [str(SILOED.cadence.structure),
                                                                     str(RESPONSIVE.cadence.structure)]
    assert "handoff_delay" not in table.index  # the same in both presets
    assert (table.iloc[:, 0] != table.iloc[:, 1]).all()


def test_a_small_run_gives_per_seed_tables_and_a_why_table():
    result = ws.run({"regime": "clear"}, ticks=80, seeds=2)
    wide = ws.per_seed(result)
    assert list(wide.index) == [0, 1] and set(wide.columns) == {"siloed", "responsive"}
    window = ws.per_seed_window(result, 60, 80)
    ts = result.timeseries
    manual = ts[(ts.organisation == "siloed") & (ts.seed == 1) & (ts.tick >= 60)].value_delivered.mean()
    assert window.loc[1, "siloed"] == pytest.approx(manual)
    table = ws.why(result)
    assert list(table.columns) == ["machine (silo'd)", "responsive"]
    assert "failure demand (share of arriving demand)" in table.index
    assert np.all(table.map(lambda cell: "[" in cell))


def test_calendar_and_reach_of_each_layer_shock():
    from orgsim import workshop_layers as layers

    table = layers.calendar()
    assert table.loc["structure"].tolist() == [f"{SILOED.cadence.structure} (quarterly)",
                                               f"{RESPONSIVE.cadence.structure} (fortnightly)"]
    assert table.loc["memory (days looked back)"].tolist() == [str(SILOED.memory), str(RESPONSIVE.memory)]
    # A needs shock of 0.8 moves 80 % of the way to a new mix: at most 80 % of arrivals change type.
    assert 0.1 < layers.shock_reach("needs", 0.8, worlds=3) <= 0.8
    assert layers.shock_reach("needs", 0.2, worlds=3) < layers.shock_reach("needs", 0.8, worlds=3)


def test_realignment_of_a_shocked_run_and_its_days_in_words():
    from orgsim import workshop_layers as layers

    result = ws.run({"regime": "clear", "shocks": [{"tick": layers.SHOCK_DAY, "layer": "needs", "magnitude": 0.8}]},
                    ticks=160, seeds=2)
    speed = layers.realignment(result, "needs")
    assert len(speed) == 4 and set(speed.organisation) == {"siloed", "responsive"}
    assert (speed.days >= 0).all() and speed.censored.dtype == bool
    stuck = speed.assign(censored=True)
    assert layers.days_text(stuck, "needs", "siloed") == f"> {layers.TICKS - layers.SHOCK_DAY}"
    free = speed.assign(censored=False, days=[3.0, 5.0, 7.0, 9.0])
    assert layers.days_text(free, "needs", free.organisation.iloc[0]) == f"{free.days.iloc[:2].median():.0f}"
