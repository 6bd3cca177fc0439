"""Recovery against a no-shock twin: hand-computed recoveries, censoring, "not hit", Kaplan-Meier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orgsim import recovery as rc
from orgsim.recovery import Rule, km_median
from orgsim.scenario import validate_scenario

ONE = Rule(window=1, tol=0.1, hold=5)


def _dip(start: int, length: int, depth: float, n: int = 100, level: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    twin = np.full(n, level)
    shocked = twin.copy()
    shocked[start : start + length] -= depth
    return shocked, twin


def test_a_dip_recovers_when_the_loss_is_back_within_tolerance_and_holds():
    shocked, twin = _dip(20, 10, 6.0)  # loss 6 on ticks 20..29, 0 after
    r = rc.recovery(shocked, twin, 20, rule=ONE)
    assert (r["outcome"], r["time"], r["censored"], r["hit_tick"]) == ("recovered", 10.0, False, 20.0)
    assert (r["depth"], r["area"], r["level"]) == (6.0, 60.0, 10.0)


def test_a_smoothed_recovery_by_hand():
    # Loss 6 on ticks 20..22; trailing 3-tick means from tick 20: 2, 4, 6, 4, 2, 0, ... Tolerance 0.1 x 10 = 1:
    # beyond on ticks 20..24, back within from tick 25 (5 ticks after the shock) and for good.
    shocked, twin = _dip(20, 3, 6.0)
    r = rc.recovery(shocked, twin, 20, rule=Rule(window=3, tol=0.1, hold=5))
    assert (r["outcome"], r["time"], r["depth"], r["area"]) == ("recovered", 5.0, 6.0, 18.0)
    # The same loss with a 10-tick hold and a window ending at tick 34: 25 + 10 <= 34 fails, so censored.
    r = rc.recovery(shocked, twin, 20, end=34, rule=Rule(window=3, tol=0.1, hold=10))
    assert (r["outcome"], r["censored"], r["time"]) == ("censored", True, 4.0)  # known only: > 34 - 10 - 20


def test_a_loss_that_comes_late_is_timed_from_the_shock_not_read_as_recovered_at_once():
    shocked, twin = _dip(60, 10, 6.0)  # the shock at 20 shows only at 60
    r = rc.recovery(shocked, twin, 20, rule=ONE)
    assert (r["outcome"], r["hit_tick"], r["time"]) == ("recovered", 60.0, 50.0)


def test_a_recovery_that_does_not_hold_is_censored_at_the_end_of_the_run():
    shocked, twin = _dip(20, 200, 6.0, n=60)  # never recovers within the run
    r = rc.recovery(shocked, twin, 20, rule=ONE)
    assert (r["outcome"], r["censored"], r["time"]) == ("censored", True, 35.0)  # 60 - 5 - 20
    assert r["area"] == 240.0  # 6 x the 40 ticks observed
    # Back within tolerance at tick 57, but 3 ticks are fewer than the hold of 5: still censored.
    shocked, twin = _dip(20, 37, 6.0, n=60)
    assert rc.recovery(shocked, twin, 20, rule=ONE)["outcome"] == "censored"


def test_a_recovery_is_censored_at_the_next_scheduled_shock():
    shocked, twin = _dip(20, 30, 6.0)
    assert rc.recovery(shocked, twin, 20, rule=ONE)["time"] == 30.0
    r = rc.recovery(shocked, twin, 20, end=40, rule=ONE)  # the next shock comes at 40
    assert (r["outcome"], r["time"], r["area"]) == ("censored", 15.0, 120.0)


def test_not_hit_is_its_own_outcome():
    shocked, twin = _dip(20, 30, 0.9)  # 9 % below the twin: within the 10 % tolerance
    r = rc.recovery(shocked, twin, 20, rule=ONE)
    assert (r["outcome"], r["censored"]) == ("not hit", False) and np.isnan(r["time"])
    assert r["depth"] == pytest.approx(0.9) and r["area"] == pytest.approx(27.0)
    gain = rc.recovery(*_dip(20, 30, -3.0), 20, rule=ONE)  # a shock that helps: never a loss
    assert gain["outcome"] == "not hit" and gain["depth"] == 0.0 and gain["area"] == -90.0


def test_where_lower_is_better_the_loss_is_shocked_minus_twin():
    twin = np.full(80, 20.0)
    shocked = twin.copy()
    shocked[30:38] = 30.0  # lead time up by 10 for 8 ticks
    r = rc.recovery(shocked, twin, 30, rule=ONE, better="lower")
    assert (r["outcome"], r["time"], r["depth"], r["area"]) == ("recovered", 8.0, 10.0, 80.0)
    assert rc.recovery(shocked, twin, 30, rule=ONE)["outcome"] == "not hit"


def test_kaplan_meier_median_against_a_hand_computation():
    # Recovered at 3, 5, 7, 9; censored at 6 and 10. At risk 6, 5, (6 censored), 3, 2:
    # S(3) = 5/6, S(5) = 4/6, S(7) = 4/6 x 2/3 = 0.444 <= 1/2: the median is 7.
    times = [3, 5, 7, 9, 6, 10]
    censored = [False, False, False, False, True, True]
    med = km_median(times, censored)
    assert (med.median, med.events, med.censored) == (7.0, 4, 2)
    # The log-log band by hand (Greenwood's variance), and the median's CI where it contains 1/2.
    at_risk = np.array([6, 5, 3, 2])
    surv = np.cumprod((at_risk - 1) / at_risk)
    cum = np.cumsum([1 / (n * (n - 1)) for n in at_risk])
    z = stats.norm.ppf(0.975)
    se = np.sqrt(cum) / np.abs(np.log(surv))
    low_band, high_band = surv ** np.exp(z * se), surv ** np.exp(-z * se)
    event_times = np.array([3, 5, 7, 9])
    assert med.ci_low == event_times[np.argmax(low_band <= 0.5)] == 3.0  # S(3) = 5/6 has a band down to 0.27
    assert not (high_band <= 0.5).any() and med.ci_high == np.inf  # the upper band never reaches 1/2
    assert med.text() == "7 [3, not reached]"
    # Never a mean of censored values: the mean of these times would be 6.7.


def test_kaplan_meier_median_not_reached_and_edge_cases():
    med = km_median([5, 10, 12, 20], [False, True, True, True])  # S = 3/4 after the only recovery
    assert med.median == np.inf and not med.reached
    assert med.text(longest=20) == "median not reached (> 20)"
    assert km_median([8, 9], [True, True]).median == np.inf  # nothing recovered
    assert np.isnan(km_median([], []).median)
    uncensored = km_median([2, 4, 6, 8, 10], [False] * 5)
    assert uncensored.median == 6.0  # S(6) = 2/5: the plain sample median when nothing is censored


def test_summary_counts_outcomes_apart_and_estimates_km_per_layer():
    rows = [("a", s, "needs", "recovered", t, False) for s, t in enumerate([3, 5, 7, 9])]
    rows += [("a", 4, "needs", "censored", 6, True), ("a", 5, "needs", "censored", 10, True),
             ("a", 6, "needs", "not hit", np.nan, False), ("a", 0, "rules", "not hit", np.nan, False)]
    records = pd.DataFrame(rows, columns=["organisation", "seed", "layer", "outcome", "time", "censored"])
    records = records.assign(measure="value_delivered", depth=[4.0, 2, 6, 8, 5, 5, 0.5, 0.1],
                             area=[10.0, -2, 30, 40, 20, 20, 1, -1])
    table = rc.summarise(records).set_index("layer")
    needs = table.loc["needs"]
    assert (needs.shocks, needs.not_hit, needs.recovered, needs.censored) == (7, 1, 4, 2)
    assert (needs["median"], needs.ci_low, needs.ci_high, needs.longest) == (7.0, 3.0, np.inf, 10.0)
    assert needs.depth_interval == "BCa bootstrap" and needs.area_interval == "t"
    assert 0.1 <= needs.depth_ci_low <= needs.depth <= needs.depth_ci_high <= 8.0
    rules = table.loc["rules"]
    assert (rules.shocks, rules.not_hit, rules.recovered) == (1, 1, 0) and np.isnan(rules["median"])


# --- twins on the model ---------------------------------------------------------------------------------------
TINY = {
    "run": {"ticks": 120, "seeds": 2, "members": 20, "warmup": 10},
    "environment": {"arrival_rate": 2.0, "regime": "chaotic",
                    "shocks": [{"tick": 40, "layer": "needs", "magnitude": 0.9},
                               {"tick": 80, "layer": "technology", "magnitude": 0.9}]},
}


def test_the_twin_is_the_scenario_without_that_shock_up_to_the_next_one():
    scenario = validate_scenario(TINY)
    twin = rc.without_shock(scenario, 0)
    assert [s.tick for s in twin.environment.shocks] == [80] and twin.run == scenario.run
    assert (rc.window_end(scenario, 0), rc.window_end(scenario, 1)) == (80, 120)
    with pytest.raises(IndexError):
        rc.without_shock(scenario, 2)


def test_a_run_and_its_twin_are_identical_before_the_shock():
    scenario = validate_scenario(TINY)
    shocked = scenario.model("siloed", 3).run(120).timeseries()
    twin = rc.twin_timeseries(scenario, "siloed", 3, 0)
    assert len(twin) == 80  # run only to the end of the shock's window
    pd.testing.assert_frame_equal(shocked.iloc[:40], twin.iloc[:40])
    assert not shocked.iloc[40:80].equals(twin.iloc[40:80])


def test_a_scheduled_shock_leaves_the_worlds_own_random_stream_alone():
    """With scheduled shocks on a stream of their own (model v2), the random shocks of the world come at
    the same ticks with and without a scheduled shock (in model v1 the shock's draws shifted the stream)."""
    scenario = validate_scenario({**TINY, "run": {**TINY["run"], "ticks": 400}, "environment": {
        **TINY["environment"], "shocks": [{"tick": 40, "layer": "needs", "magnitude": 0.9}]}})
    for seed in range(3):
        shocked = scenario.model("responsive", seed).run(400).shocks()
        twin = rc.without_shock(scenario, 0).model("responsive", seed).run(400).shocks()
        random = [s[~s.scheduled.astype(bool)][["tick", "layer"]].reset_index(drop=True) for s in (shocked, twin)]
        assert len(random[0]) > 0
        pd.testing.assert_frame_equal(*random)


def test_shock_recoveries_of_real_runs_and_their_flat_columns():
    scenario = validate_scenario(TINY)
    series = scenario.model("siloed", 1).run(120).timeseries()
    table = rc.shock_recoveries(scenario, "siloed", 1, series)
    assert table[["shock", "layer", "tick", "end", "measure"]].values.tolist() == [
        [0, "needs", 40, 80, "value_delivered"], [0, "needs", 40, 80, "alignment"],
        [1, "technology", 80, 120, "value_delivered"], [1, "technology", 80, 120, "alignment"]]
    assert set(table.outcome) <= {"recovered", "censored", "not hit"}
    hit = table[table.outcome != "not hit"]
    assert (hit.time >= 0).all() and (hit.time <= hit.end - hit.tick).all() and (table.depth >= 0).all()
    # Recomputed by hand from the twin's series: the same numbers.
    twin = rc.twin_timeseries(scenario, "siloed", 1, 0)
    by_hand = rc.recovery(series.value_delivered, twin.value_delivered, 40, 80)
    assert table.iloc[0][list(by_hand)].to_dict() == pytest.approx(by_hand, nan_ok=True)
    # A sweep keeps them as flat columns of the run's row; they read back as the same table.
    row = {"organisation": "siloed", "seed": 1, **rc.to_columns(table)}
    back = rc.from_columns(pd.DataFrame([row]))
    pd.testing.assert_frame_equal(back.drop(columns=["organisation", "seed"]),
                                  table.sort_values(["shock", "measure"], key=lambda c: c.map(
                                      {m: i for i, m in enumerate(rc.RECOVERY_MEASURES)}) if c.name == "measure"
                                      else c).reset_index(drop=True), check_dtype=False)
