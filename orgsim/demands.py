"""The demands inside an organisation: every work item, held as columns for vectorised work.

Items are kept in arrival order, so a cumulative sum down the rows serves them first-in first-out.
A demand is in one of two *streams*: ``FIXED`` (it flows through the departments in flow order, with a
hand-off at each step) or ``TEAM`` (a team assembled around it works all of it at once).
"""

from __future__ import annotations

from typing import Any

import numpy as np

FIXED, TEAM = 0, 1

#: Columns by storage: the scalar columns of one dtype share one array, each matrix has its own.
_GROUPS: dict[str, tuple[str, ...]] = {
    "ints": ("uid", "type", "arrived", "ready_at", "stream", "phase", "stalled"),
    "floats": ("value", "size", "rework_share"),
    "flags": ("failure", "chased"),
}
_DTYPES = {"ints": np.int64, "floats": np.float64, "flags": bool}


class DemandBook:
    """Columns of the demands an organisation holds (one row per demand, oldest first).

    Columns: ``uid`` (identity: teams know their demand by it), ``type`` (demand type slot), ``arrived``
    (tick of arrival), ``value`` (value if delivered at once; 0 for failure demand), ``size`` (size
    relative to its type, visible to the organisation), ``ready_at`` (first tick it can be worked, after
    a hand-off), ``stream`` (FIXED or TEAM), ``failure`` (a follow-up: failure demand, after Seddon),
    ``chased`` (the customer has chased it once already), ``rework_share`` (share of its remaining work
    that is rework or waste), ``phase`` (capability a FIXED demand was in last tick; -1: none),
    ``stalled`` (ticks a ready TEAM demand has had nobody covering its work left). Matrices
    (rows x capabilities): ``remaining`` (known work still to do), ``hidden`` (needed work the plan
    missed, not found yet), ``planned`` (work as first planned; sizes rework), ``true_work`` (what it
    truly needs; learnt when delivered).

    Each column is a view on storage that grows by doubling, so adding and dropping demands does not
    reallocate every column every tick. Assigning a whole column (``book.phase = ...``) writes into it.
    """

    _COLUMNS = ("uid", "type", "arrived", "value", "size", "ready_at", "stream", "failure", "chased",
                "rework_share", "phase", "stalled")
    _MATRICES = ("remaining", "hidden", "planned", "true_work")

    def __init__(self, n_capabilities: int, capacity: int = 64) -> None:
        object.__setattr__(self, "_n", 0)
        self.next_uid = 0  # uid of the next demand added
        self._k = n_capabilities
        self._store: dict[str, np.ndarray] = {}
        self._allocate(max(1, capacity))
        # Book row of each uid from ``_row_base`` on, at index uid - _row_base + 1 (-1: not held);
        # index 0 stays -1 and answers for every older uid and for no team (-1).
        self._row_base = 0
        self._row_of = np.full(max(1, capacity) + 1, -1, dtype=np.int64)

    # --- storage ---------------------------------------------------------------------------------
    def _allocate(self, capacity: int) -> None:
        old, n = self._store, self._n
        store = {g: np.zeros((capacity, len(names)), dtype=_DTYPES[g]) for g, names in _GROUPS.items()}
        store.update({m: np.zeros((capacity, self._k)) for m in self._MATRICES})
        for name, array in old.items():
            store[name][:n] = array[:n]
        self._store = store
        self._views()

    def _views(self) -> None:
        n, store, set_ = self._n, self._store, object.__setattr__
        for group, names in _GROUPS.items():
            for j, name in enumerate(names):
                set_(self, name, store[group][:n, j])
        for name in self._MATRICES:
            set_(self, name, store[name][:n])

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._COLUMNS or name in self._MATRICES:
            getattr(self, name)[...] = value
        else:
            object.__setattr__(self, name, value)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._COLUMNS + self._MATRICES}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._views()

    def __len__(self) -> int:
        return self._n

    # --- changes ---------------------------------------------------------------------------------
    def add(self, **columns: np.ndarray) -> None:
        """Append new demands; every column but ``uid``, ``chased``, ``rework_share``, ``phase`` and ``stalled``
        must be given."""
        count = len(columns["type"])
        columns.setdefault("uid", np.arange(self.next_uid, self.next_uid + count))
        columns.setdefault("chased", np.zeros(count, dtype=bool))
        columns.setdefault("rework_share", np.zeros(count))
        columns.setdefault("phase", np.full(count, -1, dtype=np.int64))
        columns.setdefault("stalled", np.zeros(count, dtype=np.int64))
        n, end = self._n, self._n + count
        if end > len(self._store["remaining"]):
            self._allocate(max(end, 2 * len(self._store["remaining"])))
        for group, names in _GROUPS.items():
            block = self._store[group]
            for j, name in enumerate(names):
                block[n:end, j] = columns[name]
        for name in self._MATRICES:
            self._store[name][n:end] = columns[name]
        object.__setattr__(self, "_n", end)
        self._views()
        uids = self.uid[n:end]
        self.next_uid = max(self.next_uid + count, int(uids.max(initial=-1)) + 1)
        if len(uids) and (uids.min() < self._row_base or np.any(np.diff(uids) <= 0)):
            self._reindex()
            return
        top = self.next_uid - self._row_base + 1
        if top > len(self._row_of):
            grown = np.full(max(top, 2 * len(self._row_of)), -1, dtype=np.int64)
            grown[: len(self._row_of)] = self._row_of
            self._row_of = grown
        self._row_of[uids - self._row_base + 1] = np.arange(n, end)

    def keep(self, mask: np.ndarray) -> None:
        """Drop every demand where ``mask`` is False."""
        mask = np.asarray(mask, dtype=bool)
        self._row_of[self.uid[~mask] - self._row_base + 1] = -1
        rows = np.flatnonzero(mask)
        kept = len(rows)
        for array in self._store.values():
            array[:kept] = np.take(array[: self._n], rows, axis=0)
        object.__setattr__(self, "_n", kept)
        self._views()
        if kept and self.uid[0] - self._row_base > max(1024, len(self._row_of) // 2):
            self._reindex()
        else:
            self._row_of[self.uid - self._row_base + 1] = np.arange(kept)

    def _reindex(self) -> None:
        """Rebuild the uid -> row table from the oldest demand held on."""
        self._row_base = int(self.uid.min()) if self._n else self.next_uid
        self._row_of = np.full(max(64, 2 * (self.next_uid - self._row_base + 1)), -1, dtype=np.int64)
        self._row_of[self.uid - self._row_base + 1] = np.arange(self._n)

    def rows(self, uids: np.ndarray) -> np.ndarray:
        """Book row of the demand of each uid in ``uids`` (-1 where it is not held, and for uids < 0)."""
        return self._row_of[np.maximum(uids - (self._row_base - 1), 0)]

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
