"""The workshop notebooks' helpers (orgsim.workshop, workshop_layers, workshop_march): sentences that say
what the numbers say, the quick mode the notebook tests use, and recovery by the same definitions as
orgsim's tables (against the no-shock twin, Kaplan-Meier medians)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from orgsim import attribution, recovery
from orgsim import workshop as ws
from orgsim import workshop_layers as layers
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


TINY = ws.Size(seeds=2, length=0.4, members=30)


def test_a_small_run_gives_per_seed_tables_and_a_why_table():
    result = ws.run({"regime": "clear"}, ticks=80, size=TINY)
    assert result.scenario.run.ticks == 32 and result.scenario.run.members == 30
    wide = ws.per_seed(result)
    assert list(wide.index) == [0, 1] and set(wide.columns) == {"siloed", "responsive"}
    window = ws.per_seed_window(result, 20, 32)
    ts = result.timeseries
    manual = ts[(ts.organisation == "siloed") & (ts.seed == 1) & (ts.tick >= 20)].value_delivered.mean()
    assert window.loc[1, "siloed"] == pytest.approx(manual)
    table = ws.why(result)
    assert list(table.columns) == ["machine (silo'd)", "responsive"]
    assert "failure demand (share of arriving demand)" in table.index
    assert np.all(table.map(lambda cell: "[" in cell))


def test_quick_mode_shrinks_every_run_and_scales_shock_days(monkeypatch):
    monkeypatch.delenv(ws.QUICK, raising=False)
    assert ws.size(5) == ws.Size(seeds=5) and ws.size(5).ticks(500) == 500
    monkeypatch.setenv(ws.QUICK, "0")
    assert not ws.quick()
    monkeypatch.setenv(ws.QUICK, "1")
    small = ws.size(5)
    assert ws.quick() and small.seeds == 2 and small.ticks(500) == 125 and small.members == 30
    sc = ws.scenario(ws.SHOCKED, ticks=500, size=small)
    assert sc.run.ticks == 125 and [s.tick for s in sc.environment.shocks] == [37, 75]
    assert sc.seeds == [0, 1] and sc.run.members == 30
    assert "quick mode" in small.text()


def test_crossover_sentences_per_load():
    rows = [{"load": load, "turbulence": t, "organisation": "difference", "mean": m, "low": m - 1, "high": m + 1}
            for load, ms in [(0.6, [-2.0, 2.0]), (0.95, [-4.0, -1.0])] for t, m in zip([0.0, 1.0], ms, strict=True)]
    curve = pd.DataFrame(rows)
    assert ws.crossover_sentence(curve) == ("load 0.6: The machine wins below turbulence 0.50; the responsive "
                                            "organisation wins above\nload 0.95: The machine wins at every "
                                            "turbulence level tested")
    values = pd.DataFrame({"organisation": ["siloed", "responsive"] * 2, "seed": [0, 0, 1, 1],
                           "mean_value_delivered": [10.0, 12.0, 11.0, 14.0], "turbulence": 0.5, "load": 0.6})
    diff = ws.curve_of(values).set_index("organisation").loc["difference"]
    assert diff["mean"] == pytest.approx(2.5) and diff.load == 0.6


def test_shocked_run_recovery_table_uses_the_twin_and_kaplan_meier():
    result = ws.run(ws.SHOCKED, size=TINY)
    assert ws.shock_windows(result) == [("needs", 60, 120), ("technology", 120, 200)]
    table = ws.recovery_table(result)
    assert table.loc[:, ["not hit", "recovered", "not recovered in time"]].sum(axis=1).eq(2).all()
    rec = result.recovery[(result.recovery.measure == "value_delivered") & (result.recovery.layer == "needs")
                          & (result.recovery.organisation == "siloed")]
    hit = rec[rec.outcome != recovery.NOT_HIT]
    expected = recovery.km_median(hit.time, hit.censored).text(hit.time.max() if len(hit) else None)
    assert table.loc[("needs", "machine (silo'd)"), "median days to recover [95 % CI]"] == expected
    lines = ws.recovery_sentences(result).splitlines()
    assert [line.split(" ")[0] for line in lines] == ["needs", "technology"]
    area = rec.area.mean()
    assert f"{area:.0f}" in lines[0]


def test_layer_recovery_matches_the_twin_recovery_of_orgsims_tables():
    from orgsim.experiment import compare

    runs = layers.layer_recovery(size=TINY, layers=("needs",))
    assert runs.shock_day == 40 and runs.ticks == 160
    env = {**layers.STABLE, "shocks": [{"tick": layers.SHOCK_DAY, "layer": "needs", "magnitude": layers.MAGNITUDE}]}
    reference = compare(ws.scenario(env, None, layers.TICKS, TINY)).recovery
    reference = reference[reference.measure == "value_delivered"].sort_values(["organisation", "seed"])
    mine = runs.records[runs.records.measure == "value_delivered"].sort_values(["organisation", "seed"])
    for key in ("outcome", "time", "depth", "area"):
        assert mine[key].tolist() == pytest.approx(reference[key].tolist(), nan_ok=True) if key != "outcome" \
            else mine[key].tolist() == reference[key].tolist()
    summary = layers.recovery_summary(runs)
    assert summary.loc[:, ["not hit", "recovered", "not recovered by the end"]].sum(axis=1).eq(2).all()


def test_recovery_verdict_and_days_from_known_records():
    runs = layers.layer_recovery(size=ws.Size(seeds=1, length=0.1, members=20), layers=("needs", "technology"))

    def rec(org, layer, time, outcome):
        return {"organisation": org, "seed": 0, "layer": layer, "tick": 10, "measure": "value_delivered",
                "outcome": outcome, "time": time, "censored": outcome == recovery.CENSORED, "hit_tick": 10.0,
                "depth": 1.0, "area": 5.0, "level": 10.0}

    records = pd.DataFrame([rec("siloed", "needs", 50.0, recovery.RECOVERED), rec("responsive", "needs", 12.0,
                            recovery.RECOVERED), rec("siloed", "technology", 30.0, recovery.CENSORED),
                            rec("responsive", "technology", 30.0, recovery.CENSORED)])
    known = replace(runs, records=records)
    assert layers.recovery_verdict(known) == ("Value back sooner: the responsive on needs; "
                                              "neither back by the end on technology")
    assert layers.days_text(known, "needs", "siloed") == "50"
    assert layers.days_text(known, "technology", "siloed") == "> 30"
    missed = replace(runs, records=records.assign(outcome=recovery.NOT_HIT, time=np.nan, censored=False))
    assert layers.days_text(missed, "needs", "siloed") == "not hit"


def test_attribution_of_the_presets_gap_gives_zero_to_levers_they_share():
    gap = ws.attribute(ws.STABLE, ws.Size(seeds=2, length=0.1, members=20), workers=1)
    table = gap.table.set_index("group")
    assert table.loc["hand-offs", "contribution"] == 0.0 and table.loc["learning", "contribution"] == 0.0
    groups = table.loc[list(attribution.LEVER_GROUPS), "contribution"]
    assert groups.sum() == pytest.approx(table.loc["total", "contribution"])
    sentence = ws.attribution_sentence(gap)
    assert sentence.startswith(f"Responsive minus machine: {table.loc['total', 'contribution']:+.1f}")
    assert "hand-offs" not in sentence and ws.GROUP_WORDS["management"] in sentence


def test_march_sentences_and_quick_replications(monkeypatch):
    from orgsim import workshop_march as march

    table = pd.DataFrame([[0.9, 0.8], [0.7, 0.75]], index=[0.1, 0.5], columns=[0.1, 0.9])
    assert march.slow_socialisation_sentence(table) == "Slow socialisation ends with more knowledge only at p2 = [0.1]"
    every = "Slow socialisation ends with more knowledge at every p2"
    assert march.slow_socialisation_sentence(table.iloc[:1]) == every
    monkeypatch.setenv(ws.QUICK, "1")
    assert march.reps(200) == 40
    monkeypatch.delenv(ws.QUICK)
    assert march.reps(200) == 200
    variety = march.deviance(0.9, reps=2, periods=15)
    assert variety.shape == (2, 15) and variety.min() >= 0 and variety[:, -1].mean() < variety[:, 0].mean()


def _guide_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "workshop.py"
    spec = importlib.util.spec_from_file_location("workshop_guide", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_block_is_what_the_dry_run_script_writes():
    import nbformat.v4 as v4

    guide = _guide_script()
    cells = [v4.new_markdown_cell("## 2. A stable market\nNo fashions."), v4.new_markdown_cell("> **Predict.** Who?"),
             v4.new_code_cell("stable = ws.run(ws.STABLE, size=size)"),
             v4.new_markdown_cell("**Exercise 2. Hybrids.**"),
             v4.new_code_cell("# Suggested answer to exercise 2")]
    assert guide.heading(cells, 2) == "2. A stable market" and guide.heading(cells, 4) == "Exercise 2. Hybrids"
    text = guide.block({"01-the-argument.ipynb": (90.0, [("2. A stable market", "Stable market: the ...")])}, True)
    assert "| `01-the-argument.ipynb` | 1.5 min |" in text and "```\nStable market: the ...\n```" in text
    doc = guide.GUIDE.read_text()
    between = doc.split(guide.START)[1].split(guide.END)[0]
    assert "Generated by `docs/scripts/workshop.py`" in between, "run docs/scripts/workshop.py"
    assert all(f"| `{name}` |" in between for name in guide.NOTEBOOKS)
