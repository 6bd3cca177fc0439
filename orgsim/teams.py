"""Team assembly: capability bundles that form around a demand and dissolve when its work is done.

The rules, for the members of the fluid pool (the others sit in fixed departments), each tick before
the work:

1. **Leaving.** A member leaves its team when the team's demand is gone (delivered, expired, or handed
   on to a compliance gate). It also leaves when no capability it *covers* (skill >= ``team_cover``)
   has work left in the demand, so that the demand can recruit someone who does, unless it would leave
   the demand with nobody: then the team-mate with most skill in the remaining work stays (and learns
   it by doing). A member who leaves is free.
2. **Recruiting.** A ready demand of the team stream with work left in a capability that no team-mate
   covers asks for a free member, in passes. In each pass every such demand names the *kind* of free
   member it wants most: the kind whose covered capabilities overlap its uncovered ones most, and
   among equals the kind that covers fewest capabilities the demand does not need (breadth is kept for
   where it is needed). Each kind goes to the oldest demands that name it, as far as free members of
   that kind last, most skilled first; a demand that misses out names again in the next pass, and a
   demand that got someone may ask again. Passes stop when no demand can find a member who adds cover.
3. **Starting.** A demand that still has nobody takes the free member with the most skill in its
   remaining work, even below cover (someone has to start: nobody free covers it); oldest demand
   first.

People are indivisible, so breadth matters: a T-shaped member covers two capabilities and keeps a team
small, while specialists make bigger teams, and a team of n pays coordination for n (``orgsim.work``).
``orgsim.reference`` implements the same rules one agent at a time.
"""

from __future__ import annotations

import numpy as np

NO_TEAM = -1


def cover_bits(skills: np.ndarray, cover: float) -> np.ndarray:
    """(N,) bit mask per member of the capabilities it covers (bit k set when skill k >= ``cover``)."""
    return ((skills >= cover).astype(np.int64) << np.arange(skills.shape[1], dtype=np.int64)).sum(axis=1)


def work_bits(work: np.ndarray) -> np.ndarray:
    """(D,) bit mask per demand of the capabilities with work > 0."""
    return ((work > 0).astype(np.int64) << np.arange(work.shape[1], dtype=np.int64)).sum(axis=1)


def leavers(team: np.ndarray, member_cover: np.ndarray, demand_uid: np.ndarray, demand_left: np.ndarray,
            demand_is_team: np.ndarray, skill_on_left: np.ndarray) -> np.ndarray:
    """Members who leave their team this tick (rule 1), as a boolean (N,) mask.

    ``demand_left`` is each demand's bit mask of capabilities with work left; ``skill_on_left`` is each
    member's summed skill over its own demand's remaining capabilities.
    """
    in_team = np.flatnonzero(team != NO_TEAM)
    out = np.zeros(len(team), dtype=bool)
    if len(in_team) == 0:
        return out
    if len(demand_uid) == 0:
        out[in_team] = True
        return out
    # Demands are held oldest first, so their uids are sorted.
    pos = np.minimum(np.searchsorted(demand_uid, team[in_team]), len(demand_uid) - 1)
    gone = (demand_uid[pos] != team[in_team]) | ~demand_is_team[pos]
    idle = ~gone & ((member_cover[in_team] & demand_left[pos]) == 0)
    out[in_team[gone]] = True
    # Idle members leave unless that would leave their demand with nobody: then the most skilled stays.
    members, uids = in_team[~gone], team[in_team[~gone]]
    idle_here = idle[~gone]
    if idle_here.any():
        busy_teams = np.unique(uids[~idle_here])
        stays = np.zeros(len(members), dtype=bool)
        stays[~idle_here] = True
        lonely = idle_here & ~np.isin(uids, busy_teams)
        if lonely.any():
            idx = np.flatnonzero(lonely)
            order = idx[np.lexsort((-skill_on_left[members[idx]], uids[idx]))]
            first = np.ones(len(order), dtype=bool)
            first[1:] = uids[order][1:] != uids[order][:-1]
            stays[order[first]] = True
        out[members[~stays]] = True
    return out


def recruit(member_cover: np.ndarray, strength: np.ndarray, free: np.ndarray, uncovered: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Rule 2. ``uncovered`` holds each asking demand's bit mask of uncovered capabilities (oldest first).

    Returns (members, demands): the free members recruited and the index of the demand each joins.
    """
    free_idx = np.flatnonzero(free)
    want = uncovered.copy()
    got_m: list[np.ndarray] = []
    got_d: list[np.ndarray] = []
    if len(free_idx) == 0 or not want.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    sig = member_cover[free_idx]
    order = np.lexsort((-strength[free_idx], sig))
    free_idx, sig = free_idx[order], sig[order]
    kinds, start, count = np.unique(sig, return_index=True, return_counts=True)
    taken = np.zeros(len(kinds), dtype=np.int64)
    while True:
        asking = np.flatnonzero(want != 0)
        if len(asking) == 0:
            break
        left = count - taken
        overlap = np.bitwise_count(kinds[None, :] & want[asking, None]).astype(np.int64)
        extra = np.bitwise_count(kinds[None, :] & ~want[asking, None]).astype(np.int64)
        score = np.where((left[None, :] > 0) & (overlap > 0), overlap * 64 - extra, -(1 << 20))
        choice = score.argmax(axis=1)
        can = score[np.arange(len(asking)), choice] > -(1 << 20)
        if not can.any():
            break
        asking, choice = asking[can], choice[can]
        by_kind = np.argsort(choice, kind="stable")
        sorted_choice = choice[by_kind]
        rank = np.empty(len(choice), dtype=np.int64)
        rank[by_kind] = np.arange(len(choice)) - np.searchsorted(sorted_choice, sorted_choice, side="left")
        win = rank < left[choice]
        d, k, r = asking[win], choice[win], rank[win]
        got_m.append(free_idx[start[k] + taken[k] + r])
        got_d.append(d)
        np.add.at(taken, k, 1)
        want[d] &= ~kinds[k]
    if not got_m:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(got_m), np.concatenate(got_d)


def start_alone(skills: np.ndarray, free: np.ndarray, remaining: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rule 3. ``remaining`` (D, K) work left of each demand that has nobody, oldest first.

    Returns (members, demands) as :func:`recruit` does.
    """
    free = free.copy()
    members, demands = [], []
    for d in range(len(remaining)):
        pool = np.flatnonzero(free)
        if len(pool) == 0:
            break
        score = skills[pool] @ (remaining[d] > 0)
        m = int(pool[np.argmax(score)])
        free[m] = False
        members.append(m)
        demands.append(d)
    return np.asarray(members, dtype=np.int64), np.asarray(demands, dtype=np.int64)
