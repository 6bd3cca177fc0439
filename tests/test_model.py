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
from orgsim.demands import DemandBook
from orgsim.design import MANAGEMENT_LAYERS, OrgDesign
from orgsim.environment import LAYERS, DemandEnvironment, EnvironmentConfig
from orgsim.errors import OrgsimError
from orgsim.metrics import COUNTS, MEASURES, overlap
from orgsim.model import SKILL_FLOOR, OrgModel
from orgsim.sensing import Sensor

TOL = 1e-9
SHARES = ("alignment", "alignment_needs", "alignment_technology", "alignment_rules", "failure_demand",
          "utilisation", "coordination_overhead", "proficiency", "overload")
NON_NEGATIVE = ("value_delivered", "value_lost_delay", "value_lost_expiry", "value_lost_refused", "work_done",
                "rework_created", "value_per_capacity", "skill_breadth")


# --- a model that shows what its timeseries cannot ---------------------------------------------------


class _RecordingBook(DemandBook):
    """A demand book that remembers the work still to do on the demands it last dropped."""

    dropped_work = 0.0

    def keep(self, mask: np.ndarray) -> None:
        self.dropped_work = float(self.remaining[~mask].sum())
        super().keep(mask)


class CheckedModel(OrgModel):
    """OrgModel that keeps, each tick, the time it allocated and the work it took in."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.demands = _RecordingBook(len(self.capabilities))

    def _intake(self, arrivals, t):
        planned = super()._intake(arrivals, t)
        self.intake_work = float(planned.sum())
        self.arrived_value = float(arrivals.value.sum())
        return planned

    def _allocate_time(self):
        self.time_allocated = super()._allocate_time()
        return self.time_allocated


def run_checked(model: CheckedModel, ticks: int) -> pd.DataFrame:
    """Run ``ticks`` ticks, checking capacity and the demand book after every tick, and work-unit
    conservation; then check every tick's row of the timeseries. Returns the timeseries."""
    n = len(model.capacity)
    cap = model.capacity
    wip_limit = int(model.wip_limit * n)
    exploration = model.design.exploration
    book_sizes, work_flow, value_flow = [], [], []
    for _ in range(ticks):
        before = float(model.demands.remaining.sum())
        value_before = float(model.demands.value.sum())
        model.step()
        time, worked, book = model.time_allocated, model.worked, model.demands
        # No member works beyond capacity: time allocated, and work actually done.
        assert np.all(time >= 0.0)
        assert np.all(time.sum(axis=1) <= cap * (1.0 - exploration) + TOL)
        assert np.all(worked >= 0.0)
        assert np.all(worked.sum(axis=1) <= 1.0 + TOL)
        assert np.all(worked <= time / cap[:, None] + TOL)  # nobody works more than their allocation
        assert np.all((model.skills >= SKILL_FLOOR) & (model.skills <= 1.0))
        assert np.all(model.onboarding >= 0)
        # The demand book: never over the WIP limit, no negative work, failure shares are shares.
        assert len(book) <= wip_limit
        assert np.all(book.remaining >= 0.0) and np.all(book.hidden >= 0.0)
        assert np.all((book.failure_share >= 0.0) & (book.failure_share <= 1.0))
        book_sizes.append(len(book))
        work_flow.append((before, model.intake_work, book.dropped_work, float(book.remaining.sum())))
        value_flow.append((value_before, model.arrived_value, float(book.value.sum())))
    df = model.timeseries()
    check_timeseries(df, model)
    assert df["wip"].tolist() == book_sizes
    # Work units: what is left = what was left + work taken in + rework - work done - work dropped.
    flow = pd.DataFrame(work_flow, columns=["before", "intake", "dropped", "after"])
    expected = flow.before + flow.intake + df.rework_created.to_numpy() - df.work_done.to_numpy() - flow.dropped
    scale = 1.0 + flow.before.abs() + flow.intake
    np.testing.assert_allclose(flow.after, expected, rtol=0, atol=1e-6 * scale.max())
    # Completed demands leave with nothing to do: only expired demands take work away with them.
    assert np.all(flow.dropped[df.expired.to_numpy() == 0] <= 1e-6)
    # Value: what arrives is refused, delivered (after its cost of delay), lost to expiry, or still held.
    value = pd.DataFrame(value_flow, columns=["before", "arrived", "after"])
    left = value.before + value.arrived - df.value_lost_refused.to_numpy() - df.value_delivered.to_numpy()
    left -= df.value_lost_delay.to_numpy() + df.value_lost_expiry.to_numpy()
    np.testing.assert_allclose(value.after, left, rtol=0, atol=1e-6 * (1.0 + value.before.max() + value.arrived.max()))
    return df


def check_timeseries(df: pd.DataFrame, model: OrgModel) -> None:
    """Every tick's measures: finite, in range, and demands conserved."""
    assert df.columns.tolist() == list(MEASURES)
    assert df.index.tolist() == list(range(len(df)))
    # No demand is created or lost: arrivals are refused, completed, expired or still in progress.
    wip_before = np.concatenate([[0], df.wip.to_numpy()[:-1]])
    net = df.arrived - df.refused - df.completed - df.expired
    np.testing.assert_array_equal(df.wip.to_numpy() - wip_before, net.to_numpy())
    assert df.arrived.sum() == df.refused.sum() + df.completed.sum() + df.expired.sum() + df.wip.iloc[-1]
    assert np.all(df.refused <= df.arrived)
    assert np.all(df.queued <= wip_before + df.arrived - df.refused)
    for name in COUNTS:
        assert np.all(df[name] >= 0), name
    # Every measure finite; lead time is NaN exactly when nothing was completed.
    for name in MEASURES:
        values = df[name].to_numpy(dtype=float)
        if name == "lead_time":
            assert np.array_equal(np.isnan(values), df.completed.to_numpy() == 0)
            values = values[~np.isnan(values)]
        assert np.all(np.isfinite(values)), name
    deadline = model.environment.config.deadline
    lead = df.lead_time.dropna()
    assert np.all((lead >= 1) & (lead <= deadline))
    for name in SHARES:
        assert np.all((df[name] >= -TOL) & (df[name] <= 1.0 + TOL)), name
    for name in NON_NEGATIVE:
        assert np.all(df[name] >= 0.0), name
    assert np.all(df.overload <= 1.0 - 0.85 + TOL)
    assert np.all((df.skill_breadth >= 1.0 - TOL) & (df.skill_breadth <= len(model.capabilities) + TOL))
    np.testing.assert_allclose(df.alignment, df[["alignment_needs", "alignment_technology",
                                                 "alignment_rules"]].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(df.value_per_capacity, df.value_delivered / model.capacity.sum(), rtol=1e-12)


# --- invariants ------------------------------------------------------------------------------------

SHOCKS = [{"tick": 60, "layer": "needs", "magnitude": 0.8}, {"tick": 120, "layer": "technology", "magnitude": 0.8},
          {"tick": 180, "layer": "rules", "magnitude": 0.6}, {"tick": 240, "layer": "volume", "magnitude": 0.5}]
WORLDS = {
    "clear": {"regime": "clear"},
    "complex-shocks": {"regime": "complex", "shocks": SHOCKS},
    # Twice the demand the organisation is sized for, and short deadlines: refusals and expiries.
    "complicated": {"regime": "complicated", "shocks": SHOCKS[2:]},  # noisy signals
    "chaotic-overload": {"regime": "chaotic", "arrival_rate": 2 * small_arrival_rate(), "deadline": 15,
                         "shocks": SHOCKS[:2]},
}
DESIGNS = ["siloed", "responsive", 0.5]


@pytest.mark.parametrize("world", sorted(WORLDS))
@pytest.mark.parametrize("design", DESIGNS, ids=str)
def test_invariants_hold_every_tick(design, world):
    environment = {"arrival_rate": small_arrival_rate(), **WORLDS[world]}
    model = CheckedModel(design, environment, members=30, seed=3)
    df = run_checked(model, 300)
    assert df.completed.sum() > 0  # the organisation does work
    if world == "chaotic-overload":
        assert df.refused.sum() > 0 and df.expired.sum() > 0  # the conservation checks saw both
    if world == "complex-shocks":
        assert df.shocks.sum() >= len(SHOCKS)
        assert df.rework_created.sum() > 0


levers = st.fixed_dictionaries({
    "specialisation": st.floats(0, 1), "fluidity": st.floats(0, 1), "handoff_delay": st.integers(0, 5),
    "handoff_error": st.floats(0, 1), "rework_fraction": st.floats(0, 2), "sensing_delay": st.integers(0, 20),
    "sensing_noise": st.floats(0, 2),
    "cadence": st.fixed_dictionaries({layer: st.integers(1, 40) for layer in MANAGEMENT_LAYERS}),
    "learning_rate": st.floats(0, 1), "forgetting_rate": st.floats(0, 1), "exploration": st.floats(0, 0.9),
    "constraints": st.sampled_from(["gate", "integrated"]), "coordination_cost": st.floats(0, 2),
    "restructure_cost": st.integers(0, 20), "strategy_threshold": st.floats(0, 0.3),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levers=levers, regime=st.sampled_from(["clear", "complicated", "complex", "chaotic"]),
       load=st.floats(0.2, 3.0), seed=st.integers(0, 2**31))
def test_any_lever_combination_keeps_the_invariants(levers, regime, load, seed):
    environment = {"regime": regime, "arrival_rate": load * small_arrival_rate(20), "deadline": 25,
                   "shocks": [{"tick": 20, "layer": "technology"}, {"tick": 40, "layer": "needs"}]}
    model = CheckedModel(OrgDesign.model_validate(levers), environment, members=20, seed=seed)
    run_checked(model, 70)


worlds = st.fixed_dictionaries({
    "regime": st.sampled_from(["clear", "complicated", "complex", "chaotic"]),
    "capabilities": st.sampled_from([("a", "compliance", "b"), ("compliance", "x", "y", "z")]),
    "demand_types": st.integers(1, 10), "regulated_share": st.floats(0, 1), "size_spread": st.floats(0, 1.5),
    "value_decay": st.floats(0, 1), "deadline": st.integers(1, 40), "arrival_rate": st.floats(0.01, 30),
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
    for other in runs[1:]:
        np.testing.assert_array_equal(first.timeseries().arrived, other.timeseries().arrived)
        np.testing.assert_array_equal(first.timeseries().shocks, other.timeseries().shocks)
        pd.testing.assert_frame_equal(first.shocks(), other.shocks(), check_exact=True)
        np.testing.assert_array_equal(first.environment.mix, other.environment.mix)
        np.testing.assert_array_equal(first.environment.templates, other.environment.templates)
    # ... while what they make of it differs.
    assert not np.array_equal(runs[0].timeseries().completed, runs[1].timeseries().completed)


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


@pytest.mark.parametrize("design", ["siloed", "responsive"])
def test_ample_capacity_delivers_everything_at_the_minimum_lead_time(design):
    environment, seed, work = _one_capability_world()
    item_rate, decay = 2.0, environment.get("value_decay", 0.01)
    # 20 members x capacity 5: about 90 work units per tick, several times what arrives.
    model = CheckedModel(design, environment, members=20, capacity=5.0, item_rate=item_rate, seed=seed)
    df = run_checked(model, 200)
    lead = math.ceil(work / item_rate)  # a demand absorbs at most item_rate work units per tick
    assert df.refused.sum() == 0 and df.expired.sum() == 0
    assert df.completed.sum() == df.arrived.sum() - df.wip.iloc[-1]
    assert set(df.lead_time.dropna()) == {lead}
    # Everything that arrives at t is delivered at t + lead - 1, at its value after lead - 1 ticks of delay.
    arrived = df.arrived.to_numpy()
    np.testing.assert_array_equal(df.completed.to_numpy()[lead - 1 :], arrived[: len(df) - lead + 1])
    value = arrived[: len(df) - lead + 1] * work
    np.testing.assert_allclose(df.value_delivered.to_numpy()[lead - 1 :], value * (1 - decay) ** (lead - 1))
    np.testing.assert_allclose(df.value_lost_delay.to_numpy()[lead - 1 :], value * (1 - (1 - decay) ** (lead - 1)),
                               atol=1e-9)
    assert np.all(df.queued == 0)  # every demand in the organisation gets work every tick
    assert np.all(df.failure_demand == 0) and np.all(df.rework_created == 0)
    assert np.all(df.coordination_overhead == 0)  # one capability per demand: no team to coordinate
    np.testing.assert_allclose(df.alignment, 1.0)


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
    environment, seed, work = _one_capability_world(deadline=10)
    model = OrgModel("siloed", environment, members=10, capacity=1e-6, wip_limit=100.0, seed=seed)
    df = model.run(100).timeseries()
    assert df.completed.sum() == 0 and df.lead_time.isna().all()
    accepted = (df.arrived - df.refused).to_numpy()
    np.testing.assert_array_equal(df.expired.to_numpy()[9:], accepted[:-9])
    np.testing.assert_allclose(df.value_lost_expiry.to_numpy()[9:], accepted[:-9] * work)
    assert np.all(df.value_delivered == 0)


def test_full_organisation_refuses_what_it_cannot_hold():
    environment, seed, work = _one_capability_world(deadline=10)
    model = OrgModel("siloed", environment, members=10, capacity=1e-6, wip_limit=0.5, seed=seed)
    df = model.run(60).timeseries()
    # Intake comes before expiry: a tick takes in what fits beside the demands held at the last tick's end.
    free = 5 - df.wip.shift(fill_value=0)
    np.testing.assert_array_equal(df.refused, df.arrived - np.minimum(df.arrived, free))
    assert df.wip.max() == 5 and df.refused.sum() > 0
    np.testing.assert_allclose(df.value_lost_refused, df.refused * work)  # every demand is worth its work


@pytest.mark.parametrize("design", ["siloed", "responsive"])
def test_no_handoff_errors_and_perfect_sensing_mean_no_failure_demand(design, small_model):
    perfect = {"handoff_error": 0.0, "sensing_noise": 0.0, "sensing_delay": 0}
    df = small_model(design, seed=2, levers=perfect, regime="clear").run(250).timeseries()
    assert df.completed.sum() > 0
    assert np.all(df.failure_demand == 0.0)
    assert np.all(df.rework_created == 0.0)
    # The same organisation with lossy hand-offs makes work for itself.
    lossy = small_model("siloed", seed=2, levers={**perfect, "handoff_error": 0.5}, regime="clear")
    lossy_df = lossy.run(250).timeseries()
    assert lossy_df.rework_created.sum() > 0 and lossy_df.failure_demand.max() > 0


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


def test_demand_book_tracks_rework_share():
    book = DemandBook(3)
    one = np.ones(1)
    book.add(type=one.astype(int), arrived=one.astype(int), value=one, ready_at=one.astype(int),
             teamed=np.zeros(1, bool), failure_share=np.zeros(1),
             remaining=np.array([[4.0, 0, 0]]), hidden=np.zeros((1, 3)), planned=np.array([[4.0, 0, 0]]))
    book.add_rework(np.array([0]), np.array([[0, 2.0, 0]]))
    assert book.failure_share[0] == pytest.approx(2 / 6)
    book.remaining[0] = [1.0, 2.0, 0.0]  # customer work done first: the rest is 2 rework, 1 customer
    book.failure_share[0] = 2 / 3
    book.add_rework(np.array([0]), np.array([[0, 0, 3.0]]))
    assert book.failure_share[0] == pytest.approx(5 / 6)
    book.keep(np.array([False]))
    assert len(book) == 0 and book.remaining.shape == (0, 3)


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


@pytest.mark.parametrize("design", ["siloed", "responsive"])
def test_work_flows_first_in_first_out(design):
    """Too little capacity for identical one-capability demands: the older a demand, the less is left."""
    environment, seed, work = _one_capability_world(arrival_rate=1.0)
    model = OrgModel(design, environment, members=4, seed=seed)
    for _ in range(120):
        model.step()
        left = model.demands.remaining.sum(axis=1)
        assert np.all(np.diff(left) >= -1e-9), left
        assert np.all(np.diff(model.demands.arrived) >= 0)
    df = model.timeseries()
    assert df.refused.sum() > 0 and df.wip.max() == 8  # it really was short of capacity
    assert df.lead_time.max() > math.ceil(work / model.item_rate)


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


def _two_step_world(regulated: bool) -> tuple[dict, int, list[float]]:
    """A still world with one demand type needing exactly two steps, each at least a fifth of the work:
    two customer capabilities, or (``regulated``) one customer capability and compliance.

    Returns the environment, the seed, and the work of the two steps in flow order (compliance last)."""
    environment = {"regime": "clear", "demand_types": 1, "regulated_share": float(regulated), "size_spread": 0.0,
                   "arrival_rate": 2.0}
    for seed in range(200):
        model = OrgModel("siloed", environment, members=2, seed=seed)
        steps = model.environment.templates[0][model.capabilities.flow_order]
        steps = steps[steps > 0]
        if len(steps) == 2 and steps.min() >= 0.2 * steps.sum():
            return environment, seed, steps.tolist()
    raise AssertionError("no seed gives such a demand type")


@pytest.mark.parametrize("regulated", [False, True], ids=["two capabilities", "compliance gate"])
@pytest.mark.parametrize("delay", [0, 3])
def test_handed_off_demand_waits_at_each_handoff(regulated, delay):
    """Silo'd flow: one step, a hand-off of ``delay`` ticks, the next step; each step at item_rate."""
    environment, seed, (first, second) = _two_step_world(regulated)
    model = OrgModel("siloed", environment, members=40, capacity=5.0, seed=seed, handoff_delay=delay,
                     handoff_error=0.0)
    df = model.run(150).timeseries()
    rate = model.item_rate
    assert set(df.lead_time.dropna()) == {math.ceil(first / rate) + delay + math.ceil(second / rate)}
    assert df.expired.sum() == 0 and df.refused.sum() == 0 and df.rework_created.sum() == 0


@pytest.mark.parametrize("regulated", [False, True], ids=["two capabilities", "integrated compliance"])
def test_team_works_both_steps_at_once_and_pays_for_coordinating(regulated):
    """A team (fluidity 1, compliance integrated) works both steps in parallel: lead time is the longer
    step. Each tick while both steps are open it spends (1 + c) units of capacity per unit of progress."""
    environment, seed, (first, second) = _two_step_world(regulated)
    cost = 0.4
    model = OrgModel("responsive", environment, members=40, capacity=5.0, seed=seed, fluidity=1.0,
                     constraints="integrated", coordination_cost=cost, handoff_error=0.0, exploration=0.0)
    df = model.run(150).timeseries()
    rate = model.item_rate
    steps = [math.ceil(first / rate), math.ceil(second / rate)]
    assert set(df.lead_time.dropna()) == {max(steps)}
    both_open = min(steps)  # before then, no demand in the organisation has finished either step
    np.testing.assert_allclose(df.coordination_overhead.iloc[:both_open],
                               cost * df.work_done.iloc[:both_open] / model.capacity.sum(), rtol=1e-9)
    assert np.all(df.coordination_overhead <= cost * df.work_done / model.capacity.sum() + 1e-12)


def test_team_at_a_compliance_gate_hands_off_to_it():
    """A team with a compliance *gate* does the customer work, then hands the demand to the gate.

    Flexible capacity goes where work was workable at the last tick (operations senses, then responds),
    so a demand reaching an idle gate can wait one tick more for capacity to arrive there."""
    environment, seed, (work, compliance) = _two_step_world(regulated=True)
    model = OrgModel("responsive", environment, members=40, capacity=5.0, seed=seed, fluidity=1.0,
                     constraints="gate", handoff_delay=2, handoff_error=0.0)
    df = model.run(150).timeseries()
    rate = model.item_rate
    least = math.ceil(work / rate) + 2 + math.ceil(compliance / rate)
    assert df.lead_time.min() == least
    assert df.lead_time.max() <= least + 1


def test_learning_by_doing_and_forgetting_by_hand():
    """Members busy full time in their home capability close a share ``learning_rate`` of the gap to 1
    there each tick, and lose a share ``forgetting_rate`` of what they know above the floor elsewhere."""
    environment, seed, _ = _one_capability_world(arrival_rate=30.0)  # far more than 5 members can do
    lr, fr = 0.05, 0.02
    model = OrgModel("siloed", environment, members=5, seed=seed, specialisation=0.6, fluidity=0.0,
                     exploration=0.0, learning_rate=lr, forgetting_rate=fr)
    start = model.skills.copy()
    home = int(model.home[0])
    assert np.all(model.home == home)
    df = model.run(60).timeseries()
    np.testing.assert_allclose(df.utilisation, 1.0)  # everybody worked full time, every tick
    ticks = np.arange(1, 61)
    np.testing.assert_allclose(df.proficiency, 1 - (1 - start[0, home]) * (1 - lr) ** ticks, rtol=1e-12)
    expected = SKILL_FLOOR + (start - SKILL_FLOOR) * (1 - fr) ** 60
    expected[:, home] = 1 - (1 - start[:, home]) * (1 - lr) ** 60
    np.testing.assert_allclose(model.skills, expected, rtol=1e-12)


def test_rules_alignment_after_a_rules_shock_by_hand(small_model):
    """A compliance gate knows the rules as process last re-planned them, from what it sensed
    ``sensing_delay`` ticks earlier; integrated compliance sees the rules as they are."""
    shock = [{"tick": 50, "layer": "rules", "magnitude": 0.5}]
    gate = {"constraints": "gate", "sensing_delay": 10, "cadence": {"process": 21}}
    df = small_model("siloed", seed=1, levers=gate, regime="clear", shocks=shock).run(120).timeseries()
    # Process re-plans at multiples of 21; the one at tick t reads what happened at t - 1 - 10, so
    # the first to see the shock at 50 is at 63.
    assert np.all(df.alignment_rules.iloc[:50] == 1.0)
    assert np.all(df.alignment_rules.iloc[50:63] < 1.0)
    assert np.all(df.alignment_rules.iloc[63:] == 1.0)
    integrated = small_model("siloed", seed=1, levers={**gate, "constraints": "integrated"}, regime="clear",
                             shocks=shock).run(120).timeseries()
    assert np.all(integrated.alignment_rules == 1.0)


def test_strategy_refuses_demand_types_it_does_not_serve(small_model):
    model = small_model("siloed", seed=2, members=50, levers={"strategy_threshold": 0.15}, regime="clear",
                        demand_types=6)
    served = model.served.copy()
    assert 0 < served.sum() < 6  # some types are outside the strategy, some inside
    for _ in range(300):
        model.step()
        assert np.all(model.served[model.demands.type])  # only served types are taken in
    df = model.timeseries()
    assert np.array_equal(model.served, served)  # a still world: strategy keeps what it chose
    unserved = model.environment.mix[~served].sum()
    share, n = df.refused.sum() / df.arrived.sum(), df.arrived.sum()
    assert df.wip.max() < model.wip_limit * 50  # never full: every refusal is strategy's
    assert abs(share - unserved) < 4 * np.sqrt(unserved * (1 - unserved) / n)
    assert df.alignment_needs.iloc[0] == pytest.approx(1 - unserved)  # planned mix leaves those types out


def test_arrivals_are_the_environment_streams_whatever_the_organisation():
    """The model's environment draws from the first of two streams spawned from the seed: a stand-alone
    environment on that stream produces exactly the demands the organisation saw arrive."""
    world = EnvironmentConfig(regime="chaotic", arrival_rate=small_arrival_rate(),
                              shocks=[{"tick": 30, "layer": "volume", "magnitude": 0.5}])
    model = OrgModel("responsive", world, members=30, seed=11).run(120)
    alone = DemandEnvironment(world, np.random.default_rng(11).spawn(2)[0])
    counts = [len(alone.step().types) for _ in range(120)]
    assert model.timeseries().arrived.tolist() == counts
    assert model.environment.shock_log == alone.shock_log


def test_founding_headcount_follows_need_so_technology_alignment_starts_at_the_overlap():
    """Cogs (no flexible capacity) work only at home, so at the first tick capacity by capability is
    headcount by home unit x skill, and alignment_technology is its overlap with the work needed."""
    environment, seed, steps = _two_step_world(regulated=False)
    model = OrgModel("siloed", environment, members=37, seed=seed, specialisation=1.0, fluidity=0.0,
                     exploration=0.0)
    need = model.environment.templates[0]
    headcount = np.bincount(model.home, minlength=len(need))
    assert headcount.sum() == 37 and set(np.flatnonzero(headcount)) == set(np.flatnonzero(need))
    df = model.run(1).timeseries()
    assert df.alignment_technology.iloc[0] == pytest.approx(overlap(headcount.astype(float), need))


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


def test_the_tick_that_finds_missed_work_counts_as_customer_work():
    """A demand worked to the end of its plan is returned for the work the plan missed: the work done
    that tick was customer work (failure demand 0); the rework it brings back is failure demand (1)."""
    model = OrgModel("siloed", {"regime": "clear", "arrival_rate": 1e-9}, members=12, seed=0)
    k = int(np.bincount(model.home).argmax())
    missed = (k + 1) % len(model.capabilities)
    one, row = np.ones(1, dtype=np.int64), np.zeros((1, len(model.capabilities)))
    remaining, hidden = row.copy(), row.copy()
    remaining[0, k], hidden[0, missed] = 1.0, 2.0
    model.demands.add(type=0 * one, arrived=0 * one, value=3.0 * np.ones(1), ready_at=0 * one,
                      teamed=np.zeros(1, bool), failure_share=np.zeros(1), remaining=remaining,
                      hidden=hidden, planned=remaining.copy())
    df = model.run(12).timeseries()
    assert df.work_done.iloc[0] == pytest.approx(1.0) and df.rework_created.iloc[0] > 0
    assert df.failure_demand.iloc[0] == 0.0
    reworked = df.work_done > 0
    assert reworked.iloc[1:].any() and np.all(df.failure_demand[reworked].iloc[1:] == 1.0)
