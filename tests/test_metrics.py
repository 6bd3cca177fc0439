"""Measures on hand-built cases where the right answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from orgsim.experiment import Comparison, RunResult, collect
from orgsim.metrics import (
    COUNTS,
    MEASURES,
    MeasureLog,
    adaptation,
    adaptation_table,
    mean_ci,
    moving_average,
    overlap,
    rules_alignment,
    summarise,
)
from orgsim.scenario import validate_scenario

# --- overlap and rules alignment -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1, 0], [0, 1], 0.0),  # disjoint
        ([1, 1], [5, 5], 1.0),  # same shape, any scale
        ([3, 1], [1, 1], 0.75),  # min(.75, .5) + min(.25, .5)
        ([2, 1, 1], [0, 1, 3], 0.5),  # min(.5, 0) + min(.25, .25) + min(.25, .75)
        ([0, 0], [0, 0], 1.0),  # nothing offered, nothing needed
        ([0, 0], [1, 0], 0.0),  # nothing offered, something needed
        ([1, 0], [0, 0], 0.0),
    ],
)
def test_overlap_of_known_vectors(a, b, expected):
    assert overlap(np.array(a, float), np.array(b, float)) == pytest.approx(expected, abs=1e-12)


@given(st.lists(st.floats(0, 1e3), min_size=1, max_size=10).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(st.floats(0, 1e3), min_size=len(a), max_size=len(a)))))
def test_overlap_is_a_symmetric_share(pair):
    a, b = (np.array(x) for x in pair)
    value = overlap(a, b)
    assert 0.0 <= value <= 1.0 + 1e-12
    assert value == pytest.approx(overlap(b, a), abs=1e-12)
    if a.sum() > 0:
        assert overlap(a, a) == pytest.approx(1.0)


def test_rules_alignment_of_known_rule_books():
    mix = np.array([0.5, 0.25, 0.25])
    # Type 0 unregulated and seen so; type 1 thought to need twice its compliance; type 2 missed.
    believed, true = np.array([0.0, 2.0, 0.0]), np.array([0.0, 1.0, 3.0])
    assert rules_alignment(mix, believed, true) == pytest.approx(0.5 * 1 + 0.25 * 0.5 + 0.25 * 0)
    assert rules_alignment(mix, true, true) == pytest.approx(1.0)
    assert rules_alignment(mix, np.zeros(3), np.array([1.0, 1.0, 1.0])) == 0.0


# --- smoothing, confidence intervals -------------------------------------------------------------


def test_moving_average_by_hand_and_against_pandas():
    assert moving_average(np.array([1.0, 2, 3, 4]), 2).tolist() == [1.0, 1.5, 2.5, 3.5]
    assert moving_average(np.array([3.0, 6, 9]), 10).tolist() == [3.0, 4.5, 6.0]
    assert moving_average(np.array([5.0, 7]), 1).tolist() == [5.0, 7.0]
    x = np.random.default_rng(1).normal(size=200)
    for window in (1, 7, 30, 500):
        expected = pd.Series(x).rolling(window, min_periods=1).mean().to_numpy()
        np.testing.assert_allclose(moving_average(x, window), expected, rtol=1e-9, atol=1e-12)


def test_moving_average_leaves_out_ticks_without_a_value():
    x = np.array([np.nan, 4.0, np.nan, np.nan, np.nan, 8.0])
    np.testing.assert_array_equal(moving_average(x, 2), [np.nan, 4.0, 4.0, np.nan, np.nan, 8.0])
    np.testing.assert_array_equal(moving_average(x, 10), [np.nan, 4.0, 4.0, 4.0, 4.0, 6.0])
    y = np.random.default_rng(2).normal(size=100)
    y[::3] = np.nan
    expected = pd.Series(y).rolling(7, min_periods=1).mean().to_numpy()
    np.testing.assert_allclose(moving_average(y, 7), expected, rtol=1e-9)


@pytest.mark.parametrize("n", [2, 5, 30])
def test_mean_ci_matches_scipy_t_interval(n):
    v = np.random.default_rng(n).normal(10.0, 3.0, n)
    mean, low, high, count = mean_ci(v)
    exp_low, exp_high = stats.t.interval(0.95, n - 1, loc=v.mean(), scale=stats.sem(v))
    assert count == n
    assert mean == pytest.approx(v.mean())
    assert (low, high) == pytest.approx((exp_low, exp_high), rel=1e-12)
    _, low90, high90, _ = mean_ci(v, level=0.9)
    assert (low90, high90) == pytest.approx(stats.t.interval(0.9, n - 1, loc=v.mean(), scale=stats.sem(v)))


def test_mean_ci_ignores_undefined_values_and_handles_tiny_samples():
    assert mean_ci([1.0, np.nan, 3.0, np.inf]) == pytest.approx(mean_ci([1.0, 3.0]))
    assert mean_ci([4.0]) == (4.0, 4.0, 4.0, 1)
    mean, low, high, n = mean_ci([np.nan])
    assert n == 0 and np.isnan(mean) and np.isnan(low) and np.isnan(high)


# --- adaptation after shocks ----------------------------------------------------------------------


def _dip(length: int = 300, shock: int = 100, depth: float = 5.0, ticks: int = 20) -> np.ndarray:
    """Level 10, down by ``depth`` for ``ticks`` ticks from ``shock``, then back to 10."""
    x = np.full(length, 10.0)
    x[shock : shock + ticks] -= depth
    return x


def test_adaptation_unsmoothed_dip():
    (rec,) = adaptation(_dip(), [100], window=1)
    assert rec["tick"] == 100
    assert rec["recovery_ticks"] == 20
    assert not rec["censored"]
    assert rec["loss"] == pytest.approx(20 * 5 / 10)  # 20 ticks at half the pre-shock output


def test_adaptation_smoothed_dip_by_hand():
    """Window 30: smooth(100 + j) = 10 - 5 f / 30, f = fives in the window. It stays >= 9 for
    j = 0..5 (too short to hold 30 ticks), dips, and is back to >= 9 for good from j = 43."""
    (rec,) = adaptation(_dip(), [100])
    assert rec["recovery_ticks"] == 43
    assert not rec["censored"]
    # Lost output: sum of 5 f / 30 over j = 0..42, f = 1..20, then 20 (9 ticks), then 20 down to 7.
    lost = (5 / 30) * (sum(range(1, 21)) + 9 * 20 + sum(range(7, 21)))
    assert rec["loss"] == pytest.approx(lost / 10)


def test_adaptation_needs_the_level_to_hold():
    x = np.full(300, 10.0)
    x[100:160] = 5.0
    x[120] = 10.0  # a one-tick bounce is not a recovery
    (rec,) = adaptation(x, [100], window=1, hold=5)
    assert rec["recovery_ticks"] == 60
    (rec,) = adaptation(x, [100], window=1, hold=1)
    assert rec["recovery_ticks"] == 20


def test_adaptation_without_a_drop_is_immediate_and_free():
    (rec,) = adaptation(np.full(200, 3.0), [80])
    assert rec["recovery_ticks"] == 0 and rec["loss"] == 0.0 and not rec["censored"]


def test_adaptation_is_censored_at_the_end_of_the_run():
    x = np.full(200, 10.0)
    x[150:] = 2.0  # never recovers
    (rec,) = adaptation(x, [150], window=1)
    assert rec["censored"]
    assert rec["recovery_ticks"] == 50  # the ticks observed
    assert rec["loss"] == pytest.approx(50 * 8 / 10)
    # Recovered but not held long enough before the end: still censored.
    x[190:] = 10.0
    (rec,) = adaptation(x, [150], window=1, hold=30)
    assert rec["censored"]


def test_adaptation_is_censored_at_the_next_shock():
    x = np.full(400, 10.0)
    x[100:180] = 4.0  # the next shock comes at 150, before any recovery
    second, first = adaptation(x, [150, 100], window=1, hold=10)  # results in the order given
    assert first["tick"] == 100 and first["censored"] and first["recovery_ticks"] == 50
    assert second["tick"] == 150
    # The second shock's baseline is the depressed level (4), so it never fell below it.
    assert second["recovery_ticks"] == 0 and not second["censored"]


def test_adaptation_is_undefined_without_a_baseline():
    x = np.full(100, 10.0)
    (rec,) = adaptation(x, [0])
    assert np.isnan(rec["recovery_ticks"]) and np.isnan(rec["loss"])
    (rec,) = adaptation(np.zeros(100), [50])  # zero pre-shock level
    assert np.isnan(rec["recovery_ticks"])


def test_adaptation_table_groups_by_measure_and_layer():
    df = pd.DataFrame({"value_delivered": _dip(), "alignment": np.full(300, 0.9)})
    log = [(100, "needs", 0.8, True), (250, "rules", 0.3, False)]
    table = adaptation_table(df, log)
    assert table.columns.tolist() == ["measure", "layer", "magnitude", "tick", "recovery_ticks", "censored", "loss"]
    assert len(table) == 4
    row = table[(table.measure == "value_delivered") & (table.layer == "needs")].iloc[0]
    assert (row.tick, row.recovery_ticks, row.magnitude) == (100, 43, 0.8)
    flat = table[table.measure == "alignment"]
    assert flat.recovery_ticks.tolist() == [0, 0]


# --- a run's summary -------------------------------------------------------------------------------


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({name: rng.random(n) for name in MEASURES})


def test_summary_means_leave_out_the_warmup():
    df = _frame()
    df["value_delivered"] = np.where(np.arange(200) < 50, 100.0, 4.0)
    out = summarise(df, [], warmup=50)
    assert out["mean_value_delivered"] == 4.0
    assert out["total_value_delivered"] == pytest.approx(50 * 100 + 150 * 4)
    for name in set(MEASURES) - {"lead_time"}:
        assert out[f"mean_{name}"] == pytest.approx(df[name].iloc[50:].mean())
    steady = df.iloc[50:]
    assert out["mean_lead_time"] == pytest.approx(np.average(steady.lead_time, weights=steady.completed))
    assert out["shocks"] == 0
    assert np.isnan(out["recovery_value_delivered_needs"])
    assert out["censored_needs"] == 0


def test_summary_reports_adaptation_by_layer():
    df = _frame(300)
    df["value_delivered"] = _dip()
    df.loc[250:, "value_delivered"] = 1.0  # a technology shock from which the run never recovers
    log = [(100, "needs", 0.8, True), (250, "technology", 0.5, True)]
    out = summarise(df, log, warmup=10)
    assert out["recovery_value_delivered_needs"] == 43
    assert out["censored_needs"] == 0
    assert out["recovery_value_delivered_technology"] == 50
    assert out["censored_technology"] == 1
    assert np.isnan(out["recovery_value_delivered_rules"])
    assert out["shocks"] == 2


def test_measure_log_grows_and_types_counts_as_integers():
    log = MeasureLog(capacity=4)
    for t in range(11):
        log.record({name: float(t) for name in MEASURES})
    df = log.frame()
    assert len(df) == 11 and df.index.name == "tick"
    assert df.columns.tolist() == list(MEASURES)
    assert df["arrived"].tolist() == list(range(11))
    for name in MEASURES:
        assert df[name].dtype == (np.int64 if name in COUNTS else np.float64), name


# --- over seeds: the comparison's table and bands -------------------------------------------------------


def _comparison(values: dict[str, list[np.ndarray]], measure: str = "value_delivered") -> Comparison:
    """A comparison of hand-made runs: ``values[organisation][i]`` is seed i's series of ``measure``."""
    results = []
    for org, series in values.items():
        for seed, x in enumerate(series):
            df = pd.DataFrame({name: np.zeros(len(x)) for name in MEASURES}).rename_axis("tick")
            df[measure] = x
            shocks = pd.DataFrame(columns=["tick", "layer", "magnitude", "scheduled"])
            results.append(RunResult(org, seed, df, summarise(df, [], warmup=0), shocks))
    return collect(validate_scenario({}), results)


def test_comparison_summary_gives_each_measure_the_interval_of_its_range():
    a = [np.full(10, v) for v in (1.0, 2.0, 6.0)]
    b = [np.full(10, v) for v in (4.0, 4.0)]
    summary = _comparison({"siloed": a, "responsive": b}).summary()
    assert summary.columns.tolist() == ["organisation", "measure", "estimate", "ci_low", "ci_high", "n", "interval"]
    row = summary[(summary.organisation == "siloed") & (summary.measure == "mean_value_delivered")].iloc[0]
    assert (row.estimate, row.n, row.interval) == (3.0, 3, "BCa bootstrap")
    t_low = stats.t.interval(0.95, 2, loc=3.0, scale=stats.sem([1.0, 2.0, 6.0]))[0]
    assert t_low < 0 <= 1.0 <= row.ci_low < 3.0 < row.ci_high <= 6.0  # the t-interval would leave the range
    row = summary[(summary.organisation == "responsive") & (summary.measure == "mean_value_delivered")].iloc[0]
    assert (row.estimate, row.ci_low, row.ci_high, row.n) == (4.0, 4.0, 4.0, 2)
    # The model's own recovery (a mean of censored values) is not in the table; with no scheduled shock
    # there is no twin-based recovery either.
    assert not summary.measure.str.match(r"(recovery|censored|loss|not_hit|depth|area)_").any()


def test_comparison_band_is_smoothed_mean_and_a_bootstrap_interval_per_tick():
    rng = np.random.default_rng(3)
    series = [rng.gamma(1.0, 2.0, 40) for _ in range(4)]
    band = _comparison({"siloed": series}).band("value_delivered", window=5)
    smooth = np.column_stack([pd.Series(x).rolling(5, min_periods=1).mean() for x in series])
    assert band.tick.tolist() == list(range(40))
    np.testing.assert_allclose(band["mean"], smooth.mean(axis=1))
    # Inside the smoothed values of the seeds at every tick, so never below 0 value, where a t-band goes.
    assert (band.ci_low >= smooth.min(axis=1) - 1e-12).all() and (band.ci_high <= smooth.max(axis=1) + 1e-12).all()
    assert (band.ci_low < band["mean"]).all() and (band["mean"] < band.ci_high).all()
    t_low = smooth.mean(axis=1) - stats.t.ppf(0.975, 3) * smooth.std(axis=1, ddof=1) / 2
    assert (t_low < 0).any()
    # Tick 7 alone, through the one-measure interval: the same numbers.
    from orgsim.intervals import measure_interval

    ci = measure_interval("value_delivered", smooth[7])
    assert (band.ci_low[7], band.ci_high[7]) == pytest.approx((ci.low, ci.high), rel=0.05)


def test_band_of_lead_time_leaves_out_ticks_without_deliveries():
    """Lead time is NaN when nothing is delivered: a band must not average those ticks in as zero."""
    lead = np.array([np.nan, np.nan, 20.0, np.nan, 22.0, 21.0])
    band = _comparison({"siloed": [lead, lead + 2, lead + 4]}, "lead_time").band("lead_time", window=2)
    np.testing.assert_array_equal(band["mean"].isna(), [True, True, False, False, False, False])
    np.testing.assert_allclose(band["mean"].iloc[2:], [22.0, 22.0, 24.0, 23.5])
    # The three seeds are 2 apart: the interval stays within them.
    assert (band.ci_low.iloc[2:].to_numpy() >= band["mean"].iloc[2:].to_numpy() - 2).all()
    assert (band.ci_high.iloc[2:].to_numpy() <= band["mean"].iloc[2:].to_numpy() + 2).all()


def test_shocks_at_the_same_tick_share_one_recovery_window():
    series = np.r_[np.full(100, 10.0), np.full(40, 4.0), np.full(160, 10.0)]
    tied = adaptation(series, [100, 100], window=1, baseline=10, hold=10)
    alone = adaptation(series, [100], window=1, baseline=10, hold=10)
    assert [r["recovery_ticks"] for r in tied] == [alone[0]["recovery_ticks"]] * 2 == [40.0, 40.0]
    # Unsorted input: results follow the input order, each cut at the next later shock.
    later_first = adaptation(series, [200, 100], window=1, baseline=10, hold=10)
    assert [r["tick"] for r in later_first] == [200, 100]
    assert later_first[1]["recovery_ticks"] == 40.0


def test_headline_table_gives_km_medians_with_censored_and_not_hit_shocks_and_each_rows_interval():
    from orgsim.experiment import headline_table

    rows = [("a", "mean_value_delivered", 50.0, 48.0, 52.0, 4, "BCa bootstrap"),
            ("a", "recovery_value_delivered_needs", 106.0, 60.0, np.inf, 3, "Kaplan-Meier median"),
            ("a", "censored_value_delivered_needs", 2, np.nan, np.nan, 4, "none"),
            ("a", "not_hit_value_delivered_needs", 1, np.nan, np.nan, 4, "none"),
            ("a", "area_value_delivered_needs", -5.0, -20.0, 10.0, 4, "t"),
            ("b", "recovery_value_delivered_needs", np.inf, 80.0, np.inf, 4, "Kaplan-Meier median"),
            ("b", "censored_value_delivered_needs", 4, np.nan, np.nan, 4, "none"),
            ("b", "not_hit_value_delivered_needs", 0, np.nan, np.nan, 4, "none")]
    summary = pd.DataFrame(rows, columns=["organisation", "measure", "estimate", "ci_low", "ci_high", "n", "interval"])
    table = headline_table(summary).splitlines()
    assert table[1].startswith("value delivered per tick")
    assert table[1].split()[-5:] == ["50.0", "[48.0,", "52.0]", "-", "BCa"]  # b has no value: "-"
    (needs,) = [line for line in table if line.startswith("recovery after needs shock")]
    assert "106 [60, not reached] (2 cens., 1 not hit)" in needs
    assert needs.endswith("not reached (4 cens., 0 not hit)  KM")
    (area,) = [line for line in table if "value lost to next shock" in line]
    assert area.endswith("  t")
    assert not any(line.startswith("recovery after rules") for line in table)  # no rules shocks: no row


def test_figures_use_large_type_without_changing_matplotlib_globally():
    import matplotlib.pyplot as plt

    from orgsim.plotting import projector

    @projector(20)
    def draw():
        fig, ax = plt.subplots()
        ax.set_xlabel("tick")
        return fig

    before = dict(plt.rcParams)
    fig = draw()
    assert fig.axes[0].xaxis.label.get_fontsize() == 20
    assert dict(plt.rcParams) == before
    plt.close(fig)


def test_run_lead_time_is_the_mean_over_demands_delivered():
    df = pd.DataFrame({name: np.zeros(4) for name in MEASURES})
    df["completed"] = [0, 1, 3, 0]
    df["lead_time"] = [np.nan, 10.0, 2.0, np.nan]
    assert summarise(df, [], warmup=0)["mean_lead_time"] == pytest.approx((10 + 3 * 2) / 4)


def test_t_half_width_elementwise():
    from orgsim.metrics import t_half_width

    half = t_half_width(np.array([2.0, 2.0, 2.0]), np.array([0, 1, 10]))
    assert np.isnan(half[0]) and half[1] == 0.0
    assert half[2] == pytest.approx(stats.t.ppf(0.975, 9) * 2.0 / np.sqrt(10))
    assert float(t_half_width(1.0, 5, level=0.9)) == pytest.approx(stats.t.ppf(0.95, 4) / np.sqrt(5))


def test_comparison_figure_marks_random_shocks_once_per_seed():
    from orgsim.experiment import compare
    from orgsim.plotting import plot_comparison

    scenario = validate_scenario({"run": {"ticks": 120, "seeds": 2, "warmup": 10, "members": 20},
                                  "environment": {"regime": "chaotic", "arrival_rate": 2.0}})
    comparison = compare(scenario)
    fig = plot_comparison(comparison)
    (marks,) = [line for line in fig.axes[0].lines if line.get_label() == "random shock (any seed)"]
    random = comparison.shocks[~comparison.shocks.scheduled]
    assert len(random) > 0
    assert sorted(marks.get_xdata()) == sorted(random.drop_duplicates(["seed", "tick", "layer"]).tick)
