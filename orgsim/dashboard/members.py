"""Where every member of a model is now, and what waits for them: what the organisation view draws.

A copy of the model's arrays at one tick (so the page can draw without holding the run's lock):
each member's home department, whether it is in the fluid pool, the team it is in (the uid of the
demand that team works on, or -1), its skills and whether it is still onboarding; and, per
department, the demands waiting there (fixed-stream demands whose next phase is that department).
"""

from __future__ import annotations

import numpy as np

from orgsim.demands import FIXED, TEAM
from orgsim.model import OrgModel
from orgsim.teams import NO_TEAM
from orgsim.work import phase_of


def member_state(model: OrgModel) -> dict[str, np.ndarray]:
    """Copies of what the organisation view draws.

    Keys: ``home`` (N,) department; ``fluid`` (N,) in the fluid pool; ``team`` (N,) uid of the demand
    the member's team works on (-1: none, or its demand has just been delivered); ``skills`` (N, K);
    ``onboarding`` (N,) ticks until productive; ``queue`` (K,) demands of the fixed stream in each
    department (its phase); ``unstaffed`` (1,) demands of the team stream that no team works on yet.
    """
    book = model.demands
    n_caps = model.skills.shape[1]
    fixed = book.stream == FIXED
    phase = phase_of(book.remaining[fixed], model.flow_order)
    # A team whose demand was delivered (or left) this tick dissolves at the next assembly: its
    # members are shown free already.
    team = np.where(np.isin(model.team, book.uid), model.team, NO_TEAM)
    staffed = np.isin(book.uid, team)
    return {
        "home": model.home.copy(),
        "fluid": model.fluid.copy(),
        "team": team,
        "skills": model.skills.copy(),
        "onboarding": model.onboarding.copy(),
        "queue": np.bincount(phase[phase >= 0], minlength=n_caps),
        "unstaffed": np.array([int(np.sum((book.stream == TEAM) & ~staffed))]),
    }
