"""Pattern-oriented validation machinery (orgsim.patterns, docs/scripts/validation.py).

These tests check the machinery on cases whose answer is known: the curve classifier and the verdict
rules on synthetic data, the run measures against the model's own tables, and that docs/validation.md
and the README hold what the script makes of the recorded runs. They never assert that orgsim agrees
with a published pattern, except Little's law, which is an identity (March's replication is tested in
tests/test_march1991.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orgsim import OrgModel
from orgsim import patterns as P
from orgsim.docblocks import read_block, replace_block, write_blocks
from orgsim.errors import OrgsimError
from orgsim.replications.march1991 import PUBLISHED_FIGURE1
from orgsim.validation import load_curve

ROOT = Path(__file__).resolve().parents[1]
X = np.linspace(0.0, 1.0, 9)


def _samples(curve: np.ndarray, seeds: int = 8, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    """Paired samples of a curve: a per-seed level shift (common to every point) plus small noise."""
    rng = np.random.default_rng(seed)
    return curve + rng.normal(0, 3.0, (seeds, 1)) + rng.normal(0, noise, (seeds, len(curve)))


# --- the curve classifier and the verdict rules ------------------------------------------------------------
@pytest.mark.parametrize(("curve", "shape", "optimum"), [
    (10 - 20 * (X - 0.5) ** 2, "inverted U", 0.5),
    (10 + 5 * X, "rising", 1.0),
    (10 - 5 * X, "falling", 0.0),
    (np.full(9, 10.0), "flat", None),
    (10 + 20 * (X - 0.6) ** 2, "U", 0.0),
    (10 + 20 * (X - 0.3) ** 2 + 6 * X, "U", 1.0),
])
def test_curve_shape_tells_the_shapes_apart(curve, shape, optimum):
    result = P.curve_shape(X, _samples(curve))
    assert result["shape"] == shape
    if optimum is not None:
        assert result["optimum"] == optimum


def test_paired_seeds_see_through_a_shift_common_to_every_point():
    # A per-seed shift far larger than the curve's height: unpaired, nothing would be significant.
    curve = 10 - 4 * (X - 0.5) ** 2
    rng = np.random.default_rng(3)
    samples = curve + rng.normal(0, 50.0, (8, 1)) + rng.normal(0, 0.05, (8, 9))
    assert P.curve_shape(X, samples)["shape"] == "inverted U"


def test_range_of_good_structures_and_its_width():
    curve = np.array([0.0, 5.0, 9.5, 10.0, 9.2, 8.0, 5.0, 2.0, 0.0]) + 100.0
    result = P.curve_shape(X, np.tile(curve, (4, 1)) + np.arange(4)[:, None], good_within=0.02)
    # Means are the curve + 1.5; peak 111.5, within 2 % is >= 109.27: 0.25 to 0.625 (109.5, 110, 109.2, 108 + 1.5).
    assert (result["good"], result["width"]) == ((0.25, 0.375, 0.5, 0.625), 4 / 9)


def test_steeper_fall_towards_less_structure_is_measured_from_the_peak():
    steep_left = np.where(X < 0.25, 10 - 40 * (0.25 - X), 10 - 2 * (X - 0.25))
    result = P.curve_shape(X, _samples(steep_left, noise=0.1))
    assert result["optimum"] == 0.25
    # Fall per unit of coupling: 40 towards 0, 2 towards 1: a difference of 38.
    assert result["steeper_low"] == pytest.approx(38, abs=2) and result["steeper_low_ci_low"] > 0
    symmetric = P.curve_shape(X, _samples(10 - 20 * np.abs(X - 0.5), noise=0.3))
    assert symmetric["steeper_low_ci_low"] < 0 < symmetric["steeper_low_ci_high"]
    assert np.isnan(P.curve_shape(X, _samples(10 + 5 * X))["steeper_low"])  # peak at an end: not judged


def test_verdict_rules():
    assert P.share_verdict([True, True]) == P.AGREES
    assert P.share_verdict([True, False]) == P.PARTLY
    assert P.share_verdict([False, False]) == P.DISAGREES
    assert P.share_verdict([]) == P.UNTESTABLE
    assert P.trend_verdict([1.0, 0.5, 0.5, 0.0]) == P.AGREES
    assert P.trend_verdict([1.0, 0.5, 0.75, 0.0]) == P.PARTLY
    assert P.trend_verdict([1.0, 0.5, 0.0, 1.0]) == P.DISAGREES
    assert P.trend_verdict([0.5, 0.5]) == P.DISAGREES


# --- pattern verdicts on synthetic runs with a known answer ----------------------------------------------------
def _contrast(effect: dict[str, float], fd: tuple[float, float] = (0.5, 0.3), seeds: int = 6) -> pd.DataFrame:
    """Contrast runs in which responsive - silo'd value is ``effect[world]`` (+ small noise) at every load."""
    rng = np.random.default_rng(1)
    rows = []
    for world in P.CONTRAST_WORLDS:
        for load in P.LOADS:
            for seed in range(seeds):
                base = 20 + rng.normal(0, 5)
                for design, value, share in (("siloed", base, fd[0]),
                                             ("responsive", base + effect[world] + rng.normal(0, 0.2), fd[1])):
                    rows.append({"pattern": "contrast", "world": world, "load": load, "design": design, "seed": seed,
                                 "value": value, "failure_demand": share + rng.normal(0, 0.01),
                                 "failed_refused": 30.0, "failed_chased": 10.0, "failed_returned": 0.0,
                                 "failed_expired": 60.0})
    return pd.DataFrame(rows)


def test_burns_stalker_verdict_follows_its_rule():
    assert P.burns_stalker(_contrast({"clear": -3, "complex": 3, "chaotic": 5})).verdict == P.AGREES
    partly = P.burns_stalker(_contrast({"clear": -3, "complex": 0, "chaotic": 5}))
    assert partly.verdict == P.PARTLY and partly.numbers == "holds in 6 of 9 world x load cells"
    assert P.burns_stalker(_contrast({"clear": 3, "complex": -3, "chaotic": -5})).verdict == P.DISAGREES


def test_seddon_shares_causes_and_verdicts():
    runs = _contrast({"clear": 0, "complex": 0, "chaotic": 0}, fd=(0.5, 0.3))
    share, design = P.seddon(runs)
    assert share.verdict == P.AGREES and design.verdict == P.AGREES
    causes = share.table.iloc[0]
    assert (causes.refused, causes.chased, causes.returned, causes.expired) == pytest.approx((0.3, 0.1, 0.0, 0.6))
    low = P.seddon(_contrast({"clear": 0, "complex": 0, "chaotic": 0}, fd=(0.1, 0.3)))
    assert (low[0].verdict, low[1].verdict) == (P.DISAGREES, P.DISAGREES)


def _exploration(gain: dict[str, dict[float, float]], seeds: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for world, by_share in gain.items():
        for seed in range(seeds):
            base = 20 + rng.normal(0, 4)
            rows += [{"pattern": "exploration", "world": world, "exploration": s, "seed": seed,
                      "value": base + g + rng.normal(0, 0.1)} for s, g in by_share.items()]
    return pd.DataFrame(rows)


def test_exploration_verdicts_follow_their_rules():
    def gains(*values: float) -> dict[float, float]:
        return dict(zip(P.EXPLORATION, values, strict=True))

    falls = _exploration({"clear": gains(0, -1, -3), "new, 0.3": gains(0, 1, 2), "new, 0.6": gains(0, 1, 2),
                          "new, 1.0": gains(0, 1, 0)})
    stable, new, posen = P.exploration(falls)
    assert (stable.verdict, new.verdict, posen.verdict) == (P.AGREES, P.AGREES, P.AGREES)
    assert new.table["best share"].tolist() == [0, 0.15, 0.15, 0.05]
    never = _exploration({w: gains(0, -1, -3) for w in ("clear", "n1", "n2")})
    stable, new, posen = P.exploration(never)
    assert (stable.verdict, new.verdict, posen.verdict) == (P.AGREES, P.DISAGREES, P.UNTESTABLE)
    rises = _exploration({"clear": gains(0, -1, -3), "n1": gains(0, 1, 0), "n2": gains(0, 0, 1)})
    assert P.exploration(rises)[2].verdict == P.DISAGREES


def test_lawrence_lorsch_verdict_follows_its_rule():
    rng = np.random.default_rng(4)

    def runs(best: tuple[float, float]) -> pd.DataFrame:
        rows = []
        for world in P.TURBULENT_WORLDS:
            for seed in range(6):
                base = 20 + rng.normal(0, 4)
                rows += [{"pattern": "hybrid", "world": world, "fluidity": f, "specialisation": s, "seed": seed,
                          "value": base + (3.0 if (f, s) == best else 0.0) + rng.normal(0, 0.1)}
                         for f in P.FLUIDITY for s in P.SPECIALISATION]
        return pd.DataFrame(rows)

    assert P.lawrence_lorsch(runs((0.5, 1.0))).verdict == P.AGREES
    assert P.lawrence_lorsch(runs((1.0, 0.0))).verdict == P.DISAGREES


def test_march_verdict_uses_the_published_values():
    rows = [{"p1": p1, "p2": p2, "knowledge_mean": k} for (p1, p2), k in PUBLISHED_FIGURE1.items()]
    table = pd.DataFrame(rows)
    assert P.march(table, PUBLISHED_FIGURE1).verdict == P.AGREES
    off = table.assign(knowledge_mean=table.knowledge_mean + np.where(table.p1 == 0.9, 0.05, 0.0))
    result = P.march(off, PUBLISHED_FIGURE1)
    assert result.verdict == P.DISAGREES and "0.050" in result.numbers


# --- the experiment and its runs -----------------------------------------------------------------------------
def test_every_cell_of_every_pattern_runs_on_the_same_seeds():
    jobs = P.jobs(P.Settings(seeds=3), {"regime": "complex", "frontier_announcements": [50]})
    frame = pd.DataFrame([{**j.labels, "seed": j.seed} for j in jobs])
    cells = frame.drop(columns="seed").apply(lambda row: repr(tuple(row)), axis=1)
    assert (frame.groupby(cells).seed.apply(lambda s: tuple(sorted(s))) == (0, 1, 2)).all()
    assert set(frame.pattern) == {"little", "kingman", "structure", "contrast", "hybrid", "exploration"}
    explore = [j for j in jobs if j.labels["pattern"] == "exploration" and j.labels["world"] != P.STABLE]
    assert {j.environment["turbulence"] for j in explore} == set(P.EXPLORATION_TURBULENCE)
    assert all(j.environment["frontier_announcements"] == [50] for j in explore)


def test_failed_customers_are_counted_by_the_tick_they_are_failed():
    # Every failed customer comes back the next tick: the count of one tick is the next tick's failure demand.
    model = OrgModel("siloed", {"regime": "complex", "load": 0.95, "followup_chance": 1.0}, members=30, seed=2)
    failed = P._count_failures(model)
    model.run(120)
    ts = model.timeseries()
    counts = failed()[: len(ts)]
    assert counts.sum() > 100
    assert np.array_equal(counts[:-1], ts.arrived_failure.to_numpy()[1:])
    returned = counts - ts[["refused", "chased", "expired"]].sum(axis=1).to_numpy()
    assert (returned >= 0).all()


def test_run_job_measures_match_the_model_and_load_curve():
    job = P.Job({"pattern": "kingman", "design": "siloed", "load": 0.7}, "siloed", {"regime": "clear", "load": 0.7},
                seed=1, ticks=200, members=30, warmup=50)
    row = P.run_job(job)
    curve = load_curve("siloed", {"regime": "clear"}, [0.7], seeds=[1], ticks=200, warmup=50, members=30).iloc[0]
    assert (row["lead_time"], row["wip_share"]) == (curve.lead_time, curve.wip_share)
    assert row["failed_returned"] >= 0 and row["arrived"] > row["arrived_failure"] > 0


def test_littles_law_holds_on_real_runs():
    env = {"regime": "complex", "load": 0.8, "followup_chance": 0.0}
    rows = [P.run_job(P.Job({"pattern": "little", "world": "w", "design": d}, d, env, seed=3, ticks=500, members=40,
                            warmup=50, little=True)) for d in P.PRESETS]
    result = P.little(pd.DataFrame(rows))
    assert result.verdict == P.AGREES, result.table


# --- the generated documentation -------------------------------------------------------------------------------
def _script():
    spec = importlib.util.spec_from_file_location("validation_script", ROOT / "docs" / "scripts" / "validation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_hold_what_the_script_makes_of_the_recorded_runs():
    script = _script()
    doc, readme = script.blocks(*script.read_recorded())
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for name, block in doc.items():
        assert read_block(text, name) == block, name
    assert read_block((ROOT / "README.md").read_text(encoding="utf-8"), "validation-summary") == \
        readme["validation-summary"]
    for name, _, _ in script.SECTIONS:
        if name != "march":
            assert (ROOT / "docs" / "img" / f"validation-{name}.png").is_file()


def test_blocks_are_replaced_between_their_markers_only(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("intro\n<!-- a:start -->\nold\n<!-- a:end -->\nmiddle\n<!-- b:start -->\n<!-- b:end -->\n")
    write_blocks(path, {"a": "new\ntext", "b": "B"})
    text = path.read_text()
    assert text == "intro\n<!-- a:start -->\nnew\ntext\n<!-- a:end -->\nmiddle\n<!-- b:start -->\nB\n<!-- b:end -->\n"
    assert read_block(text, "a") == "new\ntext" and read_block(replace_block(text, "b", ""), "b") == ""
    with pytest.raises(OrgsimError, match="doc.md: no <!-- c:start -->"):
        write_blocks(path, {"c": "x"})
