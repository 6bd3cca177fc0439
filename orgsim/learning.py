"""Know-how: learning by doing, forgetting, knowledge transfer between team-mates, and exploration.

Rules, for every member each tick (members still onboarding after a move neither learn nor forget):

* **Learning by doing.** Skill in a capability grows by ``learning_rate x practice x (1 - skill)``,
  where practice is the share of the member's capacity spent on it this tick (working or exploring).
* **Forgetting.** Skill not practised decays by ``forgetting_rate x (1 - practice) x (skill - floor)``.
* **Knowledge transfer.** In each capability its group works on (a team: the capabilities its demand
  still needs; a department: its own), a member's skill moves ``knowledge_transfer`` of the way
  towards the group's best in it.
* **Exploration (scouting).** A share ``exploration`` of the organisation's capacity goes to practice,
  not production, pooled in *scouts*: each tick that share of the members (rounded by chance) explore
  full time. The targets are the frontier capabilities the technology layer has announced or brought
  (which may never be needed) while fewer members cover them than their share of need calls for (at
  least an average capability's share of the members); when there are none, the capabilities where
  capacity falls short of need. Scouts go to the targets in turn, and for each target the members furthest along in it who do not cover it yet
  scout (depth, not a smattering of everything). With no target, scouts practise the capability next to their home they
  are furthest along in.

A member moved to another department keeps every skill; it learns the new work by doing
(``orgsim.planning``: the time before it is productive grows with its skill gap).
"""

from __future__ import annotations

import numpy as np

SKILL_FLOOR = 0.05


def scouting(skills: np.ndarray, home: np.ndarray, adjacency: np.ndarray, targets: np.ndarray,
             n_scouts: int) -> np.ndarray:
    """(N, K) practice of this tick's scouts: 1 on the capability each scout explores, 0 elsewhere.

    ``targets`` lists capability indices in order of priority; ``n_scouts`` members scout. A member
    whose skill in a target is negative is not a candidate for it.
    """
    n = len(skills)
    out = np.zeros_like(skills)
    n_scouts = min(n_scouts, n)
    if n_scouts <= 0:
        return out
    if len(targets) == 0:
        scouts = np.argsort(-(skills * adjacency[home]).max(axis=1), kind="stable")[:n_scouts]
        scouts = scouts[(skills[scouts] >= 0).any(axis=1)]
        out[scouts, np.argmax(skills[scouts] * adjacency[home[scouts]], axis=1)] = 1.0
        return out
    taken = np.zeros(n, dtype=bool)
    per_target = np.bincount(np.arange(n_scouts) % len(targets), minlength=len(targets))
    for k, count in zip(targets, per_target, strict=True):
        order = np.argsort(-np.where(taken, -np.inf, skills[:, k]), kind="stable")[:count]
        order = order[skills[order, k] >= 0]
        out[order, k] = 1.0
        taken[order] = True
    return out


def group_best(skills: np.ndarray, group: np.ndarray) -> np.ndarray:
    """(N, K) the best skill in each member's group (members with group -1 get their own skills)."""
    best = skills.copy()
    grouped = np.flatnonzero(group >= 0)
    if len(grouped) == 0:
        return best
    ids, inverse = np.unique(group[grouped], return_inverse=True)
    top = np.zeros((len(ids), skills.shape[1]))
    np.maximum.at(top, inverse, skills[grouped])
    best[grouped] = top[inverse]
    return best


def update_skills(skills: np.ndarray, practice: np.ndarray, active: np.ndarray, learning_rate: float,
                  forgetting_rate: float, transfer: float, best: np.ndarray, transfer_mask: np.ndarray
                  ) -> np.ndarray:
    """Skills after one tick of learning, forgetting and transfer, clipped to [floor, 1]."""
    practice = np.clip(practice, 0.0, 1.0)
    change = learning_rate * practice * (1.0 - skills) - forgetting_rate * (1.0 - practice) * (skills - SKILL_FLOOR)
    change = change + transfer * transfer_mask * np.clip(best - skills, 0.0, None)
    return np.clip(skills + change * active[:, None], SKILL_FLOOR, 1.0)
