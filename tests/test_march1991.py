"""March (1991) replication: published Figure 1, the paper's qualitative results, engines, CLI."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orgsim.cli import main
from orgsim.errors import OrgsimError
from orgsim.replications.march1991 import (
    PUBLISHED_FIGURE1,
    MarchModel,
    MarchParams,
    Move,
    Rules,
    Superior,
    equilibrium_knowledge,
    figure1,
    figure2,
    figure4,
    figure5,
    knowledge_path,
    learn_code,
    socialise,
)


def _row(table: pd.DataFrame, **where: float) -> pd.Series:
    mask = np.logical_and.reduce([np.isclose(table[k], v) for k, v in where.items()])
    assert mask.sum() == 1, where
    return table[mask].iloc[0]


def _beats(table: pd.DataFrame, better: dict, worse: dict) -> None:
    """The 95 % confidence intervals of the two points do not overlap, in the stated direction."""
    hi, lo = _row(table, **better), _row(table, **worse)
    assert hi.knowledge_ci_low > lo.knowledge_ci_high, (hi.to_dict(), lo.to_dict())


@pytest.fixture(scope="module")
def fig1() -> pd.DataFrame:
    return figure1(reps=1000, seed=1991)


@pytest.mark.slow
def test_figure1_reproduces_published_values(fig1: pd.DataFrame) -> None:
    assert len(fig1) == 9
    assert (fig1.reps == 1000).all()
    assert (fig1.unfinished == 0).all()
    for (p1, p2), published in PUBLISHED_FIGURE1.items():
        got = _row(fig1, p1=p1, p2=p2).knowledge_mean
        assert abs(got - published) < 0.02, (p1, p2, got, published)


@pytest.mark.slow
@pytest.mark.parametrize("p2", [0.5, 0.9])
def test_slow_socialisation_ends_with_more_knowledge(fig1: pd.DataFrame, p2: float) -> None:
    _beats(fig1, {"p1": 0.1, "p2": p2}, {"p1": 0.9, "p2": p2})


@pytest.mark.slow
def test_mix_of_slow_and_fast_learners_beats_all_fast() -> None:
    table = figure2(reps=400, seed=2, n_fast=(10, 25, 40, 50))
    for mixed in (10, 25, 40):
        _beats(table, {"n_fast": mixed}, {"n_fast": 50})


@pytest.mark.slow
def test_moderate_turnover_raises_period20_knowledge_with_fast_socialisation() -> None:
    table = figure4(reps=1000, seed=4, turnover=(0.0, 0.1, 0.2), p1_values=(0.9,))
    assert (table.period == 20).all()
    _beats(table, {"p3": 0.1}, {"p3": 0.0})
    _beats(table, {"p3": 0.2}, {"p3": 0.0})


@pytest.mark.slow
def test_turbulence_decays_knowledge_unless_turnover_renews_it() -> None:
    table = figure5(reps=300, seed=5, periods=100)
    closed = table[table.p3 == 0.0].set_index("period").knowledge_mean
    renewed = table[table.p3 == 0.1].set_index("period").knowledge_mean
    assert closed.max() > 0.55  # it did learn first
    assert closed[100] < 0.05  # then drifted to chance (score 0)
    assert renewed[100] > 0.45
    assert renewed.iloc[-20:].min() > 0.8 * renewed.iloc[40:60].mean()  # holds, does not decay


def test_same_seed_gives_identical_results_and_another_seed_does_not() -> None:
    params = MarchParams(p1=0.5, p2=0.5, p3=0.05, p4=0.02)
    a, b, c = (knowledge_path(params, 40, 30, np.random.default_rng(s)) for s in (7, 7, 8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    t1, t2 = (figure1(reps=20, seed=3, rates=(0.5, 0.9)) for _ in range(2))
    pd.testing.assert_frame_equal(t1, t2, check_exact=True)
    runs = [[MarchModel(params, seed=s) for _ in range(2)] for s in (11, 12)]
    for pair in runs:
        for model in pair:
            for _ in range(15):
                model.step()
        assert np.array_equal(pair[0].code, pair[1].code)
        assert np.array_equal(pair[0].reality, pair[1].reality)
    assert not np.array_equal(runs[0][0].code, runs[1][0].code)


def _mesa_sample(params: MarchParams, runs: int, periods: int | None) -> np.ndarray:
    values = []
    for seed in range(runs):
        model = MarchModel(params, seed=seed)
        if periods is None:
            value, finished = model.run_to_equilibrium()
            assert finished
        else:
            for _ in range(periods):
                model.step()
            value = model.measured
        values.append(value)
    return np.array(values)


def _vectorised_sample(params: MarchParams, periods: int | None, reps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if periods is not None:
        return knowledge_path(params, reps, periods, rng)[:, -1]
    values, unfinished = equilibrium_knowledge(params, reps, rng)
    assert not unfinished.any()
    return values


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "periods", "contrast"),
    [(MarchParams(p1=0.5, p2=0.5), None, {"p1": 0.1}),
     (MarchParams(p1=0.9, p2=0.5, p3=0.1, p4=0.02), 20, {"p3": 0.0})],
    ids=["closed-equilibrium", "open-period20"],
)
def test_mesa_and_vectorised_engines_agree(params: MarchParams, periods: int | None, contrast: dict) -> None:
    mesa_values = _mesa_sample(params, 150, periods)
    fast = _vectorised_sample(params, periods, 1000, seed=99)
    assert stats.ks_2samp(mesa_values, fast).pvalue > 0.01
    assert abs(mesa_values.mean() - fast.mean()) < 3 * mesa_values.std(ddof=1) / np.sqrt(mesa_values.size)
    # the comparison has power: a setting that differs in one rate is told apart
    other = _vectorised_sample(replace(params, **contrast), periods, 1000, seed=98)
    assert stats.ks_2samp(mesa_values, other).pvalue < 1e-6


def test_socialisation_moves_one_step_or_jumps() -> None:
    beliefs = np.array([-1, 0, 1, -1, 1], dtype=np.int8)
    code = np.array([1, 1, 1, 0, -1], dtype=np.int8)
    always, never = np.zeros(5), np.ones(5)
    assert socialise(beliefs, code, 0.5, always, Move.STEP).tolist() == [0, 1, 1, -1, 0]
    assert socialise(beliefs, code, 0.5, always, Move.JUMP).tolist() == [1, 1, 1, -1, -1]
    assert socialise(beliefs, code, 0.5, never, Move.JUMP).tolist() == beliefs.tolist()


def test_code_follows_superior_majority_with_probability_set_by_margin() -> None:
    # dimensions: 3-1 majority for +1 (k = 2), 2-2 tie, 1-0 majority for -1 (k = 1)
    votes = np.array([[[1, 1, -1], [1, 1, 0], [1, -1, 0], [-1, -1, 0], [-1, -1, -1]]], dtype=np.int8)
    superior = np.array([[True, True, True, True, False]])
    code = np.zeros((1, 3), dtype=np.int8)
    p2 = 0.5  # change probabilities: k = 2 -> 0.75, k = 1 -> 0.5
    below = np.array([[0.74, 0.0, 0.49]])
    above = np.array([[0.76, 0.0, 0.51]])
    assert learn_code(code, votes, superior, p2, below, Move.JUMP).tolist() == [[1, 0, -1]]
    assert learn_code(code, votes, superior, p2, above, Move.JUMP).tolist() == [[0, 0, 0]]
    opposite = np.array([[-1, 1, 1]], dtype=np.int8)
    assert learn_code(opposite, votes, superior, p2, below, Move.STEP).tolist() == [[0, 1, 0]]
    assert learn_code(opposite, votes, superior, p2, below, Move.JUMP).tolist() == [[1, 1, -1]]


def test_open_rules_change_the_numbers() -> None:
    base = figure1(reps=300, seed=6, rates=(0.1,))
    beliefs = figure1(reps=300, seed=6, rates=(0.1,), rules=Rules(superior=Superior.BELIEFS))
    assert abs(base.knowledge_mean.iloc[0] - beliefs.knowledge_mean.iloc[0]) > 0.03


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"p1": 1.5}, "p1"), ({"p4": -0.1}, "p4"), ({"n": 0}, "n"), ({"n_fast": 60}, "n_fast"),
     ({"m": 2.5}, "m"), ({"p2": "fast"}, "p2")],
)
def test_bad_parameters_are_named(kwargs: dict, word: str) -> None:
    with pytest.raises(OrgsimError, match=word):
        MarchParams(**kwargs)
    with pytest.raises(OrgsimError, match="superior"):
        Rules(superior="votes")
    with pytest.raises(OrgsimError, match="reps"):
        equilibrium_knowledge(MarchParams(), 0, np.random.default_rng(0))


def test_cli_writes_every_csv_and_png(tmp_path, capsys) -> None:
    out = tmp_path / "march"
    assert main(["replicate", "march1991", "--figure", "all", "--reps", "4", "--out", str(out)]) == 0
    expected = [f"fig{k}.{ext}" for k in "1245" for ext in ("csv", "png")]
    assert sorted(p.name for p in out.iterdir()) == expected
    fig1 = pd.read_csv(out / "fig1.csv")
    assert list(fig1.columns) == ["p1", "p2", "knowledge_mean", "knowledge_ci_low", "knowledge_ci_high",
                                  "reps", "unfinished"]
    assert len(fig1) == 9 and (fig1.reps == 4).all()
    assert {"n_fast", "unfinished"} <= set(pd.read_csv(out / "fig2.csv").columns)
    assert {"p1", "p3", "period"} <= set(pd.read_csv(out / "fig4.csv").columns)
    assert pd.read_csv(out / "fig5.csv").period.max() == 100
    assert all((out / f"fig{k}.png").read_bytes()[:4] == b"\x89PNG" for k in "1245")
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "option"),
    [(["--figure", "3"], "--figure"), (["--reps", "1"], "--reps"), (["--reps", "many"], "--reps"),
     (["--seed", "-4"], "--seed"), (["--superior", "votes"], "--superior"),
     (["--code-move", "leap"], "--code-move"), (["--knowledge", "accuracy"], "--knowledge")],
)
def test_cli_bad_input_exits_2_with_one_line(argv: list[str], option: str, tmp_path, capsys) -> None:
    assert main(["replicate", "march1991", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err and "use" in err
    assert not list(tmp_path.iterdir())


def test_cli_out_that_is_a_file_exits_2(tmp_path, capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("")
    assert main(["replicate", "march1991", "--figure", "1", "--reps", "2", "--out", str(target)]) == 2
    assert "--out" in capsys.readouterr().err
