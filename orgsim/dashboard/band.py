"""Uncertainty in view: the same settings and the same shocks over several seeds, as a band behind the live lines.

One seed is one possible market. :func:`compute` runs both organisations of the page's settings on
``seeds`` seeds (the live seed first, then the next ones), each up to the live run's tick, with every
shock the presenter or a story triggered replayed at the same tick (a scheduled shock of the scenario
hits by itself; random shocks belong to each seed's own world). The :class:`Band` holds, per live
panel and organisation, the 10th and 90th percentile over seeds of the line the page draws, and per
seed the value each organisation delivered; :meth:`Band.sentence` says how sure the verdict is
("In 18 of 20 runs ...").

Plain Python, no UI: the page runs it in a background thread and draws it (``charts.Timeline.show_band``).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orgsim.dashboard.leadership import duration
from orgsim.dashboard.lockstep import Lockstep, ShockMark
from orgsim.dashboard.settings import Settings

#: Runs of a band unless asked otherwise, and the percentiles its edges show.
DEFAULT_SEEDS = 20
QUANTILES = (10.0, 90.0)
#: Share of runs one organisation must win for the sentence to name it the usual winner.
CLEAR = 0.75


def replayed(shocks: Sequence[ShockMark]) -> list[ShockMark]:
    """The shocks another seed must replay: those applied by hand or by a story (not scheduled, not random)."""
    return [s for s in shocks if s.source == "you"]


def run_seed(settings: Settings, seed: int, shocks: Sequence[ShockMark], ticks: int) -> tuple[pd.DataFrame, ...]:
    """Per-tick measures of both organisations of ``settings`` on ``seed``, run ``ticks`` ticks with
    ``shocks`` applied at their ticks (before that tick's demand arrives)."""
    run = Lockstep(settings.changed(seed=seed))
    pending = sorted(replayed(shocks), key=lambda s: s.tick)
    for tick in range(ticks):
        while pending and pending[0].tick == tick:
            shock = pending.pop(0)
            run.shock(shock.layer, shock.magnitude)
        run.step(1)
    return tuple(m.timeseries() for m in run.models)


@dataclass(frozen=True)
class Band:
    """The spread over seeds of both organisations' lines, up to ``ticks``."""

    seeds: tuple[int, ...]
    ticks: int
    low: dict[str, np.ndarray]  # measure -> (2, ticks): 10th percentile per organisation and tick
    high: dict[str, np.ndarray]  # measure -> (2, ticks): 90th percentile
    value: np.ndarray  # (seeds, 2) value delivered by each organisation up to ``ticks``

    @property
    def left_wins(self) -> int:
        """Runs in which the left organisation delivered more value than the right."""
        return int(np.sum(self.value[:, 0] > self.value[:, 1]))

    @property
    def right_wins(self) -> int:
        return int(np.sum(self.value[:, 1] > self.value[:, 0]))

    def sentence(self, nouns: tuple[str, str], unit: str) -> str:
        """How sure the verdict is, e.g. 'In 18 of 20 runs (other markets, the same shocks), the responsive
        organisation had delivered more value after 40 weeks.'"""
        n = len(self.seeds)
        wins = (self.left_wins, self.right_wins)
        best = int(np.argmax(wins))
        after = f"after {duration(self.ticks, unit)}"
        lead = f"In {wins[best]} of {n} runs (other markets, the same shocks)"
        if wins[best] >= CLEAR * n:
            return f"{lead}, {nouns[best]} had delivered more value {after}."
        return (f"{lead}, {nouns[best]} had delivered more value {after}, and {nouns[1 - best]} in "
                f"{wins[1 - best]}: too close to call on one run.")


def summarise(runs: Sequence[tuple[pd.DataFrame, pd.DataFrame]], seeds: Sequence[int], ticks: int,
              line: Callable[[str, pd.DataFrame], np.ndarray], measures: Sequence[str]) -> Band:
    """A :class:`Band` from each seed's pair of per-tick tables; ``line(measure, table)`` is the line the
    page draws for a measure (smoothed and scaled)."""
    low, high = {}, {}
    for measure in measures:
        lines = np.array([[line(measure, table) for table in pair] for pair in runs])  # (seeds, 2, ticks)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a tick where no run has a lead time: NaN
            low[measure], high[measure] = np.nanpercentile(lines, QUANTILES, axis=0)
    value = np.array([[table.value_delivered.sum() for table in pair] for pair in runs], dtype=float)
    return Band(tuple(seeds), ticks, low, high, value)


def compute(settings: Settings, shocks: Sequence[ShockMark], ticks: int,
            line: Callable[[str, pd.DataFrame], np.ndarray], measures: Sequence[str], seeds: int = DEFAULT_SEEDS,
            progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None
            ) -> Band | None:
    """Run ``seeds`` seeds from the live one on and summarise them (None if ``cancel`` was set first).
    ``progress(done, seeds)`` is called after each seed."""
    if ticks < 1:
        raise ValueError("nothing has run yet: a band needs at least one tick")
    chosen = [settings.seed + i for i in range(seeds)]
    runs = []
    for i, seed in enumerate(chosen, start=1):
        if cancel is not None and cancel.is_set():
            return None
        runs.append(run_seed(settings, seed, shocks, ticks))
        if progress is not None:
            progress(i, seeds)
    return summarise(runs, chosen, ticks, line, measures)
