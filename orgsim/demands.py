"""The demands inside an organisation: every work item, held as columns for vectorised work.

Items are kept in arrival order, so a cumulative sum down the rows serves them first-in first-out.
"""

from __future__ import annotations

import numpy as np


class DemandBook:
    """Columns of the demands an organisation holds (one row per demand, oldest first)."""

    _COLUMNS = ("type", "arrived", "value", "ready_at", "teamed", "failure_share")
    _MATRICES = ("remaining", "hidden", "planned")

    def __init__(self, n_capabilities: int) -> None:
        self.type = np.zeros(0, dtype=np.int64)  # demand type
        self.arrived = np.zeros(0, dtype=np.int64)  # tick of arrival
        self.value = np.zeros(0)  # value if delivered at once
        self.ready_at = np.zeros(0, dtype=np.int64)  # first tick it can be worked (after a hand-off)
        self.teamed = np.zeros(0, dtype=bool)  # worked by a team (True) or handed between units
        self.failure_share = np.zeros(0)  # share of its remaining work that is rework or waste
        self.remaining = np.zeros((0, n_capabilities))  # planned work still to do, per capability
        self.hidden = np.zeros((0, n_capabilities))  # needed work the plan missed (found on delivery)
        self.planned = np.zeros((0, n_capabilities))  # work as first planned (sizes rework)

    def __len__(self) -> int:
        return len(self.type)

    def add(self, **columns: np.ndarray) -> None:
        """Append new demands; every column and matrix must be given."""
        for name in self._COLUMNS + self._MATRICES:
            setattr(self, name, np.concatenate([getattr(self, name), columns[name]]))

    def keep(self, mask: np.ndarray) -> None:
        """Drop every demand where ``mask`` is False."""
        for name in self._COLUMNS + self._MATRICES:
            setattr(self, name, getattr(self, name)[mask])

    def add_rework(self, rows: np.ndarray, work: np.ndarray) -> None:
        """Add rework ``work`` (rows x K) to the remaining work of ``rows``, and to their failure share."""
        before = self.remaining[rows].sum(axis=1)
        self.remaining[rows] += work
        after = self.remaining[rows].sum(axis=1)
        share = (self.failure_share[rows] * before + work.sum(axis=1)) / np.where(after > 0, after, 1.0)
        self.failure_share[rows] = np.clip(share, 0.0, 1.0)
