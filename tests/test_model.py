"""The organisation model: invariants every tick, reproducibility, same demand for every design, and
hand-built cases where the right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import small_arrival_rate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgsim.agents import Member
from orgsim.design import MANAGEMENT_LAYERS, OrgDesign
from orgsim.environment import DEFAULT_LOAD, LAYERS, DemandEnvironment, EnvironmentConfig
from orgsim.errors import OrgsimError
from orgsim.metrics import COUNTS, MEASURES
from orgsim.model import SKILL_FLOOR, OrgModel
from orgsim.sensing import Sensor

TOL = 1e-9
SHARES = ("alignment", "alignment_needs", "alignment_technology", "alignment_rules", "failure_demand",
          "internal_rework", "utilisation", "coordination_overhead", "planning_overhead", "onboarding_loss",
          "proficiency", "overload", "team_churn")
NON_NEGATIVE = ("value_delivered", "value_lost_delay", "value_lost_expiry", "value_lost_refused", "work_done",
                "rework_created", "hidden_found", "value_per_capacity", "skill_breadth", "team_size")


# --- a model that shows what its timeseries cannot ---------------------------------------------------


class CheckedModel(OrgModel):
    """OrgModel that remembers the value of each tick's primary arrivals (follow-ups carry none)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        draw = self.environment.step

        def recording_step():
            arrivals = draw()
            self.arrived_value = float(arrivals.value.sum())
            self.primary_arrivals = len(arrivals.types)
            return arrivals

        self.environment.step = recording_step


def run_checked(model: CheckedModel, ticks: int) -> pd.DataFrame:
    """Run ``ticks`` ticks, checking members and the demand book after every tick and value conservation;
    then check every tick's row of the timeseries. Returns the timeseries."""
    n = len(model.capacity)
    wip_limit = int(model.wip_limit * n)
    book_sizes, value_flow, primary = [], [], []
    for _ in range(ticks):
        value_before = float(model.demands.value.sum())
        model.step()
        worked, book = model.worked, model.demands
        # No member works beyond capacity.
        assert np.all(worked >= 0.0)
        assert np.all(worked.sum(axis=1) <= 1.0 + TOL)
        assert np.all((model.skills >= SKILL_FLOOR - TOL) & (model.skills <= 1.0 + TOL))
        assert np.all(model.onboarding >= 0)
        # Only members of the fluid pool are in teams, and each team's demand is one the organisation holds
        # (or just delivered).
        assert np.all(model.fluid[model.team >= 0])
        # The demand book: never over the WIP limit, no negative work, rework shares are shares.
        assert len(book) <= wip_limit
        assert np.all(book.remaining >= 0.0) and np.all(book.hidden >= 0.0)
        assert np.all((book.rework_share >= 0.0) & (book.rework_share <= 1.0))
        assert np.all(book.value[book.failure] == 0.0)  # follow-ups carry no value
        book_sizes.append(len(book))
        value_flow.append((value_before, model.arrived_value, float(book.value.sum())))
        primary.append(model.primary_arrivals)
    df = model.timeseries()
    check_timeseries(df, model)
    assert df["wip"].tolist() == book_sizes
    np.testing.assert_array_equal(df.arrived - df.arrived_failure, primary)
    # Value: what arrives is refused, delivered (after its cost of delay), lost to expiry, or still held.
    value = pd.DataFrame(value_flow, columns=["before", "arrived", "after"])
    left = value.before + value.arrived - df.value_lost_refused.to_numpy() - df.value_delivered.to_numpy()
    left -= df.value_lost_delay.to_numpy() + df.value_lost_expiry.to_numpy()
    np.testing.assert_allclose(value.after, left, rtol=0, atol=1e-6 * (1.0 + value.before.max() + value.arrived.max()))
    return df


def check_timeseries(df: pd.DataFrame, model: OrgModel) -> None:
    """Every tick's measures: finite, in range, and demands (follow-ups included) conserved."""
    assert df.columns.tolist() == list(MEASURES)
    assert df.index.tolist() == list(range(len(df)))
    # No demand is created or lost: arrivals are refused, completed, expired or still in progress.
    wip_before = np.concatenate([[0], df.wip.to_numpy()[:-1]])
    net = df.arrived - df.refused - df.completed - df.expired
    np.testing.assert_array_equal(df.wip.to_numpy() - wip_before, net.to_numpy())
    assert df.arrived.sum() == df.refused.sum() + df.completed.sum() + df.expired.sum() + df.wip.iloc[-1]
    assert np.all(df.refused <= df.arrived) and np.all(df.arrived_failure <= df.arrived)
    assert np.all(df.queued <= df.wip + df.completed + df.expired)
    for name in COUNTS:
        assert np.all(df[name] >= 0), name
    # Every measure finite; lead time is NaN when nothing was completed.
    for name in MEASURES:
        values = df[name].to_numpy(dtype=float)
        if name == "lead_time":
            assert np.all(np.isnan(values[df.completed.to_numpy() == 0]))
            values = values[~np.isnan(values)]
        assert np.all(np.isfinite(values)), name
    deadline = model.environment.config.deadline
    lead = df.lead_time.dropna()
    assert np.all((lead >= 1) & (lead <= deadline))
    for name in SHARES:
        assert np.all((df[name] >= -TOL) & (df[name] <= 1.0 + TOL)), name
    for name in NON_NEGATIVE:
        assert np.all(df[name] >= 0.0), name
    share = np.divide(df.arrived_failure, df.arrived, out=np.zeros(len(df)), where=df.arrived > 0)
    np.testing.assert_allclose(df.failure_demand, share, rtol=1e-12)  # Seddon: failure demand / all arrivals
    assert np.all(df.overload <= 1.0 - 0.85 + TOL)
    assert np.all((df.skill_breadth >= 1.0 - TOL) & (df.skill_breadth <= len(model.capabilities) + TOL))
    assert np.all(df.team_size[df.teams == 0] == 0) and np.all(df.team_size[df.teams > 0] >= 1)
    np.testing.assert_allclose(df.alignment, df[["alignment_needs", "alignment_technology",
                                                 "alignment_rules"]].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(df.value_per_capacity, df.value_delivered / model.capacity.sum(), rtol=1e-12)


# --- invariants ------------------------------------------------------------------------------------

SHOCKS = [{"tick": 60, "layer": "needs", "magnitude": 0.8}, {"tick": 120, "layer": "technology", "magnitude": 0.8},
          {"tick": 180, "layer": "rules", "magnitude": 0.6}, {"tick": 240, "layer": "volume", "magnitude": 0.5}]
WORLDS = {
    "clear": {"regime": "clear"},
    "complex-shocks": {"regime": "complex", "shocks": SHOCKS, "frontier_announcements": (20,)},
    "complicated": {"regime": "complicated", "shocks": SHOCKS[2:]},  # noisy signals
    # Twice the demand the organisation is sized for, and short deadlines: refusals and expiries.
    "chaotic-overload": {"regime": "chaotic", "load": 2 * DEFAULT_LOAD, "deadline": 15, "shocks": SHOCKS[:2]},
}
DESIGNS = ["siloed", "responsive", 0.5]


@pytest.mark.parametrize("world", sorted(WORLDS))
@pytest.mark.parametrize("design", DESIGNS, ids=str)
def test_invariants_hold_every_tick(design, world):
    model = CheckedModel(design, WORLDS[world], members=30, seed=3)
    df = run_checked(model, 300)
    assert df.completed.sum() > 0  # the organisation does work
    assert df.arrived_failure.sum() > 0  # failed customers came back, and were conserved too
    if world == "chaotic-overload":
        assert df.refused.sum() > 0 and df.expired.sum() > 0  # the conservation checks saw both
    if world == "complex-shocks":
        assert df.shocks.sum() >= len(SHOCKS)
        assert df.rework_created.sum() > 0


def _bounded(info, cap: float) -> tuple[float, float]:
    low = next(m.ge for m in info.metadata if hasattr(m, "ge"))
    high = next(m.le for m in info.metadata if hasattr(m, "le"))
    return low, min(high, cap)


def _lever_strategy() -> st.SearchStrategy[dict]:
    """Every lever of ``OrgDesign`` over its allowed range (delays and costs in ticks capped small)."""
    fields = {}
    for name, info in OrgDesign.model_fields.items():
        if name == "cadence":
            fields[name] = st.fixed_dictionaries({layer: st.integers(1, 40) for layer in MANAGEMENT_LAYERS})
        elif name == "constraints":
            fields[name] = st.sampled_from(["gate", "integrated"])
        elif info.annotation is int:
            fields[name] = st.integers(*map(int, _bounded(info, 20)))
        else:
            fields[name] = st.floats(*_bounded(info, 2.0))
    return st.fixed_dictionaries(fields)


levers = _lever_strategy()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levers=levers, regime=st.sampled_from(["clear", "complicated", "complex", "chaotic"]),
       load=st.floats(0.2, 3.0), seed=st.integers(0, 2**31))
def test_any_lever_combination_keeps_the_invariants(levers, regime, load, seed):
    environment = {"regime": regime, "load": load, "deadline": 25, "frontier_announcements": (5,),
                   "shocks": [{"tick": 20, "layer": "technology"}, {"tick": 40, "layer": "needs"}]}
    model = CheckedModel(OrgDesign.model_validate(levers), environment, members=20, seed=seed)
    run_checked(model, 70)


worlds = st.fixed_dictionaries({
    "regime": st.sampled_from(["clear", "complicated", "complex", "chaotic"]),
    "capabilities": st.sampled_from([("a", "compliance", "b"), ("compliance", "x", "y", "z")]),
    "frontier_capabilities": st.integers(0, 2), "frontier_announcements": st.lists(st.integers(0, 59), max_size=2),
    "demand_types": st.integers(1, 10), "regulated_share": st.floats(0, 1), "size_spread": st.floats(0, 1.5),
    "value_decay": st.floats(0, 1), "deadline": st.integers(1, 40), "promise": st.integers(1, 40),
    "load": st.floats(0.01, 5), "followup_chance": st.floats(0, 1), "followup_work": st.floats(0, 5),
    "layer_coupling": st.floats(0, 3),
    "shocks": st.lists(st.fixed_dictionaries({"tick": st.integers(0, 59), "layer": st.sampled_from(LAYERS),
                                              "magnitude": st.floats(0.01, 1)}), max_size=4),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levers=levers, world=worlds, members=st.integers(2, 25), capacity=st.floats(0.01, 5),
       item_rate=st.floats(0.05, 5), wip_limit=st.floats(0.05, 5), seed=st.integers(0, 2**31))
def test_edge_worlds_and_sizes_keep_the_invariants(levers, world, members, capacity, item_rate, wip_limit, seed):
    """Few capabilities, one demand type, two members, deadlines of one tick, shocks at any tick..."""
    model = CheckedModel(OrgDesign.model_validate(levers), world, members=members, capacity=capacity,
                         item_rate=item_rate, wip_limit=wip_limit, seed=seed)
    run_checked(model, 60)
    summary = model.summary(warmup=10)
    assert summary["shocks"] == len(model.shocks())
    assert len(model.adaptation()) == 2 * len(model.shocks())


# --- reproducibility and the shared demand stream -----------------------------------------------------


def test_same_seed_same_settings_give_identical_tables(small_model):
    world = {"regime": "chaotic", "shocks": SHOCKS[:2]}
    for design in DESIGNS:
        a = small_model(design, seed=5, **world).run(200)
        b = small_model(design, seed=5, **world).run(200)
        pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
        pd.testing.assert_frame_equal(a.shocks(), b.shocks(), check_exact=True)
        np.testing.assert_array_equal(a.skills, b.skills)
        c = small_model(design, seed=6, **world).run(200)
        assert not a.timeseries().equals(c.timeseries())
        assert not np.array_equal(a.timeseries().arrived, c.timeseries().arrived)


def test_every_design_faces_the_same_demand(small_model):
    world = {"regime": "chaotic", "shocks": SHOCKS}
    runs = [small_model(design, seed=9, **world).run(300) for design in [*DESIGNS, 0.2]]
    first = runs[0]
    assert (first.shocks().scheduled == False).any()  # noqa: E712  (random shocks are shared too)
    primary = first.timeseries().arrived - first.timeseries().arrived_failure
    assert first.environment.births  # types were born and died: the same ones for every design
    for other in runs[1:]:
        # Primary arrivals are shared; follow-ups are the organisation's own doing.
        np.testing.assert_array_equal(primary, other.timeseries().arrived - other.timeseries().arrived_failure)
        assert first.environment.births == other.environment.births
        np.testing.assert_array_equal(first.environment.frontier_state, other.environment.frontier_state)
        np.testing.assert_array_equal(first.timeseries().shocks, other.timeseries().shocks)
        pd.testing.assert_frame_equal(first.shocks(), other.shocks(), check_exact=True)
        np.testing.assert_array_equal(first.environment.mix, other.environment.mix)
        np.testing.assert_array_equal(first.environment.templates, other.environment.templates)
    # ... while what they make of it differs.
    assert not np.array_equal(runs[0].timeseries().completed, runs[1].timeseries().completed)
    assert not np.array_equal(runs[0].timeseries().arrived_failure, runs[1].timeseries().arrived_failure)


# --- hand-built cases ----------------------------------------------------------------------------------


def _one_capability_world(**overrides) -> tuple[dict, int, float]:
    """A still world with one demand type that needs one capability, every demand the same size.

    Returns the environment, the seed that gives such a type, and the work a demand needs."""
    environment = {"regime": "clear", "demand_types": 1, "regulated_share": 0.0, "size_spread": 0.0,
                   "arrival_rate": 3.0, **overrides}
    for seed in range(100):
        templates = OrgModel("siloed", environment, members=2, seed=seed).environment.templates
        if np.count_nonzero(templates) == 1:
            return environment, seed, float(templates.sum())
    raise AssertionError("no seed gives a one-capability demand type")


def test_utilisation_and_overload_of_a_single_unit_by_hand():
    """Siloed, one capability: every member works in the one unit, so each uses the same share of their
    time: work done / (capacity x the unit's total skill), and overload is that share above 85 %."""
    environment, seed, _ = _one_capability_world(arrival_rate=6.0)
    cogs = {"specialisation": 1.0, "fluidity": 0.0, "exploration": 0.0}
    model = OrgModel("siloed", environment, members=10, capacity=1.0, seed=seed, **cogs)
    for _ in range(150):
        skill = model.skills.max(axis=1).sum()  # specialists: their one capability
        model.step()
    df = model.timeseries()
    utilisation = df.work_done.iloc[-1] / skill
    assert df.utilisation.iloc[-1] == pytest.approx(utilisation, rel=1e-9)
    assert df.overload.iloc[-1] == pytest.approx(max(utilisation - 0.85, 0.0), abs=1e-12)
    assert df.utilisation.max() == pytest.approx(1.0)  # over-demanded: everybody busy at times
    assert df.overload.max() == pytest.approx(0.15)


def test_without_capacity_everything_expires_at_its_deadline():
    environment, seed, _ = _one_capability_world(deadline=10, followup_chance=0.0)
    model = OrgModel("siloed", environment, members=10, capacity=1e-6, wip_limit=100.0, seed=seed)
    value = model.environment.type_value[0]  # size_spread 0: every demand is worth its type's value
    df = model.run(100).timeseries()
    assert df.arrived_failure.sum() == 0
    assert df.completed.sum() == 0 and df.lead_time.isna().all()
    accepted = (df.arrived - df.refused).to_numpy()
    np.testing.assert_array_equal(df.expired.to_numpy()[9:], accepted[:-9])
    np.testing.assert_allclose(df.value_lost_expiry.to_numpy()[9:], accepted[:-9] * value)
    assert np.all(df.value_delivered == 0)


def test_full_organisation_refuses_what_it_cannot_hold():
    environment, seed, _ = _one_capability_world(deadline=10, followup_chance=0.0)
    model = OrgModel("siloed", environment, members=10, capacity=1e-6, wip_limit=0.5, seed=seed)
    value = model.environment.type_value[0]
    df = model.run(60).timeseries()
    # Intake comes before expiry: a tick takes in what fits beside the demands held at the last tick's end.
    free = 5 - df.wip.shift(fill_value=0)
    np.testing.assert_array_equal(df.refused, df.arrived - np.minimum(df.arrived, free))
    assert df.wip.max() == 5 and df.refused.sum() > 0
    np.testing.assert_allclose(df.value_lost_refused, df.refused * value)  # every demand is worth its type's value


def test_missed_technology_change_comes_back_as_failure_demand(small_model):
    """After a technology shock a planner who re-plans slowly plans demands from the old templates:
    work they need is missed (returns) and work they do not need is wasted."""
    shock = [{"tick": 50, "layer": "technology", "magnitude": 1.0}]
    slow = {"handoff_error": 0.0, "sensing_noise": 0.0, "sensing_delay": 0,
            "cadence": {"operations": 5, "process": 500, "structure": 500, "strategy": 500}}
    df = small_model("siloed", seed=4, levers=slow, regime="clear", shocks=shock).run(150).timeseries()
    assert np.all(df.failure_demand.iloc[:50] == 0.0)
    assert df.failure_demand.iloc[50:].mean() > 0.05
    assert df.alignment_technology.iloc[60:].mean() < df.alignment_technology.iloc[:50].mean()


@pytest.mark.parametrize("layer", LAYERS)
def test_scheduled_shock_is_logged_at_its_tick_with_its_layer(layer, small_model):
    model = small_model("responsive", seed=1, regime="clear", shocks=[{"tick": 40, "layer": layer,
                                                                      "magnitude": 0.5}])
    model.run(39)
    assert model.shocks().empty
    model.run(21)
    shocks = model.shocks()
    assert shocks.to_dict("records") == [{"tick": 40, "layer": layer, "magnitude": 0.5, "scheduled": True}]
    assert model.timeseries().shocks.to_numpy().nonzero()[0].tolist() == [40]
    adaptation = model.adaptation()
    assert set(adaptation.layer) == {layer} and set(adaptation.tick) == {40}


def test_siloed_hands_off_and_responsive_coordinates(small_model):
    siloed = small_model("siloed", seed=0, regime="clear").run(200)
    responsive = small_model("responsive", seed=0, regime="clear").run(200)
    assert np.all(siloed.timeseries().coordination_overhead == 0.0)  # no teams, no coordination cost
    assert responsive.timeseries().coordination_overhead.iloc[20:].mean() > 0.0
    for model in (siloed, responsive):
        breadth = (model.skills.sum(axis=1) / model.skills.max(axis=1)).mean()
        assert model.timeseries().skill_breadth.iloc[-1] == pytest.approx(breadth, rel=1e-12)
    # T-shaped members hold more of their capabilities than single-skill cogs.
    assert responsive.timeseries().skill_breadth.mean() > siloed.timeseries().skill_breadth.mean() + 0.3


def test_members_are_mesa_agents_viewing_the_model_arrays(small_model):
    model = small_model("responsive", seed=0).run(30)
    assert len(model.agents) == 30
    assert model.steps == model.tick == 30  # Mesa's step counter agrees with the model's clock
    assert all(isinstance(m, Member) for m in model.agents)
    for member in list(model.agents)[:5]:
        i = member.index
        np.testing.assert_array_equal(member.skills, model.skills[i])
        np.testing.assert_array_equal(member.time, model.worked[i])
        assert member.capacity == model.capacity[i]
        assert member.home == model.capabilities.names[model.home[i]]
        assert member.focus in model.capabilities.names
        assert member.onboarding == model.onboarding[i]


def test_summary_and_adaptation_of_a_run(small_model):
    model = small_model("siloed", seed=0, regime="complex", shocks=SHOCKS[:2]).run(200)
    summary = model.summary(warmup=20)
    df = model.timeseries()
    assert summary["mean_value_delivered"] == pytest.approx(df.value_delivered.iloc[20:].mean())
    assert summary["total_value_delivered"] == pytest.approx(df.value_delivered.sum())
    assert summary["shocks"] == len(model.shocks())
    table = model.adaptation()
    assert len(table) == 2 * len(model.shocks())
    assert set(table.measure) == {"value_delivered", "alignment"}


@pytest.mark.parametrize(
    ("kwargs", "start"),
    [({"members": 1}, "members"), ({"members": 10.5}, "members"), ({"capacity": 0}, "capacity"),
     ({"item_rate": -1}, "item_rate"), ({"wip_limit": "lots"}, "wip_limit"), ({"design": 2.0}, "coupling"),
     ({"design": "hierarchy"}, "unknown organisation preset"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
     ({"seed": "7"}, "seed")],
)
def test_bad_model_arguments_are_one_line_errors(kwargs, start):
    with pytest.raises(OrgsimError) as err:
        OrgModel(**kwargs)
    assert str(err.value).startswith(start) and "\n" not in str(err.value)


def test_numpy_integer_seeds_are_whole_numbers():
    a = OrgModel("siloed", members=10, seed=np.int64(4)).run(20).timeseries()
    b = OrgModel("siloed", members=10, seed=4).run(20).timeseries()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_run_rejects_bad_tick_counts(small_model):
    model = small_model()
    for ticks in (-1, 2.5, True):
        with pytest.raises(OrgsimError, match="ticks"):
            model.run(ticks)
    assert len(model.run(0).timeseries()) == 0


def test_sensor_reads_a_delayed_window_mean():
    sensor = Sensor({"x": np.zeros(2)}, horizon=10, noise=0.0, rng=np.random.default_rng(0))
    for t in range(1, 8):
        sensor.record(x=np.array([t, 10.0 * t]))
    np.testing.assert_allclose(sensor.read("x", 1, 0), [7, 70])
    np.testing.assert_allclose(sensor.read("x", 3, 0), [6, 60])  # mean of 5, 6, 7
    np.testing.assert_allclose(sensor.read("x", 2, 2), [4.5, 45])  # 4 and 5: two ticks late
    # Before the first record the history holds the founding state (zeros here).
    np.testing.assert_allclose(sensor.read("x", 10, 0), [2.8, 28])  # (0 + 0 + 0 + 1 + ... + 7) / 10
    np.testing.assert_allclose(sensor.read("x", 50, 2), [15 / 8, 150 / 8])  # window clipped to what is kept
    for t in range(8, 16):  # the ring buffer wraps: the last 10 ticks are 6 .. 15
        sensor.record(x=np.array([t, 10.0 * t]))
    np.testing.assert_allclose(sensor.read("x", 10, 0), [10.5, 105])


def test_sensor_noise_is_unbiased_and_averages_out_over_the_window():
    sensor = Sensor({"x": np.full(20_000, 5.0)}, horizon=8, noise=0.5, rng=np.random.default_rng(1))
    one, four = sensor.read("x", 1, 0), sensor.read("x", 4, 0)
    assert one.mean() == pytest.approx(5.0, abs=0.05)
    assert np.log(one / 5).std() == pytest.approx(0.5, rel=0.03)
    assert np.log(four / 5).std() == pytest.approx(0.25, rel=0.03)
    np.testing.assert_array_equal(sensor.read("x", 1, 0, noisy=False), 5.0)


def test_arrivals_are_the_environment_streams_whatever_the_organisation():
    """The model's environment draws from the first of two streams spawned from the seed: a stand-alone
    environment on that stream produces exactly the demands the organisation saw arrive."""
    world = EnvironmentConfig(regime="chaotic", arrival_rate=small_arrival_rate(),
                              shocks=[{"tick": 30, "layer": "volume", "magnitude": 0.5}])
    model = OrgModel("responsive", world, members=30, seed=11).run(120)
    alone = DemandEnvironment(world, np.random.default_rng(11).spawn(2)[0])
    counts = [len(alone.step().types) for _ in range(120)]
    df = model.timeseries()
    assert (df.arrived - df.arrived_failure).tolist() == counts
    assert model.environment.shock_log == alone.shock_log


def test_structure_moves_members_at_its_cadence():
    """After a technology shock, structure re-plans headcount at multiples of its cadence; ``moves``
    counts the members whose home unit changed, and nobody moves at any other tick."""
    shock = [{"tick": 20, "layer": "technology", "magnitude": 1.0}]
    model = OrgModel("siloed", {"regime": "clear", "arrival_rate": small_arrival_rate(), "shocks": shock},
                     members=30, seed=5, cadence={"structure": 25}, sensing_delay=0)
    moved = []
    for _ in range(150):
        home = model.home.copy()
        model.step()
        moved.append(int((home != model.home).sum()))
    moves = model.timeseries().moves
    assert moves.tolist() == moved
    assert moves.sum() > 0
    assert set(np.flatnonzero(moves.to_numpy())) <= {25, 50, 75, 100, 125}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levers=levers, world=worlds, seed=st.integers(0, 2**31))
def test_any_design_is_reproducible_bit_for_bit(levers, world, seed):
    design = OrgDesign.model_validate(levers)
    a, b = (OrgModel(design, world, members=12, seed=seed).run(40) for _ in range(2))
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(a.shocks(), b.shocks(), check_exact=True)


def test_a_shock_applied_between_ticks_is_counted_at_the_next_tick(small_model):
    model = small_model("responsive", seed=2, regime="clear").run(10)
    model.environment.shock("rules", 0.5)  # by hand, as the dashboard does
    model.run(2)
    counts = model.timeseries().shocks.to_numpy()
    assert counts.nonzero()[0].tolist() == [10]
    assert model.shocks().tick.tolist() == [10]




def _two_step_world() -> tuple[dict, int, list[float]]:
    """A still world with one unregulated demand type needing exactly two customer capabilities, each at
    least a fifth of its work. Returns the environment, the seed, and the two steps' work in flow order."""
    environment = {"regime": "clear", "demand_types": 1, "regulated_share": 0.0, "size_spread": 0.0,
                   "arrival_rate": 2.0}
    for seed in range(200):
        model = OrgModel("siloed", environment, members=2, seed=seed)
        steps = model.environment.templates[0][model.capabilities.flow_order]
        steps = steps[steps > 0]
        if len(steps) == 2 and steps.min() >= 0.2 * steps.sum():
            return environment, seed, steps.tolist()
    raise AssertionError("no seed gives such a demand type")


@pytest.mark.parametrize("constraints", ["integrated", "gate"])
@pytest.mark.parametrize("delay", [0, 3])
def test_handed_off_demand_waits_at_each_handoff_and_a_gate_checks_it_last(constraints, delay):
    """Silo'd flow with ample capacity: one step, a hand-off, the next step, each at ``item_rate`` a tick;
    a gate adds one more hand-off and a check of GATE_CHECK work (one tick)."""
    environment, seed, (first, second) = _two_step_world()
    model = OrgModel("siloed", environment, members=40, capacity=50.0, seed=seed, handoff_delay=delay,
                     handoff_error=0.0, constraints=constraints)
    df = model.run(150).timeseries()
    rate = model.item_rate
    lead = math.ceil(first / rate) + delay + math.ceil(second / rate)
    if constraints == "gate":
        lead += delay + 1
    assert set(df.lead_time.dropna()) == {lead}
    assert df.expired.sum() == 0 and df.refused.sum() == 0 and df.rework_created.sum() == 0
    assert df.arrived_failure.sum() == 0  # nobody failed: no failure demand
