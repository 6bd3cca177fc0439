"""Analysis of sweep results: tables against hand computations, sensitivity indices, and the report."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from orgsim import analysis
from orgsim import recovery as twins
from orgsim.cli import main
from orgsim.intervals import measure_interval
from orgsim.metrics import mean_ci
from orgsim.scenario import validate_scenario
from orgsim.sweep import PARTS, run_sweep

BASE = {
    "run": {"ticks": 80, "seeds": 3, "members": 20, "warmup": 10},
    "environment": {"arrival_rate": 2.0, "shocks": [{"tick": 30, "layer": "needs"}, {"tick": 55, "layer": "rules"}]},
    "organisations": {"siloed": {"coupling": 1.0}, "responsive": {"preset": "responsive"}},
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    """A 3 x 2 grid over turbulence and the silo'd organisation's coupling, with two shocks."""
    scenario = validate_scenario({**BASE, "description": "Small grid?", "sweep": {"parameters": {
        "environment.turbulence": {"range": [0.0, 1.0], "steps": 3},
        "organisations.siloed.coupling": {"values": [0.5, 1.0]},
    }}})
    out = tmp_path_factory.mktemp("grid")
    run_sweep(scenario, out, workers=2, timeseries=True, source="grid.toml")
    return out


def _sampled(tmp_path_factory, sampling: str, samples: int) -> Path:
    """One organisation; a sampled sweep over turbulence and a parameter that cannot matter (the size of
    random volume shocks that never happen)."""
    scenario = validate_scenario({
        "run": {**BASE["run"], "seeds": 1},
        "environment": {"arrival_rate": 2.0,
                        "layers": {"volume": {"drift": 0, "shock_rate": 0, "shock_magnitude": 0.5}}},
        "organisations": {"hybrid": {"coupling": 0.5}},
        "sweep": {"sampling": sampling, "samples": samples, "parameters": {
            "environment.turbulence": {"range": [0.0, 1.0]},
            "environment.layers.volume.shock_magnitude": {"range": [0.1, 0.9]},
        }},
    })
    out = tmp_path_factory.mktemp(sampling)
    run_sweep(scenario, out, workers=2)
    return out


def test_summary_is_mean_and_the_interval_of_its_range_per_point_and_organisation(grid):
    runs = analysis.load_runs(grid)
    table = analysis.summary(runs)
    measures = [c for c in runs.columns if c.startswith("mean_") or c in ("total_value_delivered", "shocks")]
    assert set(table.measure) == set(measures)  # no recovery columns: they are analysis.adaptation's
    assert len(table) == 6 * 2 * len(measures)
    row = table[(table.point == 4) & (table.organisation == "responsive") & (table.measure == "mean_lead_time")]
    sel = runs[(runs.point == 4) & (runs.organisation == "responsive")].mean_lead_time
    expected = measure_interval("mean_lead_time", sel)
    assert tuple(row[["estimate", "ci_low", "ci_high", "n"]].iloc[0]) == pytest.approx(
        (expected.estimate, expected.low, expected.high, expected.n), rel=1e-9)
    assert row.interval.iloc[0] == expected.method == "BCa bootstrap"
    assert row["environment.turbulence"].iloc[0] == 1.0 and row["organisations.siloed.coupling"].iloc[0] == 0.5
    defined = table.dropna(subset=["ci_low"])
    assert (defined.ci_low >= 0).all()  # every measure here is >= 0, and so is every interval


def test_crossover_is_the_paired_difference_by_seed(grid):
    runs = analysis.load_runs(grid)
    table = analysis.crossover(runs)
    assert list(table.columns[:4]) == ["environment.turbulence", "organisations.siloed.coupling",
                                       "responsive", "siloed"]
    assert len(table) == 6
    at = runs[(runs["environment.turbulence"] == 0.5) & (runs["organisations.siloed.coupling"] == 1.0)]
    wide = at.pivot(index="seed", columns="organisation", values="mean_value_delivered")
    row = table[(table["environment.turbulence"] == 0.5) & (table["organisations.siloed.coupling"] == 1.0)].iloc[0]
    expected = mean_ci(wide.responsive - wide.siloed)
    assert (row.difference, row.ci_low, row.ci_high, row.n) == pytest.approx(expected, rel=1e-12)
    assert row.winner == ("responsive" if row.ci_low > 0 else "siloed" if row.ci_high < 0 else "neither")
    one = analysis.crossover(runs, x="environment.turbulence", y=None, a="siloed", b="responsive")
    assert list(one.columns[:3]) == ["environment.turbulence", "organisations.siloed.coupling", "siloed"]


def test_crossings_interpolate_where_the_difference_changes_sign():
    table = pd.DataFrame({"x": [0.0, 0.5, 1.0, 0.0, 0.5, 1.0], "y": [1, 1, 1, 2, 2, 2], "a": 0.0, "b": 0.0,
                          "difference": [-2.0, -1.0, 3.0, -4.0, -3.0, -1.0], "ci_low": 0.0, "ci_high": 0.0,
                          "n": 3, "winner": "neither"})
    where = analysis.crossings(table)
    assert list(where.columns) == ["y", "x at crossing", "direction"]
    assert where.values.tolist() == [[1, 0.625, "b to a"]]


def test_adaptation_per_layer_is_kaplan_meier_against_the_twin(grid):
    runs = analysis.load_runs(grid)
    table = analysis.adaptation(runs)
    # Only the scheduled shocks have twins: random ones at high turbulence are in both runs.
    assert set(table.layer) == {"needs", "rules"} and set(table.organisation) == {"siloed", "responsive"}
    row = table[(table.organisation == "siloed") & (table.layer == "rules")].iloc[0]
    assert row.shocks == 18 == row.not_hit + row.recovered + row.censored  # 6 points x 3 seeds, one rules shock
    long = twins.from_columns(runs[runs.organisation == "siloed"])
    sel = long[(long.layer == "rules") & (long.measure == "value_delivered") & (long.outcome != "not hit")]
    expected = twins.km_median(sel.time, sel.censored)
    assert (row["median"], row.ci_low, row.ci_high) == (expected.median, expected.ci_low, expected.ci_high)
    assert row.depth_ci_low >= 0 and row.depth_interval.endswith("bootstrap")


@pytest.mark.parametrize(("sampling", "samples"), [("sobol", 8), ("morris", 4)])
def test_sensitivity_finds_the_parameter_that_matters(sampling, samples, tmp_path_factory):
    folder = _sampled(tmp_path_factory, sampling, samples)
    table = analysis.sensitivity(analysis.load_runs(folder), analysis.load_scenario(folder))
    table = table.set_index("parameter")
    dead, live = table.loc["environment.layers.volume.shock_magnitude"], table.loc["environment.turbulence"]
    if sampling == "sobol":
        assert list(table.columns) == ["organisation", "S1", "S1_conf", "ST", "ST_conf"]
        assert dead.S1 == 0 and dead.ST == 0 and live.ST > 0.1
    else:
        assert list(table.columns) == ["organisation", "mu", "mu_star", "mu_star_conf", "sigma"]
        assert dead.mu_star == 0 and dead.sigma == 0 and live.mu_star > 0.1
    written = analysis.write_report(folder)
    assert {p.name for p in written} >= {"summary.csv", "sensitivity.csv", "sensitivity.png", "report.md"}
    assert "crossover.csv" not in {p.name for p in written}  # one organisation: nothing to cross


def test_report_writes_every_file_and_links_them(grid, capsys):
    assert main(["report", str(grid)]) == 0
    out = grid / "report"
    expected = {"summary.csv", "crossover.csv", "crossings.csv", "crossover_map.png", "value_delivered.png",
                "adaptation.csv", "adaptation.png", "report.md"} | DISCOVERY
    assert {p.name for p in out.iterdir()} == expected
    assert capsys.readouterr().out.startswith(f"wrote {len(expected)} files to {out}")
    report = (out / "report.md").read_text()
    linked = set(re.findall(r"\]\(([^)]+)\)", report))
    assert linked == expected - {"report.md"}
    assert report.startswith("# Small grid?") and "36 of 36 runs" in report
    for png in out.glob("*.png"):
        height, width, _ = matplotlib.image.imread(png).shape
        assert width >= 1000 and height >= 600
    assert pd.read_csv(out / "crossover.csv").shape == (6, 9)


#: Files of orgsim.discovery's sections of a report with swept parameters and two organisations.
DISCOVERY = {"prim_trajectory.csv", "prim_box.csv", "prim_tradeoff.png", "prim_box.png", "cart_rules.txt",
             "cart_leaves.csv", "cart_tree.png", "feature_scores.csv", "feature_scores.png", "regret.csv",
             "regret.png"}


def test_figures_label_axes_with_units(grid):
    runs = analysis.load_runs(grid)
    fig = analysis.plot_crossover_map(analysis.crossover(runs))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "turbulence (index 0-1)" and ax.get_ylabel() == "siloed: coupling (index 0-1)"
    assert "value units / tick" in fig.axes[1].get_ylabel()
    fig = analysis.plot_adaptation(analysis.adaptation(runs))
    assert "ticks to recover" in fig.axes[0].get_ylabel()


def test_an_unfinished_sweep_is_reported_as_such(grid, tmp_path):
    runs = analysis.load_runs(grid)
    folder = tmp_path / "half"
    (folder / PARTS).mkdir(parents=True)
    (folder / "manifest.json").write_bytes((grid / "manifest.json").read_bytes())
    runs.iloc[:20].to_parquet(folder / PARTS / "part-0000000-a.parquet", index=False)
    pd.testing.assert_frame_equal(analysis.load_runs(folder), runs.iloc[:20])
    analysis.write_report(folder, tmp_path / "report")
    assert "**The sweep is not finished**" in (tmp_path / "report" / "report.md").read_text()


def test_timeseries_load_lazily_with_filters(grid):
    series = analysis.load_timeseries(grid, filters=[("organisation", "==", "siloed"), ("seed", "==", 1)],
                                      columns=["run_id", "tick", "value_delivered"])
    assert len(series) == 6 * 80 and series.run_id.nunique() == 6
    assert np.all(series.groupby("run_id").tick.max() == 79)


@pytest.mark.parametrize(("sweep", "expected"), [
    (None, {"crossover.csv", "regret.csv", "regret.png"}),
    ({"parameters": {"environment.turbulence": {"values": [0.0, 1.0]}}},
     {"crossover.csv", "crossings.csv", "crossover.png", "value_delivered.png", "feature_scores.csv",
      "feature_scores.png", "regret.csv", "regret.png"}),
], ids=["one-point", "one-parameter"])
def test_report_files_follow_the_design(sweep, expected, tmp_path):
    scenario = validate_scenario({**BASE, "run": {**BASE["run"], "seeds": 2}, "sweep": sweep})
    run_sweep(scenario, tmp_path, workers=1)
    written = {p.name for p in analysis.write_report(tmp_path, tmp_path / "report")}
    # PRIM and CART run only where the condition (responsive beats siloed) holds in some worlds and not others
    discovered = {name for name in DISCOVERY if name.startswith(("prim_", "cart_"))}
    assert discovered <= written or not discovered & written
    assert written - discovered == {"summary.csv", "adaptation.csv", "adaptation.png", "report.md"} | expected
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## responsive versus siloed" in report


def test_report_on_a_folder_without_results_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (f"orgsim: error: {tmp_path / 'nowhere' / 'manifest.json'}: no such file; "
                    f"is {tmp_path / 'nowhere'} the --out folder of a sweep?")
