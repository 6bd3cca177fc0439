"""No-shock twins of the page's run, for recovery as ``orgsim.recovery`` defines it.

Recovery from a shock is measured against the run's *twin*: the same organisation, world and seed
with that one shock left out (``orgsim.recovery``). The page keeps both organisations' twins of each
shock, stepped with the live run from the shock until its recovery window ends (the next shock, or
the day on screen), then keeps only their per-tick tables:

* a shock from a button or a story: the twins are copies of the live models taken just before it hits;
* a shock scheduled in the scenario file: the twins are built at the start without that shock (a copy
  could not leave it out) and run alongside, taking every shock from a button, until it fires.

Random shocks of the world have no twin (they are the world's own, as in ``orgsim.recovery``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from orgsim.dashboard.settings import Settings
from orgsim.model import OrgModel


@dataclass
class _Twin:
    tick: int  # the tick of the shock it leaves out
    models: tuple[OrgModel, ...] | None  # while it runs
    frames: tuple[pd.DataFrame, ...] | None = None  # once its window has ended

    def close(self) -> None:
        if self.models is not None:
            self.frames = tuple(m.timeseries() for m in self.models)
            self.models = None

    def tables(self) -> tuple[pd.DataFrame, ...]:
        return self.frames if self.models is None else tuple(m.timeseries() for m in self.models)


class Twins:
    """The twins of every shock of a :class:`~orgsim.dashboard.lockstep.Lockstep` run (it drives them)."""

    def __init__(self, settings: Settings) -> None:
        env, kwargs = settings.environment, settings.model_kwargs()
        self._by_index: dict[int, _Twin] = {}  # index in the shock log -> its twin
        self._pending: list[tuple[int, _Twin]] = []  # scheduled shocks to come: (tick, twin running from 0)
        for k, shock in sorted(enumerate(env.shocks), key=lambda item: item[1].tick):
            world = env.model_copy(update={"shocks": env.shocks[:k] + env.shocks[k + 1 :]})
            models = tuple(OrgModel(side.design(), world, **kwargs) for side in settings.sides)
            self._pending.append((shock.tick, _Twin(shock.tick, models)))

    def _running(self) -> list[_Twin]:
        return [t for t in self._by_index.values() if t.models is not None] + [t for _, t in self._pending]

    def _close_windows(self) -> None:
        for twin in self._by_index.values():
            twin.close()

    def before_manual(self, live: Sequence[OrgModel], layer: str, magnitude: float, index: int) -> None:
        """A shock from a button or a story is about to hit ``live`` as shock ``index`` of the log."""
        self._close_windows()
        for _, twin in self._pending:
            for model in twin.models:
                model.environment.shock(layer, magnitude)
        self._by_index[index] = _Twin(live[0].tick, tuple(copy.deepcopy(m) for m in live))

    def step(self, tick: int, log: Sequence[tuple[int, str, float, bool]], logged: int, manual: set[int]) -> None:
        """The live run has just run ``tick``: its shock log had ``logged`` entries before. Scheduled shocks
        that fired close the windows before them and take their twins; then every running twin runs ``tick``."""
        fired = [i for i in range(logged, len(log)) if log[i][3] and i not in manual]
        if fired:
            self._close_windows()
            for i in fired:
                at = next(k for k, (t, _) in enumerate(self._pending) if t == tick)
                self._by_index[i] = self._pending.pop(at)[1]
        for twin in self._running():
            for model in twin.models:
                model.step()

    def tables(self, shocks: int) -> tuple[tuple[pd.DataFrame | None, ...], tuple[pd.DataFrame | None, ...]]:
        """Per organisation, the twin's per-tick table of each of the first ``shocks`` shocks (None: no twin)."""
        per_shock = [self._by_index[i].tables() if i in self._by_index else (None, None) for i in range(shocks)]
        return tuple(t[0] for t in per_shock), tuple(t[1] for t in per_shock)
