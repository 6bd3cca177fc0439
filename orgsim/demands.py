"""The demands inside an organisation: every work item, held as columns for vectorised work.

Items are kept in arrival order, so a cumulative sum down the rows serves them first-in first-out.
A demand is in one of two *streams*: ``FIXED`` (it flows through the departments in flow order, with a
hand-off at each step) or ``TEAM`` (a team assembled around it works all of it at once).
"""

from __future__ import annotations

import numpy as np

FIXED, TEAM = 0, 1


class DemandBook:
    """Columns of the demands an organisation holds (one row per demand, oldest first)."""

    _COLUMNS = ("uid", "type", "arrived", "value", "size", "ready_at", "stream", "failure", "chased",
                "rework_share", "phase")
    _MATRICES = ("remaining", "hidden", "planned", "true_work")

    def __init__(self, n_capabilities: int) -> None:
        self.uid = np.zeros(0, dtype=np.int64)  # identity (teams know their demand by it)
        self.type = np.zeros(0, dtype=np.int64)  # demand type slot
        self.arrived = np.zeros(0, dtype=np.int64)  # tick of arrival
        self.value = np.zeros(0)  # value if delivered at once (0 for failure demand)
        self.size = np.ones(0)  # size relative to its type (visible to the organisation)
        self.ready_at = np.zeros(0, dtype=np.int64)  # first tick it can be worked (after a hand-off)
        self.stream = np.zeros(0, dtype=np.int64)  # FIXED or TEAM
        self.failure = np.zeros(0, dtype=bool)  # a follow-up: failure demand (Seddon)
        self.chased = np.zeros(0, dtype=bool)  # the customer has chased it once already
        self.rework_share = np.zeros(0)  # share of its remaining work that is rework or waste
        self.phase = np.full(0, -1, dtype=np.int64)  # capability a FIXED demand was in last tick (-1: none)
        self.remaining = np.zeros((0, n_capabilities))  # known work still to do, per capability
        self.hidden = np.zeros((0, n_capabilities))  # needed work the plan missed, not found yet
        self.planned = np.zeros((0, n_capabilities))  # work as first planned (sizes rework)
        self.true_work = np.zeros((0, n_capabilities))  # what it truly needs (learnt when delivered)
        self.next_uid = 0  # uid of the next demand added

    def __len__(self) -> int:
        return len(self.type)

    def add(self, **columns: np.ndarray) -> None:
        """Append new demands; every column but ``uid``, ``chased``, ``rework_share`` and ``phase`` must be
        given."""
        n = len(columns["type"])
        columns.setdefault("uid", np.arange(self.next_uid, self.next_uid + n))
        columns.setdefault("chased", np.zeros(n, dtype=bool))
        columns.setdefault("rework_share", np.zeros(n))
        columns.setdefault("phase", np.full(n, -1, dtype=np.int64))
        self.next_uid += n
        for name in self._COLUMNS + self._MATRICES:
            setattr(self, name, np.concatenate([getattr(self, name), columns[name]]))

    def keep(self, mask: np.ndarray) -> None:
        """Drop every demand where ``mask`` is False."""
        for name in self._COLUMNS + self._MATRICES:
            setattr(self, name, getattr(self, name)[mask])

    def add_rework(self, rows: np.ndarray, work: np.ndarray) -> None:
        """Add rework ``work`` (rows x K) to the remaining work of ``rows``, and to their rework share."""
        before = self.remaining[rows].sum(axis=1)
        self.remaining[rows] += work
        after = self.remaining[rows].sum(axis=1)
        share = (self.rework_share[rows] * before + work.sum(axis=1)) / np.where(after > 0, after, 1.0)
        self.rework_share[rows] = np.clip(share, 0.0, 1.0)

    def reveal(self, rows: np.ndarray, caps: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Move hidden work of ``rows`` (in ``caps``) into their remaining work; returns the work found."""
        found = np.zeros_like(self.hidden[rows])
        found[:, caps] = self.hidden[rows][:, caps]
        self.remaining[rows] += found
        self.hidden[rows] -= found
        return found
