"""The dashboard page: two organisations side by side, live, under the same shocks.

Run it with ``orgsim dashboard`` (or ``solara run orgsim.dashboard.app``). Every browser session
gets its own pair of models: they are created inside :func:`Page` (``use_memo``), never at module
level. All state changes go through :class:`~orgsim.dashboard.lockstep.Lockstep`; bad input is shown
in the page as one line, never raised.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import solara

from orgsim.attribution import Attribution
from orgsim.dashboard import band as bands
from orgsim.dashboard import leadership, why
from orgsim.dashboard.boardpack import board_pack
from orgsim.dashboard.charts import LAYER_COLOURS, PANELS, Timeline, side_colours
from orgsim.dashboard.export import csv_bytes, file_stem
from orgsim.dashboard.leadership import Kpis
from orgsim.dashboard.lockstep import SHOCK_BUTTONS, SHOCK_NOUNS, Lockstep, Snapshot
from orgsim.dashboard.memory import install as release_closed_sessions
from orgsim.dashboard.orgview import OrgView
from orgsim.dashboard.pacing import Drawn, Pacer, play_turn
from orgsim.dashboard.server import SCENARIO_ENV
from orgsim.dashboard.settings import (
    KIND_LABELS,
    LEVERS,
    TICKS_PER_UNIT,
    OrgChoice,
    Settings,
    from_scenario,
    load_factor,
    notes,
    workshop,
)
from orgsim.dashboard.storymode import CSS as STORY_CSS
from orgsim.dashboard.storymode import Keys, StoryPanel, story_of
from orgsim.environment import REGIMES
from orgsim.errors import OrgsimError
from orgsim.story import RUNNING, WAITING, StoryPlayer

WORKSHOP_LABEL = "Workshop world (you trigger the shocks)"
#: Runs (seeds) of the uncertainty band, and seeds of the why view.
BAND_SEEDS = bands.DEFAULT_SEEDS
WHY_SEEDS = why.DEFAULT_SEEDS
#: Play speeds: ticks run per frame, and the least seconds per frame (a browser shows about 5 frames a second).
SPEEDS: dict[str, tuple[int, float]] = {"Slow": (1, 0.25), "Normal": (2, 0.2), "Fast": (5, 0.2)}
REGIME_HELP = {
    "clear": "stable: nothing changes by itself",
    "complicated": "stable, but signals are noisy",
    "complex": "drifts, with occasional shocks",
    "chaotic": "frequent large shocks",
}
CSS = """
.orgsim-verdict { font-size: 1.45rem; line-height: 1.4; font-weight: 500; padding: 14px 20px;
  border-left: 6px solid #37474f; background: #f5f7f8; border-radius: 4px; margin-bottom: 8px; }
.orgsim-card { border-radius: 6px; padding: 10px 16px 12px; background: #fff;
  box-shadow: 0 1px 4px rgba(0,0,0,.18); width: 100%; height: 100%; }
.orgsim-card-title { font-size: 1.3rem; font-weight: 700; margin-bottom: 4px; }
.orgsim-kpi-label { font-size: .8rem; color: #555; text-transform: uppercase; letter-spacing: .02em;
  white-space: nowrap; }
.orgsim-kpi-value { font-size: 1.9rem; font-weight: 700; line-height: 1.15; white-space: nowrap; }
.orgsim-kpi-sub { font-size: .9rem; color: #555; }
.orgsim-kpi-words { font-size: 1.3rem; padding: 6px 0 4px; white-space: normal; }
.orgsim-tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 6px 20px; }
@media (max-width: 1500px) { .orgsim-tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.orgsim-clock { font-size: 1.25rem; font-weight: 600; color: #37474f; }
.orgsim-section { font-size: 1.15rem; font-weight: 700; margin: 14px 0 4px; color: #37474f; }
.orgsim-shock-btn { color: #fff !important; font-weight: 600; }
.orgsim-table { border-collapse: collapse; width: 100%; font-size: .95rem; margin: 6px 0; }
.orgsim-table th { text-align: left; font-weight: 600; color: #555; border-bottom: 2px solid #ccc; padding: 4px 8px; }
.orgsim-table td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; }
.orgsim-side-title { font-size: 1.05rem; font-weight: 700; margin: 14px 0 2px; color: #37474f; }
"""

release_closed_sessions()


def project_dir() -> Path:
    """The project folder of a source checkout (where ``scenarios/`` lives), else the working folder."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def scenario_files() -> list[Path]:
    """Scenario files offered in the picker: ``scenarios/*.toml``, plus the one named on the command line."""
    files = sorted((project_dir() / "scenarios").glob("*.toml"))
    named = os.environ.get(SCENARIO_ENV)
    if named and Path(named).resolve() not in [f.resolve() for f in files]:
        files.insert(0, Path(named))
    return files


def initial_settings() -> tuple[Settings, str | None]:
    """Settings to open on (the command line's scenario, else the workshop world) and any error."""
    named = os.environ.get(SCENARIO_ENV)
    if not named:
        return Settings(), None
    try:
        return from_scenario(named), None
    except OrgsimError as err:
        return Settings(), str(err)


class Session:
    """One browser session's run: the lockstep models, the settings the controls show (running or
    pending), the change counters the page watches, and the pacing of play."""

    def __init__(self, settings: Settings) -> None:
        self.lockstep = Lockstep(settings)
        self.draft = settings  # what the controls show: the running settings, or changes pending a Reset
        self.version = 0  # bumped by every change of the models (the number of the frame to draw)
        self.run = 0  # bumped by every reset (new figures)
        self.pacer = Pacer()
        self.player: StoryPlayer | None = None  # the story being presented, if any (story mode)
        self.background_cancel = threading.Event()  # set to stop the band or the why view being computed (a reset)
        self._lock = threading.Lock()
        self.settings_lock = threading.Lock()

    def changed(self, reset: bool = False) -> tuple[int, int]:
        with self._lock:
            self.version += 1
            self.run += reset
            return self.version, self.run

    def update(self, change: Callable[[Settings], Settings], playing: bool) -> tuple[Settings, bool, bool]:
        """Apply ``change`` to the current settings (a functional update: quick successive clicks each build
        on the one before, never on a stale copy). The models take them at once if that loses nothing
        (only how the run is shown changed, or nothing has run yet); otherwise they wait for Reset.
        Returns (new settings, models changed, models rebuilt)."""
        with self.settings_lock:
            new = change(self.draft)
            applied = rebuilt = False
            if new.same_run(self.lockstep.settings):
                self.lockstep.settings = new
                applied = True
            elif self.lockstep.tick == 0 and not self.lockstep.shocks() and not playing:
                self.lockstep.reset(new)
                applied = rebuilt = True
            self.draft = new
            return new, applied, rebuilt


@solara.component
def Page():
    start, start_error = solara.use_memo(initial_settings, [])
    session: Session = solara.use_memo(lambda: Session(start), [])
    lockstep = session.lockstep
    draft, set_draft = solara.use_state(start)  # session.draft as last rendered
    version = solara.use_reactive(0)
    run = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("Normal")
    error = solara.use_reactive(start_error)
    controls = solara.use_reactive(0)  # bumped to redraw the controls from the settings after a refused change
    band = solara.use_reactive(None)  # the uncertainty band of this run (bands.Band), once computed
    band_progress = solara.use_reactive(None)  # (runs done, runs) while the band is computed
    why_result = solara.use_reactive(None)  # the attribution of the gap so far (why.compute), once computed
    why_progress = solara.use_reactive(None)  # (runs done, runs) while it is computed

    def sync(reset: bool = False) -> int:
        v, r = session.changed(reset)
        run.value = r
        version.value = v
        return v

    def guarded(action: Callable[[], None]) -> Callable[[], None]:
        def run_action() -> None:
            try:
                action()
                error.value = None
            except OrgsimError as err:
                error.value = str(err)
                controls.value += 1  # a control may show the value that was refused

        return run_action

    def step() -> None:
        if lockstep.step(1):
            sync()

    def shock(layer: str) -> None:
        lockstep.shock(layer)
        sync()

    def reset() -> None:
        playing.value = False
        session.player = None
        session.background_cancel.set()
        session.background_cancel = threading.Event()
        band.value = why_result.value = None
        with session.settings_lock:
            lockstep.reset(session.draft)
        sync(reset=True)

    def start_story() -> None:
        """Story mode: the run starts again from tick 0 and the story's first step waits."""
        story = story_of(session.draft.scenario)
        if story is None:
            raise OrgsimError("this scenario has no [story] section (see scenarios/README.md)")
        reset()
        session.player = StoryPlayer(story)
        sync()

    def story_go() -> None:
        """The presenter goes on: the waiting step's shocks hit, its ticks play."""
        player = session.player
        if player is None or player.phase != WAITING:
            return
        magnitude = player.step.magnitude
        for layer in player.go():
            lockstep.shock(layer, magnitude)
        sync()
        playing.value = player.phase == RUNNING

    def in_background(name: str, what: str, job: Callable[..., Any], progress: solara.Reactive,
                      done: Callable[[Any], None]) -> None:
        """Run ``job(progress=..., cancel=...)`` in a thread of its own, showing its progress; on success
        (and if the run on screen is still the same) ``done(result)``. A reset cancels it."""
        now = lockstep.snapshot()
        if now.tick == 0:
            raise OrgsimError(f"play a little first: {what} up to the day on screen")
        cancel, run_now = session.background_cancel, session.run
        progress.value = (0, 1)

        def work() -> None:
            try:
                result = job(now, progress=lambda k, n: progress.set((k, n)), cancel=cancel)
            except Exception as err:  # noqa: BLE001 - shown in the page, the thread must not die silently
                error.value = f"{what} stopped: {err}"
                result = None
            progress.value = None
            if result is not None and session.run == run_now:
                done(result)
                sync()

        threading.Thread(target=work, name=f"orgsim-{name}", daemon=True).start()

    def start_band() -> None:
        """Run the same settings and shocks on other seeds in the background, then draw the band."""
        figure = timeline

        def done(result: bands.Band) -> None:
            figure.show_band(result)
            band.value = result

        in_background("band", "the band shows other runs", lambda now, **kw: bands.compute(
            now.settings, now.shocks, now.tick, figure.line, [p[0] for p in PANELS], BAND_SEEDS, **kw),
            band_progress, done)

    def start_why() -> None:
        """Attribute the gap so far to lever groups in the background, then show the waterfall."""
        in_background("why", "the why view explains the gap", lambda now, **kw: why.compute(
            now.settings, now.tick, WHY_SEEDS, now.shocks, **kw), why_progress, why_result.set)

    def leave_story() -> None:
        playing.value = False
        session.player = None
        sync()

    def toggle_play() -> None:
        playing.value = not playing.value and not lockstep.finished

    def change(update: Callable[[Settings], Settings]) -> None:
        """Update the settings from the current ones, apply them now if that loses nothing, show them."""
        new, applied, rebuilt = session.update(update, playing.value)
        if applied:
            sync(reset=rebuilt)
        set_draft(lambda _: session.draft)  # the latest, whichever click's render comes last

    # The same two callbacks every render (they only use state that lives as long as the page), so
    # the sidebar is drawn again when the draft changes, not on every frame of play.
    sidebar = solara.use_memo(lambda: (change, guarded), [])

    def play_loop(cancel: threading.Event) -> None:
        ticks, pause = SPEEDS[speed.value]
        while playing.value and not cancel.is_set():
            began = time.perf_counter()
            player = session.player
            allowed = ticks if player is None else player.allow(ticks)
            with play_turn(cancel) as turn:
                if not turn or not playing.value:
                    break
                try:
                    ran = lockstep.step(allowed) if allowed else 0
                except Exception as err:  # noqa: BLE001 - shown in the page, the loop must not die silently
                    error.value = f"the run stopped: {err}"
                    ran = 0
                if player is not None:
                    player.ran(ran)
                    if ran < allowed:
                        player.stop()  # the end of the run came first
                    if player.phase != RUNNING:  # the step has run: the next one waits for the presenter
                        playing.value = False
                        sync()
                        break
                if not ran:
                    playing.value = False
                    break
                frame = sync()
            # Paced by the page: the next frame is stepped once this one is drawn (pacing.py).
            if not session.pacer.wait(frame, cancel):
                if not cancel.is_set():
                    playing.value = False  # the page stopped drawing (closed, or asleep)
                break
            cancel.wait(max(0.0, pause - (time.perf_counter() - began)))

    solara.use_thread(play_loop, dependencies=[playing.value, speed.value, run.value], intrusive_cancel=False)

    snap: Snapshot = solara.use_memo(lockstep.snapshot, [version.value, run.value])
    settings = snap.settings
    capabilities = lockstep.models[0].capabilities.names
    timeline = solara.use_memo(lambda: _timeline(settings, band.value), [run.value, settings.time_unit])
    orgview = solara.use_memo(lambda: OrgView(settings, capabilities), [run.value])
    timeline_image = solara.use_memo(lambda: _frame(timeline, snap), [timeline, version.value, run.value])
    orgview_image = solara.use_memo(lambda: _frame(orgview, snap), [orgview, version.value, run.value])
    advice = solara.use_memo(lambda: _advice(draft), [draft])

    solara.Style(CSS + STORY_CSS)
    solara.Title("orgsim: two organisations, one market")
    with solara.Sidebar():
        Controls(draft, *sidebar).key(f"controls-{controls.value}")
    story = solara.use_memo(lambda: story_of(settings.scenario), [settings.scenario])
    player = session.player
    verdict = leadership.verdict(snap)
    with solara.Column(style={"padding": "6px 18px", "max-width": "1500px"}):
        with solara.Div():  # always there, so that the widgets after it are kept when a story starts
            if player is not None:
                StoryPanel(player, verdict, guarded(story_go), guarded(leave_story), version.value)
        Keys(event_key=lambda _key: guarded(story_go)()).meta(ref="keys")
        solara.Div(children=[verdict], classes=["orgsim-verdict"]).meta(ref="verdict")
        if band.value is not None:
            solara.Div(children=[band.value.sentence(settings.nouns(), settings.time_unit)],
                       classes=["orgsim-kpi-words"]).meta(ref="band-sentence")
        if error.value:
            solara.Error(error.value, dense=True).meta(ref="error")
        pending = not draft.same_run(lockstep.settings)
        if pending:
            solara.Warning("Your changes apply when you press Reset (the run so far is kept until then).",
                           dense=True).meta(ref="pending")
        for line in advice:
            solara.Info(line, dense=True)
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "8px"}):
            finished = lockstep.finished
            solara.Button("Pause" if playing.value else "Play", icon_name="mdi-pause" if playing.value else "mdi-play",
                          color="primary", on_click=toggle_play,
                          disabled=(finished and not playing.value) or player is not None).meta(ref="play")
            solara.Button("Step", icon_name="mdi-step-forward", on_click=guarded(step),
                          disabled=playing.value or finished or player is not None).meta(ref="step")
            solara.Button("Reset", icon_name="mdi-restart", on_click=guarded(reset),
                          color="warning" if pending else None).meta(ref="reset")
            solara.ToggleButtonsSingle(value=speed, values=list(SPEEDS)).meta(ref="speed")
            if story is not None and player is None:
                solara.Button(f"Play the story: {story.title}", icon_name="mdi-presentation-play", color="secondary",
                              on_click=guarded(start_story)).meta(ref="story-start")
            unit = settings.time_unit
            solara.Text(f"{unit[:-1].capitalize()} {snap.tick // TICKS_PER_UNIT[unit]} of "
                        f"{settings.horizon // TICKS_PER_UNIT[unit]}", classes=["orgsim-clock"]).meta(ref="clock")
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "8px"}):
            solara.Text("Hit both organisations with:", classes=["orgsim-kpi-sub"])
            for layer, label in SHOCK_BUTTONS.items():
                solara.Button(label, icon_name="mdi-flash", on_click=guarded(lambda layer=layer: shock(layer)),
                              disabled=finished, classes=["orgsim-shock-btn"],
                              style={"background-color": LAYER_COLOURS[layer]}).meta(ref=f"shock-{layer}")
        KpiCards(snap)
        solara.Div(children=["What happens over time"], classes=["orgsim-section"])
        with solara.Row(style={"align-items": "center", "gap": "10px"}):
            solara.Button(f"How sure? Run {BAND_SEEDS} other markets", icon_name="mdi-chart-bell-curve",
                          on_click=guarded(start_band), disabled=band_progress.value is not None,
                          ).meta(ref="band-start")
            if band_progress.value is not None:
                done, total = band_progress.value
                solara.ProgressLinear(value=100 * done / total).meta(ref="band-progress")
                solara.Text(f"{done} of {total} runs", classes=["orgsim-kpi-sub"])
            elif band.value is not None:
                solara.Text(f"Shaded: where 80 % of {len(band.value.seeds)} runs lie (seeds "
                            f"{band.value.seeds[0]} to {band.value.seeds[-1]}, up to "
                            f"{leadership.when(band.value.ticks, settings.time_unit)})",
                            classes=["orgsim-kpi-sub"]).meta(ref="band-caption")
        solara.Image(timeline_image, format="jpeg", width="100%").meta(ref="timeline")
        ShockTable(snap)
        solara.Div(children=["Who is where"], classes=["orgsim-section"])
        solara.Image(orgview_image, format="jpeg", width="100%").meta(ref="orgview")
        solara.Text(orgview.caption, classes=["orgsim-kpi-sub", "orgsim-teams"]).meta(ref="teams")
        WhyView(why_result.value, why_progress.value, guarded(start_why), settings.time_unit)
        Exports(snap, session, timeline, orgview, band.value, why_result.value)
        Drawn(frame=version.value, event_drawn=session.pacer.on_drawn).meta(ref="drawn")  # last: after the frame


def _timeline(settings: Settings, band: bands.Band | None) -> Timeline:
    """A new timeline (a new run, or another time unit), with the run's band if it has one."""
    figure = Timeline(settings)
    if band is not None:
        figure.show_band(band)
    return figure


@solara.component
def WhyView(result, progress: tuple[int, int] | None, start: Callable[[], None], unit: str):
    """Why the difference: the button, its progress, then the sentence and the waterfall."""
    solara.Div(children=["Why the difference?"], classes=["orgsim-section"])
    image = solara.use_memo(lambda: why.waterfall_png(result) if result is not None else None, [result])
    with solara.Row(style={"align-items": "center", "gap": "10px"}):
        solara.Button(f"Why? Attribute the gap to lever groups ({WHY_SEEDS} markets)", icon_name="mdi-help-circle",
                      on_click=start, disabled=progress is not None).meta(ref="why-start")
        if progress is not None:
            done, total = progress
            solara.ProgressLinear(value=100 * done / total).meta(ref="why-progress")
            solara.Text(f"{done} of {total} runs", classes=["orgsim-kpi-sub"])
    if result is not None:
        solara.Div(children=[why.sentence(result, unit)], classes=["orgsim-kpi-words"]).meta(ref="why-sentence")
        solara.Image(image, format="png", width="min(100%, 1000px)").meta(ref="why-waterfall")


def _advice(draft: Settings) -> list[str]:
    try:
        return notes(draft)
    except OrgsimError as err:
        return [str(err)]


def _frame(figure, snap: Snapshot) -> bytes:
    figure.update(snap)
    return figure.frame()


@solara.component
def KpiCards(snap: Snapshot):
    unit = snap.settings.time_unit
    cards = leadership.kpis(snap)
    colours = side_colours(snap.settings.sides)
    totals = [k.value_total for k in cards]
    with solara.Columns([1, 1], gutters_dense=True, style={"margin": "10px 0"}):
        for i, (name, colour, kpi) in enumerate(zip(snap.names, colours, cards, strict=True)):
            other = totals[1 - i]
            lead = ""
            if other > 0 and kpi.value_total > 0:
                diff = kpi.value_total / other - 1
                lead = f"{diff:+.0%} vs the other" if abs(diff) >= 0.005 else "as much as the other"
            KpiCard(name, colour, kpi, unit, lead, side=("left", "right")[i])


@solara.component
def KpiCard(name: str, colour: str, kpi: Kpis, unit: str, lead: str, side: str):
    rate = "" if math.isnan(kpi.value_rate) else f"{kpi.value_rate:,.0f} a {unit[:-1]} now"
    recovery = kpi.recovery.text(unit) if kpi.recovery else "no shock yet"
    tiles = [
        ("Value delivered", f"{kpi.value_total:,.0f}", " · ".join(x for x in (rate, lead) if x)),
        ("Recovery", recovery, "after the last shock: within 10 % of the run without it" if kpi.recovery else ""),
        ("Failure demand", _percent(kpi.failure_share), "of recent demand: customers coming back"),
        ("Alignment now", _percent(kpi.alignment), "of effort where customers need it"),
    ]
    with solara.Div(classes=["orgsim-card"], style={"border-top": f"6px solid {colour}"}).meta(ref=f"card-{side}"):
        solara.Div(children=[name], classes=["orgsim-card-title"], style={"color": colour})
        with solara.Div(classes=["orgsim-tiles"]):
            for label, value, sub in tiles:
                with solara.Div():
                    solara.Div(children=[label], classes=["orgsim-kpi-label"])
                    words = [] if re.fullmatch(r"[\d,.]+%?", value) else ["orgsim-kpi-words"]
                    solara.Div(children=[value], classes=["orgsim-kpi-value", *words]).meta(ref=f"kpi-{side}-{label}")
                    solara.Div(children=[sub], classes=["orgsim-kpi-sub"])


def _percent(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.0%}"


@solara.component
def ShockTable(snap: Snapshot):
    """Adaptation per shock so far: when value delivered and alignment came back, per organisation."""
    rows = leadership.adaptation_rows(snap)
    if not rows:
        solara.Div(children=["No shock yet. The buttons above hit both organisations at the same moment."],
                   classes=["orgsim-kpi-sub"]).meta(ref="shocks")
        return
    unit = snap.settings.time_unit
    left, right = (escape(n) for n in snap.names)
    head = "".join(f"<th>{h}</th>" for h in (
        "Shock", "When", f"{left}: value back in", f"{right}: value back in",
        f"{left}: alignment back in", f"{right}: alignment back in"))
    source = {"you": "", "scenario": " (scheduled)", "world": " (unplanned)"}
    body = "".join(
        f"<tr><td style='color:{LAYER_COLOURS[r.shock.layer]};font-weight:600'>"
        f"{escape(SHOCK_NOUNS[r.shock.layer].capitalize())}{source[r.shock.source]}</td>"
        f"<td>{leadership.when(r.shock.tick, unit)}</td>"
        + "".join(f"<td>{escape(rec.text(unit))}</td>" for rec in (*r.value, *r.alignment))
        + "</tr>"
        for r in rows
    )
    solara.HTML(tag="table", unsafe_innerHTML=f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>",
                classes=["orgsim-table"]).meta(ref="shocks")


@solara.component
def Exports(snap: Snapshot, session: Session, timeline: Timeline, orgview: OrgView, band: bands.Band | None,
            explained: Attribution | None):
    charts = solara.use_memo(lambda: timeline.export_png, [timeline])

    def pack() -> bytes:
        now = session.lockstep.snapshot()
        for figure in (timeline, orgview):
            figure.update(now)
        return board_pack(now, timeline, orgview, band, explained)

    people = solara.use_memo(lambda: orgview.export_png, [orgview])
    table = solara.use_memo(lambda: (lambda: csv_bytes(session.lockstep.snapshot())), [session])
    stem = file_stem(snap)
    with solara.Row(style={"gap": "8px", "margin": "12px 0 24px"}):
        solara.FileDownload(pack, f"{stem}-board-pack.pdf", label="Board pack (PDF)", mime_type="application/pdf"
                            ).meta(ref="board-pack")
        solara.FileDownload(charts, f"{stem}-charts.png", label="Charts (PNG)", mime_type="image/png")
        solara.FileDownload(people, f"{stem}-people.png", label="Organisation view (PNG)", mime_type="image/png")
        solara.FileDownload(table, f"{stem}.csv", label="Per-tick table (CSV)", mime_type="text/csv")


@solara.component
def Controls(draft: Settings, change: Callable[[Settings], None], guarded: Callable):
    """The sidebar: scenario, market, both organisations, shocks and time unit."""
    files = scenario_files()
    labels = [WORKSHOP_LABEL, *(f.name for f in files)]
    by_label = dict(zip(labels[1:], files, strict=True))
    current = Path(draft.scenario).name if draft.scenario else WORKSHOP_LABEL

    def on(make: Callable[[Settings, Any], Settings]) -> Callable:
        """A control's callback: ``make(current settings, value)`` builds the new settings from the current
        ones (never from the ``draft`` this render saw); any problem is shown in the page."""
        return lambda value: guarded(lambda: change(lambda current: make(current, value)))()

    def pick(current: Settings, label: str) -> Settings:
        return workshop(current) if label == WORKSHOP_LABEL else from_scenario(by_label[label], current)

    env = draft.environment
    _heading("Scenario")
    solara.Select("Scenario", values=labels, value=current if current in labels else labels[0],
                  on_value=on(pick)).meta(ref="scenario")
    _heading("The market")
    solara.Select("Regime", values=list(REGIMES), value=env.regime,
                  on_value=on(lambda cur, r: cur.with_environment(regime=r))).meta(ref="regime")
    solara.Text(REGIME_HELP[env.regime], style={"color": "#666", "font-size": ".85rem"})
    load = round(load_factor(draft), 2)
    solara.SliderFloat(f"Load (work asked for / capacity): {load:.0%}", value=load, min=0.1, max=max(1.5, load),
                       step=0.05, on_value=on(lambda cur, x: cur.with_load(x))).meta(ref="load")
    turbulence = env.effective_turbulence
    solara.SliderFloat(f"Turbulence (drift, random shocks): {turbulence:.2f}", value=turbulence, min=0.0,
                       max=1.0, step=0.05,
                       on_value=on(lambda cur, x: cur.with_environment(turbulence=x))).meta(ref="turbulence")
    solara.SliderInt(f"People in each organisation: {draft.members}", value=draft.members, min=20,
                     max=max(300, draft.members), step=10,
                     on_value=on(lambda cur, n: cur.changed(members=n))).meta(ref="members")
    solara.InputInt("Seed (the same demand for both)", value=draft.seed,
                    on_value=on(lambda cur, n: cur.changed(seed=n))).meta(ref="seed")
    for side in ("left", "right"):
        SideControls(side, getattr(draft, side), lambda make, side=side: on(
            lambda cur, value: cur.with_side(side, make(getattr(cur, side), value))))
    _heading("Shocks and time")
    solara.SliderFloat(f"Size of a shock: {draft.shock_magnitude:.0%} of the layer changes",
                       value=draft.shock_magnitude, min=0.1, max=1.0, step=0.05,
                       on_value=on(lambda cur, x: cur.changed(shock_magnitude=x))).meta(ref="magnitude")
    solara.ToggleButtonsSingle(value=draft.time_unit, values=list(TICKS_PER_UNIT),
                               on_value=on(lambda cur, u: cur.changed(time_unit=u))).meta(ref="time_unit")


@solara.component
def SideControls(side: str, choice: OrgChoice, on: Callable[[Callable[[OrgChoice, Any], OrgChoice]], Callable]):
    """Design of one side: a preset or a hybrid, and the main levers. ``on(make)`` is the callback of a
    control: ``make(this side's current design, value)`` is its new design."""
    _heading(f"{side.capitalize()} organisation")
    kinds = {label: kind for kind, label in KIND_LABELS.items()}
    solara.ToggleButtonsSingle(value=KIND_LABELS[choice.kind], values=list(kinds),
                               on_value=on(lambda cur, k: cur.with_kind(kinds[k]))).meta(ref=f"{side}-kind")
    if choice.kind == "hybrid":
        solara.SliderFloat(f"Coupling: {choice.coupling:.2f} (0 = responsive, 1 = silo'd)", value=choice.coupling,
                           min=0.0, max=1.0, step=0.05,
                           on_value=on(lambda cur, c: cur.with_kind("hybrid", c))).meta(ref=f"{side}-coupling")
    with solara.Details("Fine-tune the levers"):
        for name, (label, low, high, step) in LEVERS.items():
            value = type(low)(choice.lever(name))
            slider = solara.SliderInt if isinstance(low, int) else solara.SliderFloat
            slider(f"{label}: {value:g}", value=value, min=low, max=max(high, value), step=step,
                   on_value=on(lambda cur, x, name=name: cur.with_lever(name, x))).meta(ref=f"{side}-{name}")


def _heading(text: str) -> None:
    solara.Div(children=[text], classes=["orgsim-side-title"])
