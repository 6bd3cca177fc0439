"""How planners see the world: delayed, aggregated and noisy views of what happened.

Each tick the organisation records a few signals of what happened inside it: arrivals by type, work
reaching each department, what delivered demands truly needed, the backlog of each stream. A
management layer that re-plans reads the mean of a signal over a window (its ``memory``) that ended
``sensing_delay`` ticks ago, times log-normal noise whose spread shrinks with the square root of the
window (``orgsim.planning``). Nobody reads the world's true state.
"""

from __future__ import annotations

import numpy as np


class Sensor:
    """Ring buffers of per-tick signals, read with a delay, a window and noise."""

    def __init__(self, initial: dict[str, np.ndarray], horizon: int, noise: float,
                 rng: np.random.Generator) -> None:
        self.horizon = max(1, horizon)
        self.noise = noise
        self.rng = rng
        self.tick = 0
        # History starts filled with the founding state: early delayed reads see what founders knew.
        self._buffers = {k: np.repeat(np.asarray(v, float)[None], self.horizon, axis=0)
                         for k, v in initial.items()}

    def record(self, **signals: np.ndarray) -> None:
        """Store this tick's signals, then advance the clock."""
        slot = self.tick % self.horizon
        for name, value in signals.items():
            self._buffers[name][slot] = value
        self.tick += 1

    def read(self, name: str, window: int, delay: int, noisy: bool = True) -> np.ndarray:
        """Mean of ``name`` over the ``window`` ticks ending ``delay`` ticks before the latest."""
        window = max(1, min(window, self.horizon - delay))
        last = self.tick - 1 - delay
        idx = np.arange(last - window + 1, last + 1) % self.horizon
        value = self._buffers[name][idx].mean(axis=0)
        if noisy and self.noise > 0:
            sd = self.noise / np.sqrt(window)
            value = value * self.rng.lognormal(-0.5 * sd**2, sd, np.shape(value))
        return value
