"""The board pack: what the room saw, as one PDF a consultant can send after the meeting.

Pages (matplotlib's PDF backend, ``PdfPages``):

1. the verdict, how sure it is (if the uncertainty band was run), and each organisation's numbers;
2. the charts over time, every shock marked (the page's own figure);
3. who is where (the organisation view at the last day);
4. why the difference: the waterfall and its sentence, if the why view was computed (else a note
   saying how to get it);
5. the settings (world, both designs lever by lever, run size), the seed, the shocks and the versions
   of orgsim and its numeric stack: enough to run it again.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
import threading

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from orgsim.attribution import Attribution
from orgsim.dashboard import leadership, why
from orgsim.dashboard.band import Band
from orgsim.dashboard.charts import LiveFigure
from orgsim.dashboard.lockstep import Snapshot
from orgsim.provenance import versions

A4_LANDSCAPE = (11.69, 8.27)  # inches
_PDF_LOCK = threading.Lock()  # one pack at a time: the figures are the page's own


def _text_page(title: str, blocks: list[tuple[str, float, str]]) -> Figure:
    """A page of text: a title, then (text, font size, weight) blocks, wrapped to the page."""
    fig = Figure(figsize=A4_LANDSCAPE)
    fig.text(0.06, 0.93, title, fontsize=22, fontweight="bold", va="top")
    y = 0.84
    for text, size, weight in blocks:
        width = int(0.86 * A4_LANDSCAPE[0] * 72 / (0.6 * size))  # characters a line holds
        lines = [line for para in text.split("\n") for line in (textwrap.wrap(para, width) or [""])]
        fig.text(0.06, y, "\n".join(lines), fontsize=size, fontweight=weight, va="top", family="DejaVu Sans")
        y -= (len(lines) * 1.45 * size + 14) / (72 * A4_LANDSCAPE[1])
    return fig


def _numbers(snap: Snapshot) -> str:
    unit = snap.settings.time_unit
    rows = []
    for name, kpi in zip(snap.names, leadership.kpis(snap), strict=True):
        recovery = kpi.recovery.text(unit) if kpi.recovery else "no shock yet"
        rows.append(f"{name}: value delivered {kpi.value_total:,.0f}; recovery from the last shock: {recovery}; "
                    f"failure demand {kpi.failure_share:.0%} of recent demand; alignment now {kpi.alignment:.0%}.")
    return "\n".join(rows)


def _settings_text(snap: Snapshot) -> str:
    s = snap.settings
    env = s.environment.model_dump(exclude={"shocks"}, exclude_none=True)
    lines = [f"Scenario: {s.scenario or 'workshop world'}",
             f"Seed: {s.seed}; {s.members} people per organisation; day {snap.tick} of {s.horizon}; "
             f"capacity {s.capacity:g}, item rate {s.item_rate:g}, WIP limit {s.wip_limit:g}",
             "World: " + ", ".join(f"{k} = {v}" for k, v in env.items())]
    for name, side in zip(snap.names, s.sides, strict=True):
        lines.append(f"{name}: " + ", ".join(f"{k} = {v}" for k, v in side.design().model_dump().items()))
    shocks = "; ".join(f"day {m.tick}: {m.layer} {m.magnitude:.0%} ({m.source})" for m in snap.shocks) or "none"
    lines.append(f"Shocks: {shocks}")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items() if v))
    return "\n".join(lines)


def board_pack(snap: Snapshot, timeline: LiveFigure, orgview: LiveFigure, band: Band | None = None,
               explained: Attribution | None = None) -> bytes:
    """The PDF of the run in ``snap``: ``timeline`` and ``orgview`` are the page's figures (updated to
    ``snap``); ``band`` and ``explained`` (the why view) are included when they were computed."""
    unit = snap.settings.time_unit
    out = io.BytesIO()
    verdict = [(leadership.verdict(snap), 18, "bold")]
    if band is not None:
        verdict.append((band.sentence(snap.settings.nouns(), unit), 14, "normal"))
    else:
        verdict.append(("One run, one market: press \"How sure?\" on the dashboard to see how often this holds.",
                        11, "normal"))
    verdict.append((_numbers(snap), 12, "normal"))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with _PDF_LOCK, PdfPages(out, metadata={"Title": "orgsim board pack", "Creator": "orgsim dashboard"}) as pdf:
        pdf.savefig(_text_page(f"{' vs '.join(snap.names)}: the verdict ({stamp})", verdict))
        for figure in (timeline, orgview):
            with figure.still() as fig:
                pdf.savefig(fig)
        if explained is not None:
            with why.waterfall(explained, why.sentence(explained, unit)) as fig:
                pdf.savefig(fig)
        else:
            pdf.savefig(_text_page("Why the difference?", [(
                "Not computed for this run: press \"Why?\" on the dashboard before downloading the board pack "
                "to include the attribution of the gap to lever groups.", 14, "normal")]))
        pdf.savefig(_text_page("Settings, seed and versions", [(_settings_text(snap), 9, "normal")]))
    return out.getvalue()
