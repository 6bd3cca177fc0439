"""Intake: which demands the organisation takes on, which stream works each, and how each is planned.

Rules, for the demands that arrive this tick (new ones, then follow-ups: ``orgsim.failure_demand``):

* **Refusal.** A new demand is refused if strategy does not serve its type (or the type is new since
  strategy last re-planned). Follow-ups are never refused for their type. Any demand is refused when
  work in progress is at its limit (``wip_limit`` per member). A refused customer is failed.
* **Stream.** Each accepted demand goes to the team stream with chance ``split`` (set by operations),
  else to the fixed departments; but a demand believed to need a capability that no department has
  staff for goes to the team stream while there is one.
* **Planning (analyse).** A demand is planned from what its stream believes its type needs, scaled by
  its size: departments use the beliefs process management keeps, teams their own. Work the plan
  includes that the demand does not need is waste (done anyway); work it needs that the plan misses
  is *hidden*, to be found later (``orgsim.work``).
* **Probing.** A demand of a type the organisation is unsure of (new to it, or whose last delivery
  missed work) is, with chance ``probing``, probed first: a small early piece of work
  (``PROBE_WORK`` work units, waste) and one tick's wait that reveal what the type needs. The demand
  is then planned from the truth and the stream's belief about its type is corrected.
* **Gate.** With ``constraints = "gate"``, every demand also passes the compliance unit last, which
  checks it (at least ``GATE_CHECK`` work units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from orgsim.demands import FIXED, TEAM
from orgsim.environment import Arrivals

if TYPE_CHECKING:
    from orgsim.model import OrgModel

PROBE_WORK = 0.5
GATE_CHECK = 0.25


def intake(model: OrgModel, arrivals: Arrivals, t: int) -> dict[str, float]:
    """Take on this tick's demands; returns the tick's intake measures."""
    env, d, book = model.environment, model.design, model.demands
    follow_types, follow_work = model.followups.arrive()
    n_new, n_follow = len(arrivals.types), len(follow_types)
    types = np.concatenate([arrivals.types, follow_types])
    work = np.vstack([arrivals.work, follow_work])
    size = np.concatenate([arrivals.size, np.ones(n_follow)])
    value = np.concatenate([arrivals.value, np.zeros(n_follow)])
    failure = np.arange(n_new + n_follow) >= n_new
    served = model.served[types] & (env.generation[types] == model.known_generation[types])
    wanted = np.flatnonzero(served | failure)
    slots = max(0, int(model.wip_limit * len(model.home)) - len(book))
    accepted = wanted[:slots]
    refused = np.ones(len(types), dtype=bool)
    refused[accepted] = False
    model.followups.fail(types[refused])
    out = {
        "arrived": float(len(types)),
        "arrived_failure": float(n_follow),
        "refused": float(refused.sum()),
        "value_lost_refused": float(value[refused].sum()),
        "probes": 0.0,
    }
    n = len(accepted)
    if n == 0:
        return out
    types, work, size, value, failure = types[accepted], work[accepted], size[accepted], value[accepted], failure[accepted]
    to_team = model.org_rng.random(n) < model.split
    if model.team_capacity > 0:
        staffed = model.department_capacity() > 0
        to_team |= ((model.belief_fixed[types] > 0) & ~staffed).any(axis=1)
    stream = np.where(to_team, TEAM, FIXED)
    belief = np.where((stream == TEAM)[:, None], model.belief_team[types], model.belief_fixed[types])
    planned = np.where(failure[:, None], work, belief * size[:, None])
    ready_at = np.full(n, t)
    waste = np.zeros(n)
    probe = ~failure & model.uncertain[types] & (model.org_rng.random(n) < d.probing)
    if probe.any():
        rows = np.flatnonzero(probe)
        planned[rows] = work[rows]
        ready_at[rows] = t + 1
        waste[rows] = PROBE_WORK
        for r in rows:
            table = model.belief_team if stream[r] == TEAM else model.belief_fixed
            table[types[r]] = work[r] / size[r]
        model.uncertain[types[rows]] = False
        out["probes"] = float(len(rows))
    remaining = np.where(work > 0, np.where(planned > 0, work, 0.0), planned)
    hidden = np.where(planned > 0, 0.0, work)
    first = np.argmax(remaining > 0, axis=1)
    remaining[np.arange(n), first] += waste
    waste_total = np.where(work > 0, 0.0, planned).sum(axis=1) + waste
    if d.constraints == "gate":
        c = env.capabilities.compliance
        remaining[:, c] = np.maximum(remaining[:, c], GATE_CHECK)
    total = remaining.sum(axis=1)
    book.add(
        type=types, arrived=np.full(n, t), value=value, size=size, ready_at=ready_at, stream=stream,
        failure=failure, remaining=remaining, hidden=hidden, planned=remaining.copy(), true_work=work,
        rework_share=np.where(total > 0, waste_total / np.where(total > 0, total, 1.0), 0.0),
    )
    return out
