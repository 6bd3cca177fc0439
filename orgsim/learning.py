"""Know-how: learning by doing, forgetting, knowledge transfer between team-mates, and exploration.

Rules, for every member each tick (members still onboarding after a move neither learn nor forget):

* **Learning by doing.** Skill in a capability grows by ``learning_rate x practice x (1 - skill)``,
  where practice is the share of the member's capacity spent on it this tick (working or exploring).
* **Forgetting.** Skill not practised decays by ``forgetting_rate x (1 - practice) x (skill - floor)``.
* **Knowledge transfer.** In each capability its group works on (a team: the capabilities its demand
  still needs; a department: its own), a member's skill moves ``knowledge_transfer`` of the way
  towards the group's best in it.
* **Exploration.** A share ``exploration`` of every member's capacity goes to practice, not
  production: on frontier capabilities the technology layer has announced or brought (which may never
  be needed), and on the capabilities next to the member's home where capacity falls short of need.

A member moved to another department keeps every skill; it learns the new work by doing
(``orgsim.planning``: the time before it is productive grows with its skill gap).
"""

from __future__ import annotations

import numpy as np

SKILL_FLOOR = 0.05
#: Weight of an announced or arrived frontier capability in an explorer's practice, against 1 for
#: the capabilities next to home.
FRONTIER_PULL = 2.0


def exploration_targets(home: np.ndarray, adjacency: np.ndarray, shortage: np.ndarray,
                        frontier: np.ndarray) -> np.ndarray:
    """(N, K) share of each member's exploration time per capability (rows sum to 1).

    ``shortage`` (K,) is need share minus capacity share, clipped at 0; ``frontier`` (K,) marks frontier
    capabilities announced or arrived.
    """
    weights = adjacency[home] * (shortage + 0.05) + FRONTIER_PULL * frontier[None, :].astype(float)
    total = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


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
