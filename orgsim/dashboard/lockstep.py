"""Two organisations in one world, stepped together: the same demand, the same shocks, the same tick.

Both models get the same seed, so their environments draw the same random numbers in the same
order: they see identical arrivals. A shock from the dashboard is applied to both environments
between two ticks (``DemandEnvironment.shock`` draws from the environment's own stream, so the
streams stay identical) and hits both before the next tick's demand arrives.

Plain Python, no UI: the dashboard page, its tests and the benchmark all drive this class. Its
methods take a lock, so a play loop in one thread and button clicks in another do not interleave.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orgsim.dashboard.members import member_state as _members
from orgsim.dashboard.settings import Settings
from orgsim.dashboard.twins import Twins
from orgsim.errors import OrgsimError
from orgsim.model import OrgModel

#: The pace layers the dashboard has a button for, with what the button says.
SHOCK_BUTTONS: dict[str, str] = {
    "needs": "Customer needs shift",
    "technology": "New technology",
    "rules": "New regulation",
}
#: The same changes as nouns, for sentences ("after the new regulation ...").
SHOCK_NOUNS: dict[str, str] = {
    "needs": "customer needs shift",
    "technology": "new technology",
    "rules": "new regulation",
    "volume": "surge in demand volume",
}


@dataclass(frozen=True)
class ShockMark:
    """One shock both organisations took: when, which layer, how big, and who caused it."""

    tick: int
    layer: str
    magnitude: float
    source: str  # "you" (a button), "scenario" (scheduled in the file) or "world" (random)


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of both runs at one tick, for drawing without holding the lock."""

    tick: int
    settings: Settings
    frames: tuple[pd.DataFrame, pd.DataFrame]  # per-tick measures of left and right
    twins: tuple[tuple[pd.DataFrame | None, ...], tuple[pd.DataFrame | None, ...]]  # per side and shock: its
    # no-shock twin's per-tick table, up to the end of its recovery window (None: a random shock, no twin)
    shocks: tuple[ShockMark, ...]
    members: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]  # org view (orgsim.dashboard.members)
    need: np.ndarray  # (K,) share of today's work that needs each capability (same world on both sides)

    @property
    def names(self) -> tuple[str, str]:
        return self.settings.names()

    @property
    def finished(self) -> bool:
        return self.tick >= self.settings.horizon


class Lockstep:
    """The left and right organisation of ``settings``, run on the same seed, one tick at a time."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.RLock()
        self.reset(settings)

    def reset(self, settings: Settings | None = None) -> None:
        """Start again at tick 0, with new settings if given. If building the new models fails
        (an ``OrgsimError`` for a bad design), the current settings, models and shocks are kept."""
        with self._lock:
            settings = settings or self.settings
            kwargs = settings.model_kwargs()
            models = tuple(OrgModel(side.design(), settings.environment, **kwargs) for side in settings.sides)
            twins = Twins(settings)
            self.settings, self.models, self.twins = settings, models, twins
            self._manual: set[int] = set()  # indices into shock_log of shocks from the buttons

    @property
    def tick(self) -> int:
        """Ticks run so far (the next tick to run)."""
        return self.models[0].tick

    @property
    def finished(self) -> bool:
        return self.tick >= self.settings.horizon

    def step(self, ticks: int = 1) -> int:
        """Run up to ``ticks`` ticks of both organisations, stopping at the horizon; returns ticks run."""
        with self._lock:
            ran = 0
            while ran < ticks and not self.finished:
                log = self.models[0].environment.shock_log
                logged, tick = len(log), self.tick
                for model in self.models:
                    model.step()
                self.twins.step(tick, log, logged, self._manual)
                ran += 1
            return ran

    def shock(self, layer: str, magnitude: float | None = None) -> ShockMark:
        """Hit ``layer`` of both worlds now, before the next tick's demand arrives."""
        if layer not in SHOCK_NOUNS:
            raise OrgsimError(f"unknown shock {layer!r}; allowed: {', '.join(SHOCK_NOUNS)}")
        magnitude = self.settings.shock_magnitude if magnitude is None else float(magnitude)
        with self._lock:
            if self.finished:
                raise OrgsimError("the run is over: press Reset to start again")
            envs = [m.environment for m in self.models]
            self.twins.before_manual(self.models, layer, magnitude, len(envs[0].shock_log))
            for env in envs:
                env.shock(layer, magnitude)
            self._manual.add(len(envs[0].shock_log) - 1)
            return self._marks()[-1]

    def _marks(self) -> tuple[ShockMark, ...]:
        log = self.models[0].environment.shock_log
        return tuple(
            ShockMark(t, layer, mag, "you" if i in self._manual else "scenario" if scheduled else "world")
            for i, (t, layer, mag, scheduled) in enumerate(log)
        )

    def shocks(self) -> tuple[ShockMark, ...]:
        """Every shock so far, oldest first."""
        with self._lock:
            return self._marks()

    def snapshot(self) -> Snapshot:
        """Copies of everything the page shows."""
        with self._lock:
            return Snapshot(
                tick=self.tick,
                settings=self.settings,
                frames=tuple(m.timeseries() for m in self.models),
                shocks=(marks := self._marks()),
                twins=self.twins.tables(len(marks)),
                members=tuple(_members(m) for m in self.models),
                need=self.models[0].environment.capability_need(),
            )
