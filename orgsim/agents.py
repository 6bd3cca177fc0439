"""Members: the people of an organisation.

A member has a skill vector (proficiency in [0, 1] per capability), a capacity (work units per tick),
a home unit (the department of the capability they were hired or moved into), a place in the fixed
departments or in the fluid pool, and, in the fluid pool, the team it is in now (the demand it works
on), or none. Each tick it splits its time over capabilities; work it does on a capability is time x
proficiency.

For speed the organisation keeps every member's state in numpy arrays and updates them all at once
(``OrgModel.step``); a ``Member`` is the Mesa agent that reads and writes its own row of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from orgsim.model import OrgModel


class Member(mesa.Agent):
    """One person of the organisation; a view on row ``index`` of the organisation's arrays."""

    model: OrgModel

    def __init__(self, model: OrgModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def skills(self) -> np.ndarray:
        """Proficiency per capability, each in [0, 1] (a view: writing to it changes the member)."""
        return self.model.skills[self.index]

    @property
    def capacity(self) -> float:
        """Work units this member can give per tick at full proficiency."""
        return float(self.model.capacity[self.index])

    @property
    def home(self) -> str:
        """Name of the home unit: the capability this member's position belongs to."""
        return self.model.capabilities.names[self.model.home[self.index]]

    @property
    def fluid(self) -> bool:
        """True for a member of the fluid pool (works in teams), False for a department member."""
        return bool(self.model.fluid[self.index])

    @property
    def team(self) -> int | None:
        """Id of the demand whose team this member is in now (None: in a department, or free)."""
        uid = int(self.model.team[self.index])
        return None if uid < 0 else uid

    @property
    def onboarding(self) -> int:
        """Ticks left before a member moved to a new home unit is productive again."""
        return int(self.model.onboarding[self.index])

    @property
    def time(self) -> np.ndarray:
        """Share of capacity spent producing on each capability last tick."""
        return self.model.worked[self.index]

    @property
    def focus(self) -> str:
        """The capability this member spent most time on last tick (their home if idle)."""
        t = self.time
        k = int(np.argmax(t)) if t.sum() > 0 else int(self.model.home[self.index])
        return self.model.capabilities.names[k]
