"""Intervals that never leave their measure's range, and say which interval they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orgsim.intervals import check_ranges, interval, measure_interval, measure_range, table_intervals


def test_every_per_tick_measure_has_a_declared_range():
    assert check_ranges() == [], "declare the range of these measures in orgsim.intervals.RANGES"
    assert measure_range("mean_failure_demand") == (0.0, 1.0)
    assert measure_range("mean_completed") == (0.0, np.inf)  # a count
    assert measure_range("recovery_value_delivered_needs") == (0.0, np.inf)
    with pytest.raises(KeyError):
        measure_range("mystery")


def test_a_skewed_bounded_measure_gets_a_bootstrap_interval_inside_its_range():
    # Three seeds never recovered in the window, one took 400 ticks: the t-interval goes below 0 ticks.
    ticks = [0.0, 0.0, 0.0, 400.0]
    t_low = stats.t.interval(0.95, 3, loc=100.0, scale=stats.sem(ticks))[0]
    assert t_low < 0
    ci = measure_interval("recovery_value_delivered_needs", ticks)
    assert ci.method in ("BCa bootstrap", "percentile bootstrap")
    assert 0.0 <= ci.low <= ci.estimate == 100.0 <= ci.high <= 400.0
    assert ci == measure_interval("recovery_value_delivered_needs", ticks)  # seeded: the same every time
    share = measure_interval("mean_failure_demand", [0.01, 0.02, 0.0, 0.9, 0.97])
    assert share.low >= 0.0 and share.high <= 0.97


def test_an_unbounded_measure_gets_the_t_interval():
    v = [-2.0, 1.0, 3.5, 0.5]
    ci = interval(v)
    low, high = stats.t.interval(0.95, 3, loc=np.mean(v), scale=stats.sem(v))
    assert ci.method == "t" and (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    assert measure_interval("margin", v).method == "t"


def test_tiny_and_constant_samples():
    assert interval([5.0], low=0.0) == interval([5.0, np.nan], low=0.0)
    one = interval([5.0], low=0.0)
    assert (one.estimate, one.low, one.high, one.n, one.method) == (5.0, 5.0, 5.0, 1, "none")
    same = interval([2.0, 2.0, 2.0], low=0.0)
    assert (same.low, same.high, same.n) == (2.0, 2.0, 3)
    assert np.isnan(interval([]).estimate) and interval([]).n == 0
    two = interval([1.0, 3.0], low=0.0)
    assert two.method.endswith("bootstrap") and 1.0 <= two.low < two.high <= 3.0


def test_a_table_of_measures_gets_each_its_interval():
    rng = np.random.default_rng(2)
    samples = pd.DataFrame({
        "mean_value_delivered": rng.gamma(2.0, 10.0, 10),
        "mean_failure_demand": rng.beta(0.3, 3.0, 10),
        "margin": rng.normal(0, 5, 10),
        "mean_lead_time": np.r_[rng.uniform(5, 9, 8), np.nan, np.nan],
        "mystery": rng.normal(-5, 1, 10),  # no declared range: bootstrapped, so within what was seen
    })
    table = table_intervals(samples).set_index("measure")
    assert table.loc["margin", "interval"] == "t"
    assert (table.drop(index="margin").interval == "BCa bootstrap").all()
    assert table.loc["mean_lead_time", "n"] == 8
    for name, row in table.iterrows():
        v = samples[name].dropna()
        assert row.estimate == pytest.approx(v.mean(), rel=1e-12)
        if name != "margin":
            assert v.min() <= row.ci_low <= row.estimate <= row.ci_high <= v.max()
    assert table.loc["mean_failure_demand", "ci_low"] >= 0.0
