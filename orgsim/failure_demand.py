"""Failure demand, as John Seddon defines it: demand from customers caused by a failure to do something,
or to do it right, for them.

Rules:

* A customer is *failed* when their demand is refused at the door, when it is not delivered by the
  promised tick (they chase, once), when a delivery misses work the customer needed (a return), or
  when it expires undelivered. A follow-up is failed in the same ways.
* A failed customer comes back, with chance ``followup_chance``, the next tick: a follow-up demand
  that carries no value and needs ``followup_work`` work units of the front-line capability
  (``operations`` if the organisation has it, else its last customer capability).
* Follow-ups arrive at the front door like any demand: they take capacity, count against the WIP
  limit, and can be failed in turn.

The measure is Seddon's: the share of arriving demand that is failure demand. The organisation's own
rework (hand-off errors, returns) is measured apart, as ``internal_rework``.
"""

from __future__ import annotations

import numpy as np

from orgsim.capabilities import Capabilities

FRONT_LINE = "operations"


def front_line(capabilities: Capabilities) -> int:
    """Index of the capability that takes customers' follow-ups."""
    names = capabilities.names
    return names.index(FRONT_LINE) if FRONT_LINE in names else int(capabilities.established[-1])


class FollowUps:
    """Follow-ups waiting to arrive next tick: the type of the demand they follow, per follow-up."""

    def __init__(self, chance: float, work: float, capabilities: Capabilities, rng: np.random.Generator) -> None:
        self.chance = chance
        self.work = work
        self.n_caps = len(capabilities)
        self.front = front_line(capabilities)
        self.rng = rng
        self._types: list[np.ndarray] = []

    def fail(self, types: np.ndarray) -> int:
        """Customers of demands of ``types`` were failed; some come back next tick. Returns how many."""
        types = np.asarray(types, dtype=np.int64)
        if len(types) == 0:
            return 0
        back = types[self.rng.random(len(types)) < self.chance]
        self._types.append(back)
        return len(back)

    def arrive(self) -> tuple[np.ndarray, np.ndarray]:
        """The follow-ups arriving now: (types, work (n, K)); clears the queue."""
        types = np.concatenate(self._types) if self._types else np.zeros(0, dtype=np.int64)
        self._types = []
        work = np.zeros((len(types), self.n_caps))
        work[:, self.front] = self.work
        return types, work
