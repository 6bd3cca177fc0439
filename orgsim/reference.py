"""The per-agent reference implementation of team assembly and the work step.

``OrgModel(..., engine="agents")`` runs these instead of the vectorised code of ``orgsim.teams`` and
``orgsim.work``: the same rules, written one agent at a time in plain Python (each member agent decides
for itself, each demand is served in turn). It is slow and meant for small organisations: its job is to
show that the fast engine implements the rules as stated (``tests/test_reference.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from orgsim.demands import FIXED, TEAM
from orgsim.work import finish_work, hand_over, phase_of

if TYPE_CHECKING:
    from orgsim.agents import Member
    from orgsim.model import OrgModel


def _covers(member: Member, cover: float) -> set[int]:
    return {k for k, s in enumerate(member.skills) if s >= cover}


def _team_caps(model: OrgModel, row: int) -> set[int]:
    """Capabilities with work left that a team works on (not compliance with a gate)."""
    caps = {k for k, w in enumerate(model.demands.remaining[row]) if w > 0}
    if model.design.constraints == "gate":
        caps.discard(model.capabilities.compliance)
    return caps


def assemble(model: OrgModel, t: int) -> float:
    """Rules 1-4 of ``orgsim.teams`` and ``orgsim.work.hand_over``, one member and one demand at a time.
    Returns the share of members who joined or left a team and the rework hand-overs created."""
    book, cover, patience = model.demands, model.design.team_cover, model.design.patience
    before = model.team.copy()
    row_of = {int(uid): r for r, uid in enumerate(book.uid)}
    members = model.members


    # 1. Leaving.
    idle_by_team: dict[int, list[Member]] = {}
    busy_teams: set[int] = set()
    staffed_before = {row_of[m.team] for m in members if m.team is not None and m.team in row_of}
    for m in members:
        if m.team is None:
            continue
        row = row_of.get(m.team)
        if row is None or book.stream[row] != TEAM:
            model.team[m.index] = -1
            continue
        if _covers(m, cover) & _team_caps(model, row):
            busy_teams.add(m.team)
        else:
            idle_by_team.setdefault(m.team, []).append(m)
    for uid, idle in idle_by_team.items():
        stays = None
        if uid not in busy_teams and book.stalled[row_of[uid]] >= patience:
            left = book.remaining[row_of[uid]] > 0
            # The same floating-point sum as the vectorised engine, so that ties break alike.
            stays = max(idle, key=lambda m: (float((m.skills * left).sum()), -m.index))
        for m in idle:
            if m is not stays:
                model.team[m.index] = -1

    # A demand its whole team left, with team work left, is handed over.
    staffed_after = {row_of[m.team] for m in members if m.team is not None and m.team in row_of}
    emptied = [r for r in sorted(staffed_before - staffed_after)
               if book.stream[r] == TEAM and book.ready_at[r] <= t and _team_caps(model, r)]
    rework = hand_over(model, t, np.asarray(emptied, dtype=np.int64))

    # 2. Recruiting, in passes.
    free = [m for m in members if m.fluid and m.team is None and m.onboarding == 0]
    asking = [r for r in range(len(book)) if book.stream[r] == TEAM and book.ready_at[r] <= t
              and _team_caps(model, r)]
    want: dict[int, set[int]] = {}
    for r in asking:
        covered = set().union(*(_covers(m, cover) for m in members if m.team == int(book.uid[r])))
        want[r] = _team_caps(model, r) - covered
    while free:
        kinds: dict[frozenset[int], list[Member]] = {}
        for m in free:
            kinds.setdefault(frozenset(_covers(m, cover)), []).append(m)
        for pool in kinds.values():
            pool.sort(key=lambda m: (-float(m.skills.sum()), m.index))
        named: list[tuple[int, frozenset[int]]] = []
        for r in asking:
            if not want[r]:
                continue
            best = max(
                ((len(k & want[r]) * 64 - len(k - want[r]), -_bits(k), k) for k in kinds if k & want[r]),
                default=None,
            )
            if best is not None:
                named.append((r, best[2]))
        if not named:
            break
        for r, kind in named:
            if kinds[kind]:
                m = kinds[kind].pop(0)
                model.team[m.index] = int(book.uid[r])
                want[r] -= kind
                free.remove(m)

    # 3. Starting.
    for r in asking:
        uid = int(book.uid[r])
        if not free or book.stalled[r] < patience or any(m.team == uid for m in members):
            continue
        left = np.zeros(len(book.remaining[r]), dtype=bool)
        left[list(_team_caps(model, r))] = True
        m = max(free, key=lambda m: (float(m.skills @ left), -m.index))
        model.team[m.index] = uid
        free.remove(m)

    # 4. Waiting.
    for r in asking:
        mates = [m for m in members if m.team == int(book.uid[r])]
        covered = any(_covers(m, cover) & _team_caps(model, r) for m in mates)
        book.stalled[r] = 0 if covered else book.stalled[r] + 1
    return float((model.team != before).mean()), rework


def _bits(kind: frozenset[int]) -> int:
    return sum(1 << k for k in kind)


def work(model: OrgModel, t: int, produce: np.ndarray) -> dict[str, Any]:
    """The work step of ``orgsim.work``, one member and one demand at a time."""
    d, book, skills = model.design, model.demands, model.skills
    n_rows, n_caps = book.remaining.shape
    gate = d.constraints == "gate"
    compliance = model.capabilities.compliance
    row_of = {int(uid): r for r, uid in enumerate(book.uid)}
    worked = np.zeros_like(skills)
    progress = np.zeros((n_rows, n_caps))
    coordination = 0.0

    # Teams: each member offers its work; each demand takes what its remaining work can absorb.
    team_of: dict[int, list[int]] = {}
    for m in model.members:
        if m.team is not None and book.ready_at[row_of[m.team]] <= t:
            team_of.setdefault(row_of[m.team], []).append(m.index)
    # Each member's arithmetic is written as the vectorised engine's, so that ties break alike.
    for row, team in team_of.items():
        talk = d.coordination_cost * (1.0 - d.standardisation * model.team_routine[book.type[row]])
        efficiency = 1.0 / (1.0 + talk * (len(team) - 1))
        allowed = book.remaining[row] > 0
        if gate:
            allowed[compliance] = False
        offers = []
        for i in team:
            preference = skills[i] ** 4 * allowed
            total = preference.sum()
            offers.append((i, produce[i] * (preference / total) if total > 0 else np.zeros(n_caps)))
        for k in range(n_caps):
            offered = 0.0
            for i, time in offers:
                offered += time[k] * skills[i, k] * efficiency
            if offered <= 0:
                continue
            done = min(book.remaining[row, k], offered)
            progress[row, k] += done
            for i, time in offers:
                used = time[k] * (done / offered)
                worked[i, k] += used
                coordination += used * (1.0 - efficiency)

    # Departments: each serves its queue first-in first-out.
    phase = phase_of(book.remaining, model.flow_order)
    capacity = np.zeros(n_caps)
    for m in model.members:
        if not m.fluid and produce[m.index] > 0:
            capacity[model.home[m.index]] += produce[m.index] * skills[m.index, model.home[m.index]]
    left = capacity.copy()
    done_in = np.zeros(n_caps)
    for row in range(n_rows):
        k = phase[row]
        if book.stream[row] != FIXED or book.ready_at[row] > t or k < 0:
            continue
        done = min(book.remaining[row, k], model.item_rate, max(left[k], 0.0))
        progress[row, k] += done
        done_in[k] += done
        left[k] -= done
    for m in model.members:
        k = model.home[m.index]
        if not m.fluid and produce[m.index] > 0 and capacity[k] > 0:
            worked[m.index, k] += produce[m.index] * (done_in[k] / capacity[k])

    fixed_rows = (book.stream == FIXED) & (book.ready_at <= t)
    return finish_work(model, t, progress, worked, coordination, phase, fixed_rows)
