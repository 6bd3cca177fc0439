"""The dashboard without a browser: lockstep models, settings, leadership numbers, exports, and the
Solara page rendered in process (``solara.render``) and driven by clicking its ipyvuetify widgets."""

from __future__ import annotations

import io
import re
import threading
import time
from collections import Counter

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from orgsim.cli import build_parser, main
from orgsim.dashboard import app as dashboard_app
from orgsim.dashboard import leadership
from orgsim.dashboard.app import Page
from orgsim.dashboard.assets import PACKAGES, missing_assets
from orgsim.dashboard.charts import Timeline, nice_ceiling
from orgsim.dashboard.export import csv_bytes, per_tick_table
from orgsim.dashboard.lockstep import Lockstep, ShockMark, Snapshot
from orgsim.dashboard.orgview import (
    PILE_COLUMNS,
    PILE_ROWS,
    Box,
    OrgView,
    cell_centres,
    pile,
    ranks,
    sunflower,
    team_layout,
)
from orgsim.dashboard.server import check_port, command
from orgsim.dashboard.settings import OrgChoice, Settings, from_scenario, load_factor, notes
from orgsim.demands import FIXED, TEAM
from orgsim.design import RESPONSIVE, SILOED, from_coupling
from orgsim.errors import OrgsimError
from orgsim.metrics import MEASURES
from orgsim.recovery import recovery
from orgsim.teams import NO_TEAM

SMALL = Settings().changed(members=40, horizon=200)  # the default load (0.7) scales with the headcount


# --- lockstep -------------------------------------------------------------------------------------
def test_both_organisations_see_identical_arrivals_after_a_manual_shock():
    run = Lockstep(SMALL)
    run.step(30)
    mark = run.shock("needs", 0.8)
    run.step(30)
    left, right = run.models
    assert (mark.tick, mark.layer, mark.source) == (30, "needs", "you")
    assert left.environment.shock_log == right.environment.shock_log
    assert [s[0] for s in left.environment.shock_log].count(30) == 1
    # The same customers arrive at both; follow-ups of failed customers (failure demand) differ.
    arrivals = [m.timeseries().arrived - m.timeseries().arrived_failure for m in run.models]
    np.testing.assert_array_equal(*arrivals)
    np.testing.assert_array_equal(left.environment.mix, right.environment.mix)
    np.testing.assert_array_equal(left.environment.templates, right.environment.templates)
    # ... and the two organisations still differ in what they made of it.
    assert left.timeseries().value_delivered.sum() != right.timeseries().value_delivered.sum()

    calm = Lockstep(SMALL)
    calm.step(60)
    mix_without = calm.models[0].environment.mix
    assert np.abs(left.environment.mix - mix_without).sum() > 0.3  # the shock really moved the mix


def test_step_stops_at_the_horizon_and_shock_after_it_is_refused():
    run = Lockstep(Settings(members=20, horizon=25))
    assert run.step(10) == 10
    assert run.step(100) == 15
    assert run.tick == 25 and run.finished and run.step() == 0
    with pytest.raises(OrgsimError, match="Reset"):
        run.shock("rules")
    with pytest.raises(OrgsimError, match="allowed: needs, technology, rules, volume"):
        Lockstep(SMALL).shock("weather")


def test_reset_rebuilds_both_models_from_the_same_seed():
    run = Lockstep(SMALL)
    run.step(20)
    first = run.models[0].timeseries().value_delivered.to_numpy()
    run.reset()
    assert run.tick == 0 and run.shocks() == ()
    run.step(20)
    np.testing.assert_array_equal(run.models[0].timeseries().value_delivered, first)
    run.reset(SMALL.with_side("right", OrgChoice(kind="hybrid", coupling=0.25)))
    assert run.models[1].design == from_coupling(0.25)


def test_a_reset_that_cannot_build_the_models_keeps_the_run():
    run = Lockstep(SMALL)
    run.step(10)
    run.shock("needs")
    run.step(5)
    models, shocks = run.models, run.shocks()
    bad = SMALL.with_side("right", OrgChoice(kind="responsive", levers={"handoff_delay": -5}))
    with pytest.raises(OrgsimError, match=r"handoff_delay: .*greater than or equal to 0 \(got -5\)"):
        run.reset(bad)
    assert run.settings is SMALL and run.models is models
    assert run.tick == 15 and run.shocks() == shocks and shocks[0].source == "you"


# --- settings -------------------------------------------------------------------------------------
def test_settings_from_a_scenario_file_and_bad_files(tmp_path):
    s = from_scenario("scenarios/demand-shock.toml")
    assert (s.left.kind, s.right.kind, s.horizon) == ("siloed", "responsive", 500)
    assert [sh.tick for sh in s.environment.shocks] == [150, 300]
    bad = tmp_path / "bad.toml"
    bad.write_text("[environment]\nturbulence = 3\n")
    with pytest.raises(OrgsimError, match=r"bad.toml: environment.turbulence: .*less than or equal to 1"):
        from_scenario(bad)


def test_invalid_choices_are_one_line_errors_and_odd_ones_are_explained():
    with pytest.raises(OrgsimError, match=r"environment.load: .*greater than 0"):
        SMALL.with_load(-1.0)
    with pytest.raises(OrgsimError, match=r"members: .*greater than or equal to 10"):
        SMALL.changed(members=3)
    with pytest.raises(OrgsimError, match=r"Wait at each hand-off \(days\) must be in \[0, 20\]"):
        OrgChoice().with_lever("handoff_delay", 50)
    assert OrgChoice(kind="responsive").with_lever("handoff_delay", 7).design().handoff_delay == 7
    assert OrgChoice().with_lever("cadence.structure", 21).design().cadence.structure == 21

    assert notes(SMALL) == []
    same = SMALL.with_side("right", OrgChoice(kind="siloed"))
    assert any("same design" in n for n in notes(same))
    assert same.names() == ("Silo'd (left)", "Silo'd (right)")
    swamped = SMALL.with_load(1.4)
    assert load_factor(swamped) == pytest.approx(1.4) and any("swamped" in n for n in notes(swamped))
    idle = SMALL.with_load(0.25)
    assert any("idle" in n for n in notes(idle))
    # A world sized by arrival rate (as a scenario file may be) shows the load it implies; moving the
    # load slider replaces the rate.
    by_rate = SMALL.with_environment(arrival_rate=5.0)
    assert load_factor(by_rate) == pytest.approx(5.0 * by_rate.environment.mean_work() / 40)
    assert by_rate.with_load(0.8).environment.arrival_rate is None
    slow_handoffs = SMALL.with_side("left", OrgChoice().with_lever("handoff_delay", 20))
    assert any("past its 60-day deadline" in n for n in notes(slow_handoffs))
    # Changing the regime brings turbulence back to the regime's own level.
    assert SMALL.with_environment(regime="chaotic").environment.effective_turbulence == 1.0


# --- leadership numbers ---------------------------------------------------------------------------
def test_durations_and_moments_in_days_or_weeks():
    assert leadership.duration(60, "weeks") == "12 weeks"
    assert leadership.duration(5, "weeks") == "1 week"
    assert leadership.duration(7, "weeks") == "1.4 weeks"
    assert leadership.duration(1, "days") == "1 day"
    assert leadership.duration(3, "weeks") == "3 days"
    assert leadership.when(152, "weeks") == "week 30"
    assert leadership.when(152, "days") == "day 152"


def test_recovery_is_measured_against_the_twin_and_confirmed_only_after_it_held():
    # Value 10 per tick, halved for 20 ticks after a shock at tick 100, then back; its twin never dips.
    value = np.full(260, 10.0)
    value[100:120] = 5.0
    frame = pd.DataFrame({"value_delivered": value, "alignment": np.ones(260)})
    twin = pd.DataFrame({"value_delivered": np.full(260, 10.0), "alignment": np.ones(260)})
    shock = ShockMark(100, "rules", 0.7, "you")
    full = leadership.recoveries(frame, [twin], (shock,), 260)[0]
    expected = recovery(value, twin.value_delivered, 100, 260)
    assert full.status == "recovered" and full.ticks == expected["time"] and 20 <= full.ticks <= 50
    assert full.loss == pytest.approx(20 * 5.0)  # the value lost against the twin
    early = leadership.recoveries(frame.iloc[:130], [twin.iloc[:130]], (shock,), 130)
    assert early[0].status == "not yet" and early[0].ticks == 30
    # A recovery is only known once it has held: until then the run is censored ("not yet").
    holding = leadership.recoveries(frame, [twin], (shock,), int(100 + full.ticks + leadership.HOLD - 1))[0]
    assert holding.status == "not yet"
    flat = leadership.recoveries(frame, [twin], (shock,), 260, "alignment")[0]
    assert flat.status == "no dip" and flat.text("weeks") == "no dip"
    assert leadership.recoveries(frame, [twin], (shock,), 110, "alignment")[0].status == "too early"
    # A second shock 10 ticks later, while value is still down: the first never recovered before it.
    second = ShockMark(110, "needs", 0.7, "you")
    first, last = leadership.recoveries(frame, [twin, twin], (shock, second), 260)
    assert first.text("days") == "not before the next shock"
    assert last.status == "recovered"
    # A random shock of the world has no twin: not measured, and it does not end the window before it.
    world = ShockMark(105, "needs", 0.3, "world")
    first, unplanned = leadership.recoveries(frame, [twin, None], (shock, world), 260)
    assert first == full and unplanned.text("days") == "not measured (unplanned)"


def snapshot_of(values: list[np.ndarray], shocks: tuple, tick: int, twin: np.ndarray) -> Snapshot:
    """A snapshot of two made-up runs: value delivered per tick as given, no failure demand; every shock's
    twin delivers ``twin``."""
    def table(v: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"value_delivered": v[:tick], "alignment": np.ones(tick), "failure_demand": np.zeros(tick)})

    frames = tuple(table(v) for v in values)
    twins = tuple(tuple(table(twin) for _ in shocks) for _ in values)
    return Snapshot(tick=tick, settings=Settings(), frames=frames, twins=twins, shocks=shocks,
                    members=({}, {}), need=np.ones(6) / 6)


def test_verdict_sentences_state_what_the_numbers_say():
    flat = np.full(400, 10.0)
    assert leadership.verdict(snapshot_of([flat, flat * 1.2], (), 50, flat)) == (
        "After 10 weeks of identical demand, the responsive organisation has delivered 20% more value "
        "than the silo'd organisation, with 0% of its recent demand customers coming back after a failure, against 0%.")
    rule = (ShockMark(100, "rules", 0.7, "you"),)
    slow, fast = flat.copy(), flat.copy()
    slow[100:160] = 4.0
    fast[100:115] = 4.0
    rec = [recovery(v, flat, 100, 400)["time"] for v in (slow, fast)]
    assert rec[1] < rec[0]
    assert leadership.verdict(snapshot_of([slow, fast], rule, 400, flat)) == (
        f"After the new regulation in week 20, the responsive organisation recovered in "
        f"{leadership.duration(rec[1], 'weeks')}, the silo'd organisation in {leadership.duration(rec[0], 'weeks')}.")
    still_down = flat.copy()
    still_down[100:] = 4.0
    dip = flat.copy()
    dip[100:102] = 9.5  # within 10 % of the twin: no dip
    assert leadership.verdict(snapshot_of([still_down, dip], rule, 180, flat)) == (
        "After the new regulation in week 20, the responsive organisation kept delivering; "
        "the silo'd organisation has not recovered after 16 weeks.")


def test_kpis_and_verdict_follow_the_numbers():
    run = Lockstep(SMALL)
    assert "about to receive" in leadership.verdict(run.snapshot())
    run.step(40)
    snap = run.snapshot()
    left, right = leadership.kpis(snap)
    frames = snap.frames
    assert left.value_total == pytest.approx(frames[0].value_delivered.sum())
    assert right.failure_share == pytest.approx(frames[1].failure_demand.tail(leadership.RECENT).mean())
    assert left.recovery is None and "8 weeks of identical demand" in leadership.verdict(snap)
    run.shock("rules")
    run.step(5)
    assert "too early to tell" in leadership.verdict(run.snapshot())
    run.step(100)
    snap = run.snapshot()
    sentence = leadership.verdict(snap)
    assert "new regulation in week 8" in sentence.lower()
    rows = leadership.adaptation_rows(snap)
    assert len(rows) == 1 and rows[0].shock.layer == "rules"
    assert leadership.kpis(snap)[0].recovery == rows[0].value[0]


# --- figures and exports --------------------------------------------------------------------------
def test_exports_hold_every_tick_of_both_runs_and_the_shocks():
    run = Lockstep(SMALL)
    run.step(12)
    run.shock("technology", 0.5)
    run.step(3)
    snap = run.snapshot()
    table = pd.read_csv(io.BytesIO(csv_bytes(snap)), keep_default_na=False)
    assert len(table) == 30 and list(table.side.unique()) == ["left", "right"]
    assert set(MEASURES) <= set(table.columns)
    assert table.loc[table.tick == 12, "shocks_applied"].tolist() == ["technology:0.50:you"] * 2
    assert (table.loc[table.tick != 12, "shocks_applied"] == "").all()
    # The core's count of shocks per tick includes the one from the button, as does the list.
    assert table.shocks.tolist() == [len(s.split(";")) if s else 0 for s in table.shocks_applied]
    frame = per_tick_table(snap)
    for side, model in zip(("left", "right"), run.models, strict=True):
        rows = frame[frame.side == side]
        np.testing.assert_array_equal(rows.value_delivered, model.timeseries().value_delivered)
        np.testing.assert_array_equal(rows.tick, np.arange(15))
    timeline = Timeline(snap.settings)
    timeline.update(snap)
    assert timeline.frame()[:2] == b"\xff\xd8"  # JPEG for live frames
    assert timeline.export_png()[:8] == b"\x89PNG\r\n\x1a\n"
    people = OrgView(snap.settings, run.models[0].capabilities.names)
    people.update(snap)
    assert people.frame()[:2] == b"\xff\xd8"


def test_org_view_layout_and_axis_rounding():
    # Departments: each member on a sunflower around its department's cell, ordered by strongest skill.
    groups, primary = np.array([0, 0, 0, 1, 2, 2]), np.array([1, 0, 1, 1, 2, 0])
    np.testing.assert_array_equal(ranks(groups, primary, 3), [1, 0, 2, 0, 1, 0])
    centres = cell_centres(3, 3, 1)
    xy = sunflower(centres[groups], ranks(groups, primary, 3), 0.1)
    nearest = np.argmin(np.linalg.norm(xy[:, None] - centres[None], axis=2), axis=1)
    np.testing.assert_array_equal(nearest, groups)
    assert np.linalg.norm(xy[1] - centres[0]) < np.linalg.norm(xy[2] - centres[0])  # rank 0 nearest the centre
    assert [nice_ceiling(x) for x in (0.7, 1.0, 13.0, 260.0)] == [0.8, 1.0, 15.0, 300.0]
    # Teams: a cluster around each demand (in uid order), free members in a row under them.
    team = np.array([7, 3, 7, -1, 3, 9, -1, 7])
    box = Box(0.0, 0.0, 4.0, 2.0)
    xy, demands, spacing = team_layout(team, np.zeros(8, dtype=np.int64), box)
    assert demands.shape == (3, 2) and spacing > 0
    nearest = np.argmin(np.linalg.norm(xy[:, None] - demands[None], axis=2), axis=1)
    np.testing.assert_array_equal(nearest[team >= 0], np.searchsorted([3, 7, 9], team[team >= 0]))
    assert xy[team < 0, 1].max() < xy[team >= 0, 1].min()
    assert np.all((xy >= 0) & (xy <= [4.0, 2.0]))
    # A pile: one square per waiting demand, at most PILE_COLUMNS x PILE_ROWS per department.
    squares = pile(np.array([0, 5, 100]), np.array([[0.5, 0.5], [1.5, 0.5], [2.5, 0.5]]))
    assert len(squares) == 5 + PILE_COLUMNS * PILE_ROWS
    assert np.all(np.abs(squares[:5, 0] - 1.5) < 0.5)


def _phases(model) -> np.ndarray:
    """Department each fixed demand waits in, one demand at a time: the first capability in flow
    order with work left."""
    book = model.demands
    out = []
    for row in np.flatnonzero(book.stream == FIXED):
        left = [k for k in model.flow_order if book.remaining[row, k] > 0]
        if left:
            out.append(left[0])
    return np.bincount(np.array(out, dtype=np.int64), minlength=book.remaining.shape[1])


def test_org_view_draws_departments_with_their_queues_and_teams_that_change():
    run = Lockstep(Settings().changed(members=60))
    capabilities = run.models[0].capabilities.names
    view = OrgView(run.settings, capabilities)
    pairs = []
    for _week in range(4):
        run.step(5)
        snap = run.snapshot()
        view.update(snap)
        siloed, responsive = snap.members
        left, right = run.models
        # Silo'd: everyone in a fixed department, no teams; the queue of each department is the
        # demands whose next phase is there.
        assert not siloed["fluid"].any() and (siloed["team"] == NO_TEAM).all()
        np.testing.assert_array_equal(siloed["queue"], _phases(left))
        assert len(view.sides[0].queue.get_offsets()) == np.minimum(siloed["queue"], PILE_COLUMNS * PILE_ROWS).sum()
        # Responsive: everyone in the fluid pool; each team is a demand of the team stream in the book.
        assert responsive["fluid"].all()
        teams = responsive["team"][responsive["team"] != NO_TEAM]
        assert len(teams) and np.isin(teams, right.demands.uid[right.demands.stream == TEAM]).all()
        assert len(view.sides[1].demands.get_offsets()) == len(np.unique(teams))
        # One shaded disc per team, centred on its demand, larger for a larger team.
        hulls = view.sides[1].hulls
        np.testing.assert_array_equal(hulls.get_offsets(), view.sides[1].demands.get_offsets())
        sizes = np.unique(teams, return_counts=True)[1]
        assert (np.diff(hulls.get_sizes()[np.argsort(sizes, kind="stable")]) >= 0).all()
        # Each member in a team is drawn nearest to its own team's demand.
        xy, demands = view.sides[1].dots.get_offsets(), view.sides[1].demands.get_offsets()
        nearest = np.argmin(np.linalg.norm(xy[:, None] - demands[None], axis=2), axis=1)
        in_team = responsive["team"] != NO_TEAM
        np.testing.assert_array_equal(nearest[in_team], np.searchsorted(np.unique(teams), responsive["team"][in_team]))
        pairs.append(set(zip(np.flatnonzero(in_team), responsive["team"][in_team], strict=True)))
        teams_now, formed = map(int, re.search(r"Responsive: (\d+) teams at work now, (\d+) of them formed",
                                                view.caption).groups())
        new_teams = len(set(np.unique(teams)) - {t for _, t in pairs[-2]}) if len(pairs) > 1 else teams_now
        assert (teams_now, formed) == (len(np.unique(teams)), new_teams)
    # Hand-offs: one arrow between consecutive staffed departments in flow order (compliance last).
    staffed = [k for k in left.flow_order if (siloed["home"] == k).any()]
    arrows = [p for p in view.sides[0].ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == len(staffed) - 1 and not [p for p in view.sides[1].ax.patches
                                                     if type(p).__name__ == "FancyArrowPatch"]
    # Teams form and dissolve: who works with whom on what differs from one week to the next.
    assert all(a != b for a, b in zip(pairs, pairs[1:], strict=False))
    assert len(pairs[0] & pairs[3]) < len(pairs[0])
    assert view.frame()[:2] == b"\xff\xd8"
    assert view.caption.startswith(f"Silo'd: {siloed['queue'].sum()} demands waiting in departments. Responsive: ")

    hybrid = Settings().with_side("left", OrgChoice(kind="hybrid", coupling=0.5))
    run = Lockstep(hybrid)
    run.step(20)
    snap = run.snapshot()
    view = OrgView(hybrid, capabilities)
    view.update(snap)
    both = snap.members[0]
    assert both["fluid"].any() and not both["fluid"].all()
    assert view.sides[0].departments and view.sides[0].teams
    assert (both["team"][~both["fluid"]] == NO_TEAM).all()  # only the fluid pool forms teams


# --- the page, in process ------------------------------------------------------------------------
def render_page(draw: bool = True):
    """The page rendered in process; ``draw``: a stand-in for the browser reports each frame drawn."""
    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    if draw:
        draws_frames(rc)
    return rc


def draws_frames(rc, delay: float = 0.0) -> None:
    """Stand in for the browser: report each frame drawn when the page gets it (as drawn.vue does in a
    browser), ``delay`` seconds later."""
    widget = rc.find(meta_ref="drawn").widget

    def drawn(change) -> None:
        if delay:
            threading.Timer(delay, widget.vue_drawn, [change["new"]]).start()
        else:
            widget.vue_drawn(change["new"])

    widget.observe(drawn, "frame")
    widget.vue_drawn(widget.frame)


def click(rc, ref: str) -> None:
    rc.find(v.Btn, meta_ref=ref).widget.click()


def text(rc, ref: str) -> str:
    widget = rc.find(meta_ref=ref).widget
    return "".join(str(c) for c in widget.children) if hasattr(widget, "children") else str(widget)


def render_with_session(monkeypatch, draw: bool = True):
    """A rendered page and the lockstep models its session created."""
    sessions = []
    original = Lockstep.__init__

    def spy(self, settings):
        original(self, settings)
        sessions.append(self)

    monkeypatch.setattr(Lockstep, "__init__", spy)
    rc = render_page(draw)
    assert len(sessions) == 1
    return rc, sessions[0]


def count_calls(monkeypatch, *targets: tuple[object, str]) -> Counter:
    """Count the calls of each ``(owner, name)`` function (of a module or class) from now on, by name."""
    calls: Counter = Counter()

    def counted(name, original):
        def call(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        return call

    for owner, name in targets:
        monkeypatch.setattr(owner, name, counted(name, getattr(owner, name)))
    return calls


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still not true after {timeout:g} s")
        time.sleep(0.05)


def settled(read, quiet: float = 1.5, timeout: float = 30.0):
    """``read()`` once it has returned the same value for ``quiet`` seconds in a row (polled)."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            pytest.fail(f"still changing after {timeout:g} s (last {last!r})")
        time.sleep(0.05)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
    return last


@pytest.fixture
def page(monkeypatch):
    rc, run = render_with_session(monkeypatch)
    yield rc, run
    rc.close()


def test_page_step_shock_and_reset_drive_both_models(page):
    rc, run = page
    assert text(rc, "clock") == "Week 0 of 100"
    for _ in range(10):
        click(rc, "step")
    assert run.tick == 10 and all(len(m.timeseries()) == 10 for m in run.models)
    assert text(rc, "clock") == "Week 2 of 100"
    value = rc.find(meta_ref="kpi-left-Value delivered").widget.children[0]
    assert value == f"{run.models[0].timeseries().value_delivered.sum():,.0f}"

    click(rc, "shock-rules")
    logs = [m.environment.shock_log for m in run.models]
    assert logs[0] == logs[1] == [(10, "rules", Settings().shock_magnitude, True)]
    assert "New regulation" in rc.find(meta_ref="shocks").widget.unsafe_innerHTML
    assert "new regulation" in text(rc, "verdict")
    click(rc, "step")
    assert run.models[0].timeseries().arrived.tolist() == run.models[1].timeseries().arrived.tolist()

    old = run.models
    click(rc, "reset")
    assert run.tick == 0 and run.models[0] is not old[0] and run.shocks() == ()
    assert text(rc, "clock") == "Week 0 of 100"
    assert "about to receive" in text(rc, "verdict")


def test_page_preset_selection_changes_the_model_design(page):
    rc, run = page
    right_kind = rc.find(v.BtnToggle, meta_ref="right-kind").widget
    right_kind.v_model = 2  # Hybrid: applied at once at tick 0
    assert run.models[1].design == from_coupling(0.5)
    rc.find(v.Slider, meta_ref="right-coupling").widget.v_model = 0.2
    assert run.models[1].design == from_coupling(0.2)
    rc.find(v.BtnToggle, meta_ref="left-kind").widget.v_model = 1  # Responsive
    assert run.models[0].design == RESPONSIVE

    for panels in rc.find(v.ExpansionPanels).widgets:  # open "Fine-tune the levers"
        panels.v_model = 0
    rc.find(v.Slider, meta_ref="right-handoff_delay").widget.v_model = 6
    assert run.models[1].design == from_coupling(0.2).model_copy(update={"handoff_delay": 6})
    assert rc.find(v.Slider, meta_ref="right-handoff_delay").widget.label.endswith(": 6")

    click(rc, "step")  # mid-run, a change waits for Reset
    rc.find(v.BtnToggle, meta_ref="left-kind").widget.v_model = 0  # Silo'd
    assert run.models[0].design == RESPONSIVE and run.tick == 1
    rc.find(meta_ref="pending").assert_single()
    click(rc, "reset")
    assert run.models[0].design == SILOED and run.tick == 0
    rc.find(meta_ref="pending").assert_empty()


def test_page_time_unit_and_market_sliders(page):
    rc, run = page
    rc.find(v.BtnToggle, meta_ref="time_unit").widget.v_model = 0  # days
    assert text(rc, "clock") == "Day 0 of 500"
    rc.find(v.Slider, meta_ref="load").widget.v_model = 0.9
    assert run.settings.environment.load == 0.9
    env = run.models[0].environment
    assert env.arrival_rate == pytest.approx(0.9 * 100 / env.config.mean_work())
    rc.find(v.Slider, meta_ref="load").widget.v_model = 1.5
    assert any("swamped" in w.children[0] for w in rc.find(v.Alert).widgets if w.children)


def test_page_play_runs_in_a_thread_until_paused_and_leaves_the_sidebar_alone(page, monkeypatch):
    rc, run = page
    sidebar = count_calls(monkeypatch, (dashboard_app, "scenario_files"), (dashboard_app, "notes"),
                          (OrgChoice, "lever"))
    click(rc, "step")
    click(rc, "play")
    wait_until(lambda: run.tick >= 5)
    click(rc, "play")  # now labelled Pause; a frame under way may still finish
    stopped = settled(lambda: run.tick)
    assert stopped >= 5 and not run.finished
    assert rc.find(v.Btn, meta_ref="play").widget.children[-1] == "Play"
    # Each tick redrew the run, but neither the sidebar (scenario files, lever values) nor the notes.
    assert sidebar == {}
    rc.find(v.BtnToggle, meta_ref="time_unit").widget.v_model = 0  # days: a change of the settings does
    assert sidebar["notes"] == 1 and sidebar["scenario_files"] == 1
    assert sidebar["lever"] == 0  # neither side's design changed: their lever sliders are not redrawn
    rc.find(v.BtnToggle, meta_ref="left-kind").widget.v_model = 2  # Hybrid: the left side's are
    assert sidebar["lever"] > 0


def test_play_waits_for_the_page_to_draw_each_frame(monkeypatch):
    """Paced play: with no page drawing, play steps one frame and waits; a slow page slows it down."""
    rc, run = render_with_session(monkeypatch, draw=False)
    drawn = rc.find(meta_ref="drawn").widget
    drawn.vue_drawn(drawn.frame)  # the first frame is on screen
    click(rc, "play")
    wait_until(lambda: run.tick > 0)
    time.sleep(1.5)  # Normal speed would have run 15 ticks by now
    assert run.tick == 2  # one frame of 2 ticks, sent and not yet drawn
    drawn.vue_drawn(drawn.frame)  # the page draws it: the next frame follows
    wait_until(lambda: run.tick == 4)
    time.sleep(0.5)
    assert run.tick == 4
    click(rc, "play")  # Pause: nothing more is stepped, and the clock shows the model's week
    drawn.vue_drawn(drawn.frame)
    assert settled(lambda: run.tick, quiet=1.0) == 4
    rc.find(v.BtnToggle, meta_ref="time_unit").widget.v_model = 0  # days
    assert text(rc, "clock") == "Day 4 of 500"
    rc.close()


def test_play_under_a_slow_page_shows_every_frame_it_steps(monkeypatch):
    rc, run = render_with_session(monkeypatch, draw=False)
    draws_frames(rc, delay=0.3)  # each frame takes 0.3 s to reach the screen
    rc.find(v.BtnToggle, meta_ref="time_unit").widget.v_model = 0  # days
    click(rc, "play")
    wait_until(lambda: run.tick >= 6)
    click(rc, "play")
    stopped = settled(lambda: run.tick, quiet=1.0)
    assert text(rc, "clock") == f"Day {stopped} of 500"  # the page shows the tick the models are at
    assert stopped <= 8  # at most the frame on its way when Pause came
    rc.close()


def test_quick_preset_clicks_while_playing_all_take_effect(page):
    """Functional updates: each click builds on the settings of the one before, even when the page has not
    been redrawn in between (the second callback is the one of the old render)."""
    rc, run = page
    click(rc, "play")
    wait_until(lambda: run.tick > 0)
    left = rc.find(v.BtnToggle, meta_ref="left-kind").widget
    right = rc.find(v.BtnToggle, meta_ref="right-kind").widget
    left.v_model, right.v_model = 2, 2  # Hybrid, Hybrid
    right.v_model = 1  # Responsive
    left.v_model = 1  # Responsive
    left.v_model = 2  # Hybrid again
    click(rc, "play")
    settled(lambda: run.tick, quiet=1.0)
    pending = rc.find(meta_ref="pending")
    pending.assert_single()  # the run goes on with the old settings, and the page says changes wait
    assert run.settings.left.kind == "siloed" and run.settings.right.kind == "responsive"
    click(rc, "reset")
    assert (run.settings.left.kind, run.settings.right.kind) == ("hybrid", "responsive")
    assert [m.design for m in run.models] == [run.settings.left.design(), run.settings.right.design()]
    assert rc.find(v.BtnToggle, meta_ref="left-kind").widget.v_model == 2
    assert rc.find(v.BtnToggle, meta_ref="right-kind").widget.v_model == 1


def test_stale_callbacks_still_update_from_the_current_settings(page):
    """A click handled by the callback of an older render (the page had not caught up) still builds on the
    newest settings: here the right side's old callback after the left side changed."""
    rc, run = page
    right_callback = rc.find(v.BtnToggle, meta_ref="right-kind").widget
    stale = right_callback  # same widget, but its on_value was bound in this (soon old) render
    rc.find(v.BtnToggle, meta_ref="left-kind").widget.v_model = 2  # left: Hybrid (applied: nothing has run)
    stale.v_model = 2  # right: Hybrid
    assert (run.settings.left.kind, run.settings.right.kind) == ("hybrid", "hybrid")


def test_every_page_has_its_own_models(page):
    rc, run = page
    other = render_page()
    click(rc, "step")
    click(rc, "step")
    assert run.tick == 2
    assert text(other, "clock") == "Week 0 of 100"
    other.close()


def test_scenario_picker_loads_files_and_shows_bad_ones_in_the_page(tmp_path, monkeypatch):
    bad = tmp_path / "broken.toml"
    bad.write_text("[run]\nticks = 0\n")
    monkeypatch.setenv("ORGSIM_DASHBOARD_SCENARIO", str(bad))
    rc, run = render_with_session(monkeypatch)
    assert "broken.toml: run.ticks" in text(rc, "error")
    picker = rc.find(v.Select, meta_ref="scenario").widget
    picker.v_model = "demand-shock.toml"
    rc.find(meta_ref="error").assert_empty()
    assert run.settings.scenario.endswith("demand-shock.toml") and run.settings.horizon == 500
    assert [s.tick for s in run.settings.environment.shocks] == [150, 300]
    run.step(151)  # the file's scheduled shock hits both, and is marked as scheduled
    assert [(m.tick, m.source) for m in run.shocks()][:1] == [(150, "scenario")]
    picker.v_model = "broken.toml"
    assert "broken.toml: run.ticks" in text(rc, "error")
    assert run.settings.scenario.endswith("demand-shock.toml")  # the run was kept
    rc.close()


def test_page_downloads_hold_the_current_run(page):
    from solara.components.file_download import FileDownloadWidget

    rc, run = page
    for _ in range(5):
        click(rc, "step")
    downloads = {w.filename: w for w in rc.find(FileDownloadWidget).widgets}
    assert sorted(downloads) == sorted(f"orgsim-siloed-vs-responsive-seed0-tick5{end}"
                                       for end in ("-charts.png", "-people.png", ".csv", "-board-pack.pdf"))
    for widget in downloads.values():
        widget.request_download = True
    wait_until(lambda: all(w.bytes is not None for w in downloads.values()))
    by_end = {name.rsplit("-", 1)[-1]: w.bytes for name, w in downloads.items()}
    assert by_end["charts.png"][:8] == by_end["people.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert by_end["pack.pdf"][:5] == b"%PDF-"
    table = pd.read_csv(io.BytesIO(by_end["tick5.csv"]))
    assert len(table) == 10 and table.value_delivered.sum() == pytest.approx(
        sum(m.timeseries().value_delivered.sum() for m in run.models))


# --- the server ----------------------------------------------------------------------------------
def test_server_binds_to_localhost_and_refuses_a_busy_port(tmp_path, capsys):
    import socket

    args = build_parser().parse_args(["dashboard"])
    assert (args.host, args.port, args.scenario) == ("127.0.0.1", 8765, None)
    line = " ".join(command(args.host, args.port))
    assert "run orgsim.dashboard.app --host 127.0.0.1 --port 8765" in line and "--production" in line
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OrgsimError, match=f"cannot listen on 127.0.0.1:{port}"):
            check_port("127.0.0.1", port)
    assert main(["dashboard", "--scenario", str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing.toml: no such scenario file")
    assert missing_assets(tmp_path) == list(PACKAGES)



# --- story mode -------------------------------------------------------------------------------------
def shown(rc, ref: str) -> str | None:
    """The text of ``ref`` if the page shows it now (None if not, or while a render replaces it)."""
    try:
        return text(rc, ref)
    except ValueError:
        return None


def test_story_mode_waits_for_the_presenter_runs_each_step_and_ends_on_the_verdict(tmp_path, monkeypatch):
    story = tmp_path / "story.toml"
    story.write_text(
        'description = "a story?"\n[run]\nticks = 60\nmembers = 30\nwarmup = 5\n'
        '[environment]\nregime = "complex"\nturbulence = 0.0\n'
        '[story]\ntitle = "Test story"\n'
        '[[story.steps]]\ncaption = "Calm first."\npredict = "Who delivers more?"\nticks = 12\n'
        '[[story.steps]]\ncaption = "Needs shift."\npredict = "Who recovers?"\nhits = ["needs"]\nmagnitude = 0.6\n'
        'ticks = 20\n'
        '[[story.steps]]\ncaption = "The verdict."\n', encoding="utf-8")
    monkeypatch.setenv("ORGSIM_DASHBOARD_SCENARIO", str(story))
    rc, run = render_with_session(monkeypatch)
    rc.find(meta_ref="story").assert_empty()  # no story shown until the presenter starts it
    click(rc, "step")
    click(rc, "story-start")  # starts again from tick 0
    assert run.tick == 0 and text(rc, "story-caption") == "Calm first."
    assert text(rc, "story-predict") == "Who delivers more?"
    assert rc.find(v.Btn, meta_ref="play").widget.disabled  # the story drives play
    key_widget = rc.find(meta_ref="keys").widget  # listens for space and the right arrow (keys.vue)
    key_widget.vue_key(" ")  # the presenter presses space
    wait_until(lambda: shown(rc, "story-caption") == "Needs shift." and shown(rc, "story-predict") == "Who recovers?")
    assert run.tick == 12 and not run.shocks()
    click(rc, "story-go")  # one click does the same
    wait_until(lambda: shown(rc, "story-caption") == "The verdict." and shown(rc, "story-verdict") is not None)
    assert run.tick == 32
    assert [(m.tick, m.layer, m.magnitude, m.source) for m in run.shocks()] == [(12, "needs", 0.6, "you")]
    assert text(rc, "story-verdict") == text(rc, "verdict") == leadership.verdict(run.snapshot())
    key_widget.vue_key("ArrowRight")
    wait_until(lambda: "the end" in (shown(rc, "story-status") or ""))
    assert run.tick == 32 and rc.find(v.Btn, meta_ref="story-go").widget.disabled
    click(rc, "story-leave")
    rc.find(meta_ref="story").assert_empty()
    assert not rc.find(v.Btn, meta_ref="play").widget.disabled
    rc.close()


def test_band_runs_in_the_background_with_progress_and_says_how_sure(page, monkeypatch):
    monkeypatch.setattr(dashboard_app, "BAND_SEEDS", 3)
    rc, run = page
    click(rc, "band-start")  # nothing has run yet: said in the page
    assert "play a little first" in text(rc, "error")
    for _ in range(12):
        click(rc, "step")
    click(rc, "band-start")
    wait_until(lambda: shown(rc, "band-sentence") is not None)
    sentence = text(rc, "band-sentence")
    assert re.fullmatch(r"In [23] of 3 runs \(other markets, the same shocks\), the (silo'd|responsive) organisation "
                        r"had delivered more value after 2.4 weeks[.,].*", sentence), sentence
    assert "seeds 0 to 2" in text(rc, "band-caption")
    rc.find(meta_ref="band-progress").assert_empty()
    wait_until(lambda: not any(t.name == "orgsim-band" for t in threading.enumerate()))
    click(rc, "reset")  # a new run has no band
    rc.find(meta_ref="band-sentence").assert_empty()


def test_why_view_computes_on_demand_with_progress_and_explains_the_gap(monkeypatch):
    monkeypatch.setattr(dashboard_app, "WHY_SEEDS", 1)
    monkeypatch.setattr(dashboard_app, "initial_settings", lambda: (SMALL, None))
    rc, run = render_with_session(monkeypatch)
    for _ in range(15):
        click(rc, "step")
    click(rc, "why-start")
    wait_until(lambda: shown(rc, "why-sentence") is not None, timeout=120)
    wait_until(lambda: not any(t.name == "orgsim-why" for t in threading.enumerate()))
    sentence = text(rc, "why-sentence")
    assert re.match(r"(Silo'd|Responsive) delivers [\d,]+ more value a week than (Silo'd|Responsive); "
                    r"(most|the largest part) of the difference comes from ", sentence), sentence
    assert rc.find(meta_ref="why-waterfall").widget.value[:8] == b"\x89PNG\r\n\x1a\n"
    rc.find(meta_ref="why-progress").assert_empty()
    click(rc, "reset")
    rc.find(meta_ref="why-sentence").assert_empty()
    rc.close()


# --- twins: recovery against the same run without the shock ---------------------------------------------
def test_twins_are_the_run_without_each_shock_up_to_the_next_one():
    from orgsim.environment import Shock

    world = SMALL.environment.model_copy(update={"shocks": (Shock(tick=30, layer="technology", magnitude=0.6),)})
    settings = SMALL.model_copy(update={"environment": world})
    run = Lockstep(settings)
    run.step(12)
    run.shock("needs", 0.8)  # by hand, at tick 12
    run.step(40)  # the scheduled shock fires at tick 30
    snap = run.snapshot()
    assert [(m.tick, m.source) for m in snap.shocks if m.source != "world"] == [(12, "you"), (30, "scenario")]
    # Twin of the shock by hand: the same settings, no shock at 12, up to the next shock (30).
    alone = Lockstep(settings)
    alone.step(30)
    for side in (0, 1):
        twin = snap.twins[side][0]
        assert len(twin) == 30 and twin.equals(alone.models[side].timeseries())
    # Twin of the scheduled shock: without it, with the shock by hand, up to now.
    without = Lockstep(settings.model_copy(update={"environment": SMALL.environment}))
    without.step(12)
    without.shock("needs", 0.8)
    without.step(40)
    for side in (0, 1):
        twin = snap.twins[side][1]
        assert len(twin) == 52 and twin.equals(without.models[side].timeseries())
    # The cards' recovery is the one against the last shock's twin.
    expected = leadership.recoveries(snap.frames[0], snap.twins[0], snap.shocks, snap.tick)
    assert leadership.kpis(snap)[0].recovery == [r for r in expected if r.status != "no twin"][-1]
