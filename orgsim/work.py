"""Work and hand-offs: teams and departments doing the work, and what happens when it is done.

Rules, each tick, for ready demands (not waiting on a hand-off):

* **Teams.** A team member splits its producing time over the capabilities its demand still needs in
  proportion to skill^4 (people do what they are good at), and produces time x skill x efficiency,
  where a team of n works at ``1 / (1 + coordination_cost x (1 - standardisation x team routine) x (n - 1))``
  (a way of working the team stream has practised with the type needs less talk). What a capability's work
  cannot absorb is idle time. While it works, a team finds the demand's hidden work with chance
  ``DISCOVERY`` per tick and learns from it at once: the team stream's belief about the type becomes
  what the demand truly needs. With a compliance gate, a team leaves compliance to the gate: when
  the rest is done it hands the demand over.
* **Departments.** A demand of the fixed stream is in one department at a time, the first capability in
  flow order (compliance last) with work left. A department's members give their producing time
  at their own skill in its capability; the department serves its queue first-in first-out, each
  demand absorbing at most ``item_rate`` work units a tick. No coordination cost.
* **Hand-offs.** When a fixed demand moves to another department (or a team hands it to the gate), it
  waits ``handoff_delay`` ticks, and with chance ``handoff_error x (1 - standardisation x routine)``
  information is lost and ``rework_fraction`` of the finished step's planned work comes back to it.
  A department's *routine* in a demand type grows with each step it finishes for it, halves when
  a delivery of that type misses work (the work has changed), and is 0 for a type just born.
* **Team process.** The team stream's way of working with a demand type (its *team routine*: how a
  team of any members organises that kind of work) grows with each delivery of the type by a team,
  halves when a delivery of the type misses work, and is 0 for a type just born, as a department's
  routine does. It cuts a team's coordination cost and hand-over error by ``standardisation x team
  routine``.
* **Team hand-overs.** A team demand left with nobody while work remains (its last member left it to
  wait for cover, ``orgsim.teams``) is handed over like a department hand-off: it waits
  ``handoff_delay`` ticks, and with chance ``handoff_error x (1 - standardisation x team routine)``
  what the team knew is lost (``rework_fraction`` of the planned work of the largest capability it
  finished comes back). A team that keeps one member while others come and go keeps what it knows.
* **Gate.** A demand that enters the compliance unit of a gate is checked there: missed compliance
  work is found, and redone with ``rework_fraction`` on top.
* **Delivery.** A demand with no work left is delivered, unless it still has hidden work: then the
  customer finds the missed work (a *return*: the customer is failed, the demand comes back with the
  missed work plus ``rework_fraction`` of it after a hand-off, and its type is marked uncertain).
  Delivered value decays with waiting. Departments learn what the type needed through process
  management's reports; teams learn it at once.
* **Lateness and expiry.** A demand not delivered by its promise is chased once; one not delivered by its
  deadline expires (its value is lost). Both fail the customer (``orgsim.failure_demand``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from orgsim.demands import FIXED, TEAM
from orgsim.rows import any_positive, row_sum

if TYPE_CHECKING:
    from orgsim.model import OrgModel

EPS = 1e-9
#: Chance per tick that a working team finds its demand's hidden work.
DISCOVERY = 0.5
#: Share of the gap to 1 a department's routine in a type gains per step it finishes for it (the team
#: stream's, per delivery of the type by a team).
ROUTINE_RATE = 0.05


def phase_of(remaining: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Department each demand is in: the first capability in flow ``order`` with work left (-1: none)."""
    if len(order) > 53:
        has = remaining[:, order] > 0
        return np.where(has.any(axis=1), order[np.argmax(has, axis=1)], -1)
    # Bit i of a demand's mask is set when the i-th capability in flow order has work left; the lowest
    # set bit is the first.
    weight = np.zeros(remaining.shape[1])
    weight[order] = np.exp2(np.arange(len(order)))
    bits = ((remaining > 0).astype(np.float64) @ weight).astype(np.int64)
    first = np.frexp((bits & -bits).astype(np.float64))[1] - 1
    return np.where(bits > 0, order[first], -1)


def do_work(model: OrgModel, t: int, produce: np.ndarray) -> dict[str, float]:
    """One tick of work by teams and departments, then hand-offs. ``produce`` (N,) is each member's
    producing capacity this tick. Sets ``model.worked`` (N, K): capacity used per capability."""
    d, book, skills = model.design, model.demands, model.skills
    remaining = book.remaining
    n_rows, n_caps = remaining.shape
    compliance = model.capabilities.compliance
    gate = d.constraints == "gate"
    ready = book.ready_at <= t
    worked = np.zeros_like(skills)
    progress = np.zeros((n_rows, n_caps))
    coordination = 0.0

    # Teams.
    members = np.flatnonzero(model.team >= 0)
    rows = book.rows(model.team[members])
    live = ready[rows]
    members, rows = members[live], rows[live]
    if len(members):
        allowed = remaining[rows] > 0
        if gate:
            allowed[:, compliance] = False
        # skill^4 where allowed, 0 elsewhere: the power only where it counts (it is the slow part).
        preference = np.zeros(allowed.shape)
        where = np.flatnonzero(allowed)
        preference.ravel()[where] = np.power(skills[members].ravel()[where], 4)
        total = row_sum(preference)[:, None]
        time = produce[members, None] * (preference / np.where(total > 0, total, 1.0))
        headcount = np.bincount(rows, minlength=n_rows)
        talk = d.coordination_cost * (1.0 - d.standardisation * model.team_routine[book.type[rows]])
        efficiency = 1.0 / (1.0 + talk * (headcount[rows] - 1))
        output = time * skills[members] * efficiency[:, None]
        # Each demand takes the sum of its members' output (in member order), up to its remaining work.
        cells = (rows[:, None] * n_caps + np.arange(n_caps)).ravel()
        offered = np.bincount(cells, weights=output.ravel(), minlength=n_rows * n_caps).reshape(n_rows, n_caps)
        np.minimum(remaining, offered, out=progress)
        offered_here = offered[rows]
        used = time * (progress[rows] / np.where(offered_here > 0, offered_here, 1.0))
        worked[members] = used
        coordination = float((used * (1.0 - efficiency[:, None])).sum())

    # Departments: each serves its queue first-in first-out, at most item_rate per demand.
    fixed_rows = (book.stream == FIXED) & ready
    phase = phase_of(remaining, model.flow_order)
    staff = np.flatnonzero(~model.fluid & (produce > 0))
    dept_capacity = np.bincount(model.home[staff], weights=produce[staff] * skills[staff, model.home[staff]],
                                minlength=n_caps)
    sel = np.flatnonzero(fixed_rows & (phase >= 0))
    dept_done = np.zeros(n_caps)
    for k in np.unique(phase[sel]):
        queue = sel[phase[sel] == k]
        wanted = np.minimum(remaining[queue, k], model.item_rate)
        served = np.cumsum(wanted)
        done = np.clip(dept_capacity[k] - (served - wanted), 0.0, wanted)
        progress[queue, k] += done
        dept_done[k] = np.cumsum(done)[-1]
    dept_used = np.divide(dept_done, dept_capacity, out=np.zeros(n_caps), where=dept_capacity > 0)
    worked[staff, model.home[staff]] += produce[staff] * dept_used[model.home[staff]]

    return finish_work(model, t, progress, worked, coordination, phase, fixed_rows)


def finish_work(model: OrgModel, t: int, progress: np.ndarray, worked: np.ndarray, coordination: float,
                phase: np.ndarray, fixed_rows: np.ndarray) -> dict[str, float]:
    """After teams and departments worked: take ``progress`` (rows x K work units) off the demands, record
    each member's time used (``worked``, capacity units), let teams find hidden work and hand fixed demands
    on. ``phase`` is each demand's department before the work, ``fixed_rows`` the ready fixed demands."""
    book = model.demands
    remaining = book.remaining
    remaining -= progress
    np.multiply(remaining, remaining >= EPS, out=remaining)
    remaining += 0.0  # no negative zeros left by the line above
    model.worked = worked / model.capacity[:, None]
    found = _discover(model, progress)
    rework = _hand_off(model, t, phase, fixed_rows, progress)
    return {
        "work_done": float(progress.sum()),
        "rework_created": rework,
        "coordination_overhead": coordination / float(model.capacity.sum()),
        "hidden_found": found,
        "_progress": row_sum(progress),
        "_rework_share": book.rework_share.copy(),
    }


def _discover(model: OrgModel, progress: np.ndarray) -> float:
    """Working teams find hidden work (chance ``DISCOVERY`` a tick) and learn their demand's type."""
    book = model.demands
    working = (book.stream == TEAM) & any_positive(progress) & any_positive(book.hidden)
    rows = np.flatnonzero(working & (model.org_rng.random(len(book)) < DISCOVERY))
    if len(rows) == 0:
        return 0.0
    caps = np.ones(book.hidden.shape[1], dtype=bool)
    if model.design.constraints == "gate":
        caps[model.capabilities.compliance] = False
    found = book.reveal(rows, caps)
    learn = rows[~book.failure[rows]]
    model.belief_team[book.type[learn]] = book.true_work[learn] / book.size[learn, None]
    return float(found.sum())


def _hand_off(model: OrgModel, t: int, phase_before: np.ndarray, fixed_rows: np.ndarray,
              progress: np.ndarray) -> float:
    """Hand-offs between departments, and from teams to a compliance gate. Returns rework created."""
    d, book = model.design, model.demands
    compliance = model.capabilities.compliance
    rework = 0.0
    if d.constraints == "gate":
        customer = np.ones(book.remaining.shape[1])
        customer[compliance] = 0.0
        customer_left = book.remaining @ customer > 0
        to_gate = np.flatnonzero((book.stream == TEAM) & ~customer_left & (book.remaining[:, compliance] > 0))
        book.stream[to_gate] = FIXED
        book.ready_at[to_gate] = t + 1 + d.handoff_delay
        rework += _lose(model, to_gate, np.full(len(to_gate), compliance), model.team_routine[book.type[to_gate]])
    phase_after = phase_of(book.remaining, model.flow_order)
    moved = np.flatnonzero(fixed_rows & (phase_before >= 0) & (phase_after != phase_before)
                           & any_positive(progress))
    if len(moved) == 0:
        return rework
    old = phase_before[moved]
    routine = model.routine
    routine[old, book.type[moved]] += ROUTINE_RATE * (1.0 - routine[old, book.type[moved]])
    onward = moved[phase_after[moved] >= 0]
    book.ready_at[onward] = t + 1 + d.handoff_delay
    rework += _lose(model, onward, phase_before[onward], routine[phase_before[onward], book.type[onward]])
    if d.constraints == "gate":
        at_gate = onward[phase_after[onward] == compliance]
        hidden = np.zeros_like(book.hidden[at_gate])
        hidden[:, compliance] = book.hidden[at_gate, compliance] * (1.0 + d.rework_fraction)
        book.hidden[at_gate, compliance] = 0.0
        book.add_rework(at_gate, hidden)
        rework += float(hidden.sum())
    return rework


def hand_over(model: OrgModel, t: int, rows: np.ndarray) -> float:
    """Team hand-overs: demands ``rows`` (ascending) whose whole team left while team work remains wait
    ``handoff_delay`` ticks for the next team, and with chance ``handoff_error`` (less the team
    stream's routine in the type) what the team knew is lost: ``rework_fraction`` of the planned work
    of the largest capability it finished comes back. Returns the rework created (work units)."""
    book = model.demands
    if len(rows) == 0:
        return 0.0
    book.ready_at[rows] = t + model.design.handoff_delay
    finished = (book.remaining[rows] <= 0) & (book.planned[rows] > 0)
    step = np.argmax(np.where(finished, book.planned[rows], -1.0), axis=1)
    done = finished.any(axis=1)
    lost = rows[done]
    return _lose(model, lost, step[done], model.team_routine[book.type[lost]])


def _lose(model: OrgModel, rows: np.ndarray, step: np.ndarray, practised: np.ndarray) -> float:
    """Hand-off errors on ``rows`` leaving capability ``step``, given the routine ``practised`` of whoever
    hands each over (a department's, or the team stream's): rework of the step's planned work."""
    d, book = model.design, model.demands
    if len(rows) == 0:
        return 0.0
    chance = d.handoff_error * (1.0 - d.standardisation * practised)
    hit = model.org_rng.random(len(rows)) < chance
    lost, cap = rows[hit], step[hit]
    if len(lost) == 0:
        return 0.0
    extra = np.zeros_like(book.planned[lost])
    extra[np.arange(len(lost)), cap] = d.rework_fraction * book.planned[lost, cap]
    book.add_rework(lost, extra)
    return float(extra.sum())


def deliver(model: OrgModel, t: int) -> dict[str, float]:
    """Deliveries, returns, lateness and expiry at the end of the tick. Returns the tick's measures."""
    d, book, env = model.design, model.demands, model.environment
    done = ~any_positive(book.remaining)
    returned = np.flatnonzero(done & any_positive(book.hidden))
    rework = 0.0
    completed = done
    if len(returned):
        extra = book.hidden[returned] * (1.0 + d.rework_fraction)
        book.hidden[returned] = 0.0
        book.add_rework(returned, extra)
        book.ready_at[returned] = t + 1 + d.handoff_delay
        rework = float(extra.sum())
        types = book.type[returned]
        model.followups.fail(types)
        model.uncertain[types[~book.failure[returned]]] = True
        model.routine[:, types] *= 0.5
        model.team_routine[types] *= 0.5
        completed = done & ~any_positive(book.remaining)
    age = t - book.arrived
    expired = ~completed & (age >= env.config.deadline - 1)
    late = ~completed & ~expired & ~book.chased & (age >= env.config.promise)
    book.chased[late] = True
    model.followups.fail(book.type[expired | late])

    customer = completed & ~book.failure
    decay = (1.0 - env.config.value_decay) ** age[customer]
    value = book.value[customer] * decay
    fixed = np.flatnonzero(customer & (book.stream == FIXED))
    teamed = np.flatnonzero(customer & (book.stream == TEAM))
    n_types, n_caps = len(model.served), book.remaining.shape[1]
    model.delivered_count = np.bincount(book.type[fixed], minlength=n_types).astype(float)
    per_size = book.true_work[fixed] / book.size[fixed, None]
    cells = (book.type[fixed, None] * n_caps + np.arange(n_caps)).ravel()
    model.delivered_work = np.bincount(cells, weights=per_size.ravel(), minlength=n_types * n_caps).reshape(
        n_types, n_caps)
    team_types = book.type[teamed]
    model.belief_team[team_types] = book.true_work[teamed] / book.size[teamed, None]
    model.team_routine[team_types] += ROUTINE_RATE * (1.0 - model.team_routine[team_types])
    model.uncertain[book.type[customer]] = False
    row = {
        "completed": float(completed.sum()),
        "expired": float(expired.sum()),
        "chased": float(late.sum()),
        "value_delivered": float(value.sum()),
        "value_lost_delay": float((book.value[customer] - value).sum()),
        "value_lost_expiry": float(book.value[expired].sum()),
        "lead_time": float((age[customer] + 1).mean()) if customer.any() else np.nan,
        "rework_created": rework,
    }
    book.keep(~(completed | expired))
    return row
