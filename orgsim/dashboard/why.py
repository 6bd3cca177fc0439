"""The "why" view: the gap in value delivered between the two organisations on screen, attributed to lever groups.

The page's run so far (its world, the shocks triggered by hand or by a story, up to the day on screen)
becomes a scenario (``settings.as_scenario``); every distinct hybrid of the two designs
(``orgsim.attribution.hybrids_scenario``: the levers of some groups from the right organisation, the
rest from the left) runs on a few seeds from the page's seed, in this process, one run at a time with
progress reported; ``orgsim.attribution.attribute`` turns the outcomes into exact Shapley values per
lever group (they add up to the gap) with intervals over seeds. :func:`sentence` says it in plain
words, and ``orgsim.attribution.plot_waterfall`` draws it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from orgsim.attribution import VALUE, Attribution, attribute, hybrids_scenario, plot_waterfall
from orgsim.dashboard.lockstep import ShockMark
from orgsim.dashboard.settings import TICKS_PER_UNIT, Settings, as_scenario

#: Seeds of the why view unless asked otherwise (each runs every distinct hybrid once).
DEFAULT_SEEDS = 3
#: Each lever group in the words of a leadership team.
GROUP_WORDS: dict[str, str] = {
    "management": "how management plans and re-plans (how often, how soon it sees a change)",
    "structure": "how people are organised (departments or teams formed around demand, specialisation)",
    "hand-offs": "the hand-offs between departments (waits, errors, rework)",
    "constraints": "how compliance is done (a gate at the end, or in the team)",
    "exploration": "time spent exploring new capabilities",
    "learning": "how people learn and forget skills",
}
_PLOT_LOCK = threading.Lock()  # pyplot's figure registry is shared by every session's threads


def compute(settings: Settings, ticks: int, seeds: int = DEFAULT_SEEDS, shocks: Sequence[ShockMark] = (),
            progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None
            ) -> Attribution | None:
    """Attribute right minus left in mean value delivered per tick over the first ``ticks`` ticks to the
    lever groups, on ``seeds`` seeds from the page's. ``shocks``: the page's shocks (those triggered by hand
    or a story are replayed). ``progress(done, runs)`` after each run; None if ``cancel`` was set first."""
    if ticks < 1:
        raise ValueError("nothing has run yet: the why view needs at least one tick")
    hand = [(s.tick, s.layer, s.magnitude) for s in shocks if s.source == "you"]
    scenario = as_scenario(settings, ticks, hand, seeds)
    world, groups, names = hybrids_scenario(scenario, "left", "right")
    runs = [(org, seed) for org in world.organisations for seed in world.seeds]
    outcome: dict[tuple[str, int], float] = {}
    for done, (org, seed) in enumerate(runs, start=1):
        if cancel is not None and cancel.is_set():
            return None
        outcome[(org, seed)] = world.model(org, seed).run(ticks).summary(warmup=0)[VALUE]
        if progress is not None:
            progress(done, len(runs))
    wide = pd.Series(outcome).unstack(level=0)
    wide.index.name = "seed"
    left, right = settings.names()
    return dataclasses.replace(attribute(wide, names, groups, "left", "right", VALUE), a=left, b=right)


def contributions(result: Attribution) -> pd.DataFrame:
    """The lever groups' rows of ``result.table`` (without the total and the direct difference)."""
    return result.table.iloc[:-2]


def sentence(result: Attribution, unit: str) -> str:
    """In plain words: how big the gap is and which lever group most of it comes from, e.g. 'Responsive
    delivers 41 more value a week than Silo'd; most of the difference comes from how people are organised
    (+30 a week), then the hand-offs between departments (+9).'"""
    per = TICKS_PER_UNIT[unit]
    gap = (result.level_b - result.level_a) * per
    groups = contributions(result)
    if abs(gap) < 1e-9 or not len(groups):
        return f"{result.a} and {result.b} deliver the same value: there is no difference to explain."
    ahead, behind = (result.b, result.a) if gap > 0 else (result.a, result.b)
    # Groups ordered by how much of the gap (in its direction) they account for.
    share = groups.contribution * per * (1 if gap > 0 else -1)
    order = share.sort_values(ascending=False).index
    top = groups.loc[order[0]]
    top_share = share[order[0]] / abs(gap)
    lead = "most of the difference comes from" if top_share > 0.5 else "the largest part of the difference comes from"
    words = [f"{lead} {GROUP_WORDS.get(top.group, top.group)} ({share[order[0]]:+,.0f} a {unit[:-1]})"]
    if len(order) > 1 and share[order[1]] > 0.1 * abs(gap):
        second = groups.loc[order[1]]
        words.append(f"then {GROUP_WORDS.get(second.group, second.group)} ({share[order[1]]:+,.0f})")
    against = [groups.loc[i].group for i in order if share[i] < -0.1 * abs(gap)]
    text = (f"{ahead} delivers {abs(gap):,.0f} more value a {unit[:-1]} than {behind}; " + ", ".join(words))
    if against:
        text += f"; {GROUP_WORDS.get(against[-1], against[-1])} works the other way"
    total = result.table.iloc[-2]
    if total.ci_low <= 0 <= total.ci_high:
        text += (f". Over these {int(total.n)} markets the gap itself is not clear-cut (95 % interval "
                 f"{total.ci_low * per:+,.0f} to {total.ci_high * per:+,.0f} a {unit[:-1]})")
    return text + "."


@contextlib.contextmanager
def waterfall(result: Attribution, caption: str = "") -> Iterator[Figure]:
    """The waterfall (``orgsim.attribution.plot_waterfall``), with ``caption`` above it, closed after use."""
    with _PLOT_LOCK:
        fig = plot_waterfall(result)
        if caption:
            fig.suptitle(textwrap.fill(caption, 150), x=0.01, ha="left", fontsize=11)
        try:
            yield fig
        finally:
            plt.close(fig)


def waterfall_png(result: Attribution, dpi: int = 80) -> bytes:
    """The waterfall as a PNG image."""
    with waterfall(result) as fig:
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()
