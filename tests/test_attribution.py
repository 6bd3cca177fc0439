"""orgsim explain: Shapley values over lever groups, on known answers and end to end."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from orgsim import attribution as at
from orgsim.cli import main
from orgsim.design import OrgDesign, preset
from orgsim.experiment import run_one
from orgsim.scenario import validate_scenario


def test_every_lever_belongs_to_exactly_one_group():
    missing, twice, unknown = at.ungrouped_levers()
    assert missing == [], f"add these levers of OrgDesign to a group of attribution.LEVER_GROUPS: {missing}"
    assert twice == [] and unknown == []
    assert sum(len(v) for v in at.LEVER_GROUPS.values()) == len(OrgDesign.model_fields)


def test_an_additive_outcome_gets_exactly_its_parts_and_dead_players_get_zero():
    parts = np.array([3.0, -1.5, 0.0, 7.25, 0.0])  # players 2 and 4 cannot matter

    def outcome(mask: int) -> float:
        return 10.0 + sum(p for i, p in enumerate(parts) if mask >> i & 1)

    phi = at.shapley(outcome, 5)
    np.testing.assert_allclose(phi, parts, atol=1e-12)
    assert phi[2] == 0.0 and phi[4] == 0.0


def test_interactions_are_shared_by_the_shapley_rule_and_groups_sum_to_the_total():
    # f = 6 if players 0 and 1 are both in, plus 2 for player 2; player 3 never matters.
    def outcome(mask: int) -> float:
        return 6.0 * (mask & 0b11 == 0b11) + 2.0 * bool(mask & 0b100)

    phi = at.shapley(outcome, 4)
    np.testing.assert_allclose(phi, [3.0, 3.0, 2.0, 0.0], atol=1e-12)
    # Efficiency on an arbitrary outcome, per seed (arrays of 3 seeds): the values sum to f(all) - f(none).
    rng = np.random.default_rng(5)
    table = {mask: rng.normal(size=3) for mask in range(16)}
    phi = at.shapley(lambda m: table[m], 4)
    assert phi.shape == (3, 4)
    np.testing.assert_allclose(phi.sum(axis=1), table[15] - table[0], atol=1e-12)
    # Against the definition: the mean marginal contribution over all 24 orders in which players join.
    orders = list(itertools.permutations(range(4)))
    by_order = np.zeros((3, 4))
    for order in orders:
        mask = 0
        for player in order:
            by_order[:, player] += table[mask | 1 << player] - table[mask]
            mask |= 1 << player
    np.testing.assert_allclose(phi, by_order / len(orders), atol=1e-12)


def test_hybrids_take_whole_groups_from_b():
    a, b = preset("siloed"), preset("responsive")
    groups = list(at.LEVER_GROUPS)
    assert at.hybrid(a, b, groups, 0) == a and at.hybrid(a, b, groups, 2 ** len(groups) - 1) == b
    mixed = at.hybrid(a, b, groups, 1 << groups.index("management"))
    assert mixed.cadence == b.cadence and mixed.sensing_delay == b.sensing_delay
    assert mixed.fluidity == a.fluidity and mixed.constraints == a.constraints


TINY = {
    "run": {"ticks": 60, "seeds": 3, "members": 12, "warmup": 10},
    "environment": {"arrival_rate": 1.5, "shocks": [{"tick": 30, "layer": "needs"}]},
    "organisations": {"siloed": {"preset": "siloed"},
                      # differs from the silo'd only in cadences and exploration
                      "nimble": {"preset": "siloed", "exploration": 0.1,
                                 "cadence": {"operations": 1, "process": 5, "structure": 10, "strategy": 21}}},
}


def test_explain_end_to_end_on_a_tiny_scenario(tmp_path):
    scenario = validate_scenario(TINY)
    world, groups, names = at.hybrids_scenario(scenario, "siloed", "nimble")
    assert len(world.organisations) == 4  # only management and exploration differ: 2 x 2 distinct hybrids
    result = at.explain(scenario, folder=tmp_path, workers=1, progress=False)
    table = result.table.set_index("group")
    assert list(table.index) == [*at.LEVER_GROUPS, "total", "direct nimble - siloed"]
    for group in ("structure", "hand-offs", "constraints", "learning"):  # the same levers in A and B
        assert table.loc[group, ["contribution", "ci_low", "ci_high"]].tolist() == [0.0, 0.0, 0.0]
    parts = table.loc[list(at.LEVER_GROUPS), "contribution"].sum()
    assert table.loc["total", "contribution"] == pytest.approx(parts, abs=1e-9)
    assert table.loc["total", "contribution"] == pytest.approx(table.loc["direct nimble - siloed", "contribution"],
                                                               abs=1e-9)
    assert (table["interval"].isin(["t", "none"])).all() and (table.n == 3).all()
    # The pure hybrids are the organisations themselves: the same runs as orgsim run gives, per seed.
    own = [run_one(scenario, org, seed).summary["mean_value_delivered"]
           for org in ("siloed", "nimble") for seed in (0, 1, 2)]
    assert (result.level_a, result.level_b) == pytest.approx((np.mean(own[:3]), np.mean(own[3:])), rel=1e-12)
    per_seed_total = result.per_seed.sum(axis=1).to_numpy()
    np.testing.assert_allclose(per_seed_total, np.array(own[3:]) - np.array(own[:3]), atol=1e-9)
    # A second call reads the kept runs rather than re-running them.
    again = at.explain(scenario, folder=tmp_path, workers=1, progress=False)
    pd.testing.assert_frame_equal(again.table, result.table)


def test_the_explain_command_writes_the_table_and_the_waterfall(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(
        '[run]\nticks = 40\nseeds = 2\nmembers = 10\nwarmup = 5\n[environment]\narrival_rate = 1.5\n'
        '[organisations.siloed]\npreset = "siloed"\n[organisations.responsive]\npreset = "responsive"\n'
    )
    out = tmp_path / "explained"
    assert main(["explain", str(path), "--between", "responsive", "siloed", "--measure", "failure_demand",
                 "--out", str(out), "--workers", "1"]) == 0
    table = pd.read_csv(out / "attribution.csv")
    assert list(table.columns) == ["group", "contribution", "ci_low", "ci_high", "n", "interval"]
    assert table.group.iloc[-1] == "direct siloed - responsive"
    assert table.contribution.iloc[:-2].sum() == pytest.approx(table.contribution.iloc[-2], abs=1e-12)
    assert (out / "attribution.png").stat().st_size > 10_000
    assert "siloed minus responsive in mean_failure_demand" in capsys.readouterr().out
    assert main(["explain", str(path), "--between", "siloed", "agile", "--out", str(out)]) == 2
    assert "--between: unknown organisation 'agile'" in capsys.readouterr().err
    assert main(["explain", str(path), "--measure", "happiness", "--out", str(out)]) == 2
    assert "--measure: unknown measure 'happiness'" in capsys.readouterr().err
