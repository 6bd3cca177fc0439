"""Team assembly: capability bundles that form around a demand and dissolve when its work is done.

The rules, for the members of the fluid pool (the others sit in fixed departments), each tick before
the work:

1. **Leaving.** A member leaves its team when the team's demand is gone (delivered, expired, or handed
   on to a compliance gate). It also leaves when no capability it *covers* (skill >= ``team_cover``)
   has work left in the demand, so that the demand can recruit someone who does. If that would leave
   the demand with nobody, the member still leaves while the demand has waited fewer than
   ``patience`` ticks for cover (someone who covers it may soon be free), and the demand is handed
   over (``orgsim.work.hand_over``: a delay, and what the team knew may be lost); once it has waited
   that long, the team-mate with most skill in the remaining work stays (and learns it by doing). A
   member who leaves is free.
2. **Recruiting.** A ready demand of the team stream with work left in a capability that no team-mate
   covers asks for a free member, in passes. In each pass every such demand names the *kind* of free
   member it wants most: the kind whose covered capabilities overlap its uncovered ones most, and
   among equals the kind that covers fewest capabilities the demand does not need (breadth is kept for
   where it is needed). Each kind goes to the oldest demands that name it, as far as free members of
   that kind last, most skilled first; a demand that misses out names again in the next pass, and a
   demand that got someone may ask again. Passes stop when no demand can find a member who adds cover.
3. **Starting.** A demand that still has nobody, and has waited at least ``patience`` ticks with
   nobody covering its remaining work, takes the free member with the most skill in that work, even
   below cover (someone has to start: nobody free covers it); oldest demand first.
4. **Waiting.** A ready demand's wait for cover (``DemandBook.stalled``) grows by one each tick that
   ends its assembly with no team-mate covering any of its remaining work, and is 0 otherwise.

``patience = 0`` is the rule without waiting: nobody leaves a demand empty, and every demand that
nobody covers is started at once by whoever is free (members end up alone on work they are poor at).

People are indivisible, so breadth matters: a T-shaped member covers two capabilities and keeps a team
small, while specialists make bigger teams, and a team of n pays coordination for n (``orgsim.work``).
``orgsim.reference`` implements the same rules one agent at a time.
"""

from __future__ import annotations

import numpy as np

from orgsim.rows import row_bits

NO_TEAM = -1


def cover_bits(skills: np.ndarray, cover: float) -> np.ndarray:
    """(N,) bit mask per member of the capabilities it covers (bit k set when skill k >= ``cover``)."""
    return row_bits(skills >= cover)


def work_bits(work: np.ndarray) -> np.ndarray:
    """(D,) bit mask per demand of the capabilities with work > 0."""
    return row_bits(work > 0)


def leavers(team: np.ndarray, member_cover: np.ndarray, demand_uid: np.ndarray, demand_left: np.ndarray,
            demand_is_team: np.ndarray, skill_on_left: np.ndarray, rows: np.ndarray | None = None,
            waited: np.ndarray | None = None) -> np.ndarray:
    """Members who leave their team this tick (rule 1), as a boolean (N,) mask.

    ``demand_left`` is each demand's bit mask of capabilities with work left; ``skill_on_left`` is each
    member's summed skill over its own demand's remaining capabilities (read only for members who
    cover nothing left). ``rows``, if given, is each member's row of its team's demand (-1: none or
    not held), as ``DemandBook.rows`` gives it. ``waited`` (D,) marks the demands that have waited
    ``patience`` ticks for cover, whose last idle member stays (default: every demand).
    """
    in_team = np.flatnonzero(team != NO_TEAM)
    out = np.zeros(len(team), dtype=bool)
    if len(in_team) == 0:
        return out
    if len(demand_uid) == 0:
        out[in_team] = True
        return out
    if rows is None:
        # Demands are held oldest first, so their uids are sorted.
        pos = np.minimum(np.searchsorted(demand_uid, team[in_team]), len(demand_uid) - 1)
        held = demand_uid[pos] == team[in_team]
    else:
        pos = rows[in_team]
        held = pos >= 0
    gone = ~held | ~demand_is_team[pos]
    out[in_team[gone]] = True
    # Idle members leave unless that would leave their demand with nobody: then the most skilled stays.
    members, pos = in_team[~gone], pos[~gone]
    idle_here = (member_cover[members] & demand_left[pos]) == 0
    if idle_here.any():
        busy = np.bincount(pos[~idle_here], minlength=len(demand_uid))
        stays = ~idle_here
        lonely = idle_here & (busy[pos] == 0)
        if waited is not None:
            lonely &= waited[pos]
        if lonely.any():
            idx = np.flatnonzero(lonely)
            order = idx[np.lexsort((-skill_on_left[members[idx]], pos[idx]))]
            first = np.ones(len(order), dtype=bool)
            first[1:] = pos[order][1:] != pos[order][:-1]
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
    none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(free_idx) == 0 or not want.any():
        return none
    sig = member_cover[free_idx]
    order = np.lexsort((-strength[free_idx], sig))
    free_idx, sig = free_idx[order], sig[order]
    kinds, start, count = np.unique(sig, return_index=True, return_counts=True)
    n_kinds = len(kinds)
    rank_type = np.int16 if n_kinds < 2**15 else np.int64  # small choices sort by radix
    taken = np.zeros(n_kinds, dtype=np.int64)
    got_m: list[np.ndarray] = []
    got_d: list[np.ndarray] = []
    while True:
        left = count - taken
        open_kinds = left > 0
        # A demand names a kind when some kind with members left overlaps what it wants.
        reach = 0
        for kind in kinds[open_kinds].tolist():
            reach |= kind
        asking = np.flatnonzero(want & reach)
        if len(asking) == 0:
            break
        # Demands that want the same capabilities name the same kind: score each distinct want once.
        masks, which = _distinct(want[asking])
        overlap = np.bitwise_count(kinds[None, :] & masks[:, None]).astype(np.int64)
        extra = np.bitwise_count(kinds[None, :] & ~masks[:, None]).astype(np.int64)
        score = np.where(open_kinds[None, :] & (overlap > 0), overlap * 64 - extra, -(1 << 20))
        choice = score.argmax(axis=1)[which]
        # Each kind goes to the oldest demands that name it, as far as its free members last.
        by_kind = np.argsort(choice.astype(rank_type), kind="stable")
        named = np.bincount(choice, minlength=n_kinds)
        rank = np.empty(len(choice), dtype=np.int64)
        rank[by_kind] = np.arange(len(choice)) - np.repeat(np.cumsum(named) - named, named)
        win = rank < left[choice]
        d, k, r = asking[win], choice[win], rank[win]
        got_m.append(free_idx[start[k] + taken[k] + r])
        got_d.append(d)
        taken += np.bincount(k, minlength=n_kinds)
        want[d] &= ~kinds[k]
    if not got_m:
        return none
    return np.concatenate(got_m), np.concatenate(got_d)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-negative ``values`` (sorted) and the index of each value among them."""
    top = int(values.max())
    if top > 4 * len(values) + 1024:
        return np.unique(values, return_inverse=True)
    present = np.flatnonzero(np.bincount(values, minlength=top + 1))
    index = np.empty(top + 1, dtype=np.int64)
    index[present] = np.arange(len(present))
    return present, index[values]


def start_alone(skills: np.ndarray, free: np.ndarray, remaining: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rule 3. ``remaining`` (D, K) work left of each demand that has nobody, oldest first.

    Returns (members, demands) as :func:`recruit` does.
    """
    pool = np.flatnonzero(free)
    n = min(len(pool), len(remaining))
    none = np.zeros(0, dtype=np.int64)
    if n == 0:
        return none, none.copy()
    # Demands that need the same capabilities score the free members alike: score each distinct need once.
    _, first, which = np.unique(row_bits(remaining > 0), return_index=True, return_inverse=True)
    # Each need's ranking of the pool, best first (ties: lowest index, as argmax picks); each demand
    # in turn takes the first member of its need's ranking nobody has taken yet.
    rankings = [np.argsort(-(skills[pool] @ (remaining[row] > 0)), kind="stable").tolist() for row in first.tolist()]
    next_in = [0] * len(rankings)
    taken = bytearray(len(pool))
    members = np.empty(n, dtype=np.int64)
    for d, need in enumerate(which[:n].tolist()):
        ranking, i = rankings[need], next_in[need]
        while taken[ranking[i]]:
            i += 1
        next_in[need] = i + 1
        taken[ranking[i]] = 1
        members[d] = pool[ranking[i]]
    return members, np.arange(n, dtype=np.int64)


def waiting(stalled: np.ndarray, asking: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Rule 4: each demand's wait for cover after this tick's assembly. ``asking`` marks the ready
    demands with team work left, ``covered`` those where a team-mate covers some of it."""
    return np.where(asking, np.where(covered, 0, stalled + 1), stalled)
