"""Scenario discovery and regret on synthetic runs with a known answer, and the report's new files."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from orgsim import discovery
from orgsim.analysis import VALUE
from orgsim.cli import main

A, B, C = "environment.turbulence", "environment.noise", "organisations.siloed.coupling"


def synthetic_runs(values: dict[str, np.ndarray], params: dict[str, np.ndarray], seeds: int = 1) -> pd.DataFrame:
    """A runs table as orgsim sweep writes it: one world per row of ``params`` and seed, ``values[org]`` of
    mean_value_delivered per world (in point-then-seed order)."""
    n = len(next(iter(params.values())))
    rows = []
    for p in range(n):
        for s in range(seeds):
            for org, v in values.items():
                rows.append({"run": len(rows), "run_id": f"p{p:04d}-s{s}-{org}", "point": p, "organisation": org,
                             "seed": s, **{k: float(x[p]) for k, x in params.items()},
                             VALUE: float(v[p * seeds + s])})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    """Responsive beats siloed exactly where turbulence > 0.6 and noise < 0.3 (coupling plays no part)."""
    rng = np.random.default_rng(7)
    n = 1500
    params = {A: rng.uniform(0, 1, n), B: rng.uniform(0, 1, n), C: rng.uniform(0, 1, n)}
    inside = (params[A] > 0.6) & (params[B] < 0.3)
    siloed = 10 + rng.uniform(0, 1, n)
    responsive = siloed + np.where(inside, 1.0, -1.0) * rng.uniform(0.1, 2.0, n)
    return synthetic_runs({"siloed": siloed, "responsive": responsive}, params)


def test_prim_finds_the_planted_box(planted):
    found = discovery.discover(planted, "responsive - siloed > 0")
    box = found.box.set_index("parameter")
    assert set(box.index) == {A, B}  # coupling is not restricted
    assert box.loc[A, "lower"] == pytest.approx(0.6, abs=0.03) and box.loc[A, "upper"] == pytest.approx(1, abs=0.01)
    assert box.loc[B, "upper"] == pytest.approx(0.3, abs=0.03) and box.loc[B, "lower"] == pytest.approx(0, abs=0.01)
    assert box.loc[A, "qp_lower"] < 1e-10 and box.loc[B, "qp_upper"] < 1e-10
    assert np.isnan(box.loc[A, "qp_upper"]) and np.isnan(box.loc[B, "qp_lower"])
    assert found.density >= 0.8 and found.coverage >= 0.9
    t = found.trajectory
    inside = ((planted[A] > 0.6) & (planted[B] < 0.3))[planted.organisation == "siloed"]
    assert (t.loc[0, "n"], t.loc[0, "k"], t.loc[0, "coverage"]) == (1500, inside.sum(), 1.0)
    assert t.loc[0, "density"] == pytest.approx(inside.mean())
    assert np.all(np.diff(t.coverage) <= 0) and t.density.iloc[-1] > t.density.iloc[0]
    assert t.coverage.to_numpy() == pytest.approx(t.k / inside.sum())


def test_cart_separates_the_planted_box(planted):
    leaves, rules, tree = discovery.cart(planted, "responsive - siloed > 0")
    assert leaves.n.sum() == 1500 and leaves.coverage.sum() == pytest.approx(1.0)
    (hit,) = leaves[leaves.predicts].itertuples()
    assert hit.density == 1.0 and hit.coverage == 1.0
    cuts = {name: float(cut) for name, op, cut in re.findall(r"(\S+) ([<>]=?) ([\d.]+)", hit.rule)}
    assert cuts[A] == pytest.approx(0.6, abs=0.01) and cuts[B] == pytest.approx(0.3, abs=0.01)
    assert C not in hit.rule and "class: True" in rules and A in rules
    assert set(leaves[~leaves.predicts].density) == {0.0}


def test_feature_scoring_ranks_the_planted_driver_first():
    rng = np.random.default_rng(3)
    n = 400
    params = {A: rng.uniform(0, 1, n), B: rng.uniform(0, 1, n), C: rng.uniform(0, 1, n)}
    driven = {"siloed": 5 * params[B] + rng.normal(0, 0.05, n), "responsive": 5 * params[C] + 0.5 * params[A]}
    table = discovery.feature_scores(synthetic_runs(driven, params), [VALUE], where="responsive > 2.5")
    table = table.set_index("parameter")
    assert list(table.columns) == [f"siloed: {VALUE}", f"responsive: {VALUE}", "responsive > 2.5"]
    assert table[f"siloed: {VALUE}"].idxmax() == B and table[f"siloed: {VALUE}"][B] > 0.8
    assert table[f"responsive: {VALUE}"].sort_values().index.tolist() == [B, A, C]
    assert table["responsive > 2.5"].idxmax() == C
    assert table.sum().to_numpy() == pytest.approx(1.0)
    again = discovery.feature_scores(synthetic_runs(driven, params), [VALUE], where="responsive > 2.5")
    pd.testing.assert_frame_equal(again, table.reset_index())  # seeded


def test_regret_of_a_dominated_design_is_its_margin():
    """Best is always 'lead'; 'lagging' is lead - 2.5 everywhere; 'varied' is lead - 1 - u, 0 <= u <= 1.25."""
    rng = np.random.default_rng(11)
    n, seeds = 50, 4
    lead = rng.integers(0, 400, n * seeds) / 4  # quarters: every difference below is exact
    u = rng.integers(0, 6, n * seeds) / 4
    values = {"lead": lead, "varied": lead - 1 - u, "lagging": lead - 2.5}
    runs = synthetic_runs(values, {A: np.linspace(0, 1, n)}, seeds=seeds)
    per_world = discovery.regret(runs)
    assert len(per_world) == 3 * n * seeds
    by = per_world.groupby("organisation").regret
    assert set(by.get_group("lagging")) == {2.5} and set(by.get_group("lead")) == {0.0}
    assert by.get_group("varied").to_numpy() == pytest.approx(1 + u)
    table = discovery.robustness(runs).set_index("organisation")
    assert list(table.index) == ["lead", "varied", "lagging"]  # by maximum regret
    assert table.max_regret.to_dict() == {"lead": 0.0, "lagging": 2.5, "varied": 1 + u.max()}
    assert table.minimax.to_dict() == {"lead": True, "lagging": False, "varied": False}
    assert table.loc["lagging", "mean"] == pytest.approx(lead.mean() - 2.5)
    assert table.loc["lead", "p10"] == np.percentile(lead, 10) and table.loc["lead", "share_best"] == 1.0
    assert set(table.worlds) == {n * seeds}
    # lower is better: the lagging design is now best everywhere, and the lead one regrets 2.5
    low = discovery.robustness(runs, higher_is_better=False).set_index("organisation")
    assert low.max_regret.to_dict() == {"lagging": 0.0, "lead": 2.5, "varied": 1.5 - u.min()}


def test_discovery_refuses_a_condition_that_is_always_or_never_true(planted):
    with pytest.raises(ValueError, match=r"holds in none of the 1500 worlds"):
        discovery.discover(planted, "responsive > 1000")
    with pytest.raises(ValueError, match=r"--measure 'nope': not a measure of these runs; use one of: "):
        discovery.worlds(planted, "nope")


def test_the_command_line_does_not_import_the_discovery_libraries():
    code = ("import sys, orgsim.cli, orgsim.analysis; orgsim.cli.build_parser(); "
            "print(sorted(m for m in ('ema_workbench', 'sklearn', 'orgsim.discovery') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    from orgsim.scenario import validate_scenario
    from orgsim.sweep import run_sweep

    scenario = validate_scenario({
        "run": {"ticks": 60, "seeds": 2, "members": 20, "warmup": 10},
        "environment": {"arrival_rate": 2.0},
        "organisations": {"siloed": {"coupling": 1.0}, "responsive": {"preset": "responsive"}},
        "sweep": {"sampling": "lhs", "samples": 8, "parameters": {
            "environment.turbulence": {"range": [0.0, 1.0]}, "organisations.siloed.coupling": {"range": [0.5, 1.0]},
        }},
    })
    out = tmp_path_factory.mktemp("lhs")
    run_sweep(scenario, out, workers=1)
    return out


def test_report_writes_discovery_and_regret_files(tiny_sweep, capsys):
    out = tiny_sweep / "report"
    runs = discovery.worlds(pd.read_parquet(tiny_sweep / "runs.parquet"))
    where = f"siloed < {runs.siloed.median():.6f}"  # true in about half the worlds, whatever the model gives
    assert main(["report", str(tiny_sweep), "--where", where, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names >= {"prim_trajectory.csv", "prim_box.csv", "prim_tradeoff.png", "prim_box.png", "cart_rules.txt",
                     "cart_leaves.csv", "cart_tree.png", "feature_scores.csv", "feature_scores.png", "regret.csv",
                     "regret.png"}
    report = (out / "report.md").read_text()
    assert f"## Where `{where}` holds" in report and "## Robustness across futures" in report
    found = pd.read_csv(out / "prim_trajectory.csv").iloc[0]
    assert (found.n, found.k) == (len(runs), (runs.siloed < float(where.split("<")[1])).sum())
    table = pd.read_csv(out / "regret.csv").set_index("organisation")
    assert table.loc["siloed", "mean"] == pytest.approx(runs.siloed.mean())
    best = runs[["siloed", "responsive"]].max(axis=1)
    assert table.loc["siloed", "max_regret"] == pytest.approx((best - runs.siloed).max())


@pytest.mark.parametrize(("options", "message"), [
    (["--where", "responsive - silod > 0"], "--where 'responsive - silod > 0': unknown organisation 'silod'; "),
    (["--where", "open('x') > 0"], "--where \"open('x') > 0\": Call is not allowed; "),
    (["--measure", "mean_nothing"], "--measure 'mean_nothing': not a measure of these runs; "),
])
def test_bad_conditions_are_one_line_and_write_nothing(tiny_sweep, tmp_path, capsys, options, message):
    assert main(["report", str(tiny_sweep), "--out", str(tmp_path / "r"), *options]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"orgsim: error: {message}")
    assert not (tmp_path / "r").exists()
