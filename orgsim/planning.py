"""Management: four planning layers that sense, analyse and respond, each on its own cadence.

Every layer re-plans when its cadence comes round (tick ``t > 0`` with ``t % cadence == 0``), from what
it senses: the mean of a signal over the last ``memory`` ticks, ending ``sensing_delay`` ticks ago,
with noise (``orgsim.sensing``). Nobody reads the world's true state. Each re-plan costs every member
``planning_cost`` of that tick's capacity (meetings), so fast cadences are not free. Layers due in the
same tick re-plan in the order operations, process, structure, strategy (``MANAGEMENT_LAYERS``).

* **Strategy** decides which demand types are served: those whose sensed share of demand is at least
  ``strategy_threshold``. Types new since the last strategy re-plan are not served (the organisation
  has not decided to offer them) and start from a prior belief (the mean of the types it knows).
* **Structure** sets the headcount of each fixed department in proportion to the work it sensed coming
  into its queue, moving members from departments above target to those below (a tolerance
  of a fifth); from each department it moves the members most skilled in the receiving work. A
  moved member keeps its skills and is productive again after ``restructure_cost x gap`` ticks,
  where gap is its shortfall of skill in the new work (0 to 1).
* **Process** updates what the departments believe each demand type needs: the mean true work per
  unit of size of the demands delivered through them, as reported. (Teams learn from their own work:
  ``orgsim.work``.)
* **Operations** splits the intake between the fixed departments and the team stream, moving the
  split towards the stream whose sensed backlog per unit of capacity is lower (by ``SPLIT_STEP`` times
  the relative difference).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from orgsim.design import MANAGEMENT_LAYERS
from orgsim.learning import SKILL_FLOOR

if TYPE_CHECKING:
    from orgsim.model import OrgModel

#: How far one operations re-plan moves the split, per unit of relative backlog difference.
SPLIT_STEP = 0.2


def due_layers(model: OrgModel, t: int) -> list[str]:
    """The layers whose cadence comes round at tick ``t``."""
    cadence = model.design.cadence
    return [layer for layer in MANAGEMENT_LAYERS if t > 0 and t % getattr(cadence, layer) == 0]


def replan(model: OrgModel, t: int) -> int:
    """Re-plan every layer due at ``t``; returns how many re-planned (each costs meeting time)."""
    layers = due_layers(model, t)
    for layer in layers:
        _LAYERS[layer](model)
    return len(layers)


def strategy(model: OrgModel) -> None:
    d, sensor, env = model.design, model.sensor, model.environment
    share = sensor.read("arrivals", d.memory, d.sensing_delay)
    share = share / share.sum() if share.sum() > 0 else share
    new = env.generation != model.known_generation
    model.known_generation = env.generation.copy()
    model.served = share >= d.strategy_threshold
    if new.any():
        known = model.served & ~new
        prior = model.belief_fixed[known].mean(axis=0) if known.any() else model.belief_fixed.mean(axis=0)
        model.belief_fixed[new] = prior
        model.belief_team[new] = prior
        model.uncertain[new] = True


def structure(model: OrgModel) -> None:
    d = model.design
    need = model.sensor.read("department_work", d.memory, d.sensing_delay)
    fixed = np.flatnonzero(~model.fluid)
    if len(fixed) == 0 or need.sum() <= 0:
        return
    n_caps = len(need)
    home = model.home[fixed]
    target = apportion(len(fixed), need)
    excess = np.bincount(home, minlength=n_caps) - target
    tolerance = np.maximum(1, target // 5)
    deficit = np.where(-excess > tolerance, -excess, 0)
    if deficit.sum() == 0:
        return
    receivers = np.repeat(np.arange(n_caps), deficit)
    spare = np.repeat(np.arange(n_caps), np.clip(excess, 0, None))
    n_moves = min(len(receivers), len(spare))
    receivers = model.org_rng.permutation(receivers)[:n_moves]
    donors = np.zeros(n_moves, dtype=np.int64)
    taken = np.zeros(len(model.home), dtype=bool)
    for i, (k, to) in enumerate(zip(model.org_rng.permutation(spare)[:n_moves], receivers, strict=True)):
        pool = fixed[(home == k) & ~taken[fixed]]
        donors[i] = pool[np.argmax(model.skills[pool, to])]
        taken[donors[i]] = True
    gap = np.clip(1.0 - model.skills[donors, receivers], 0.0, 1.0 - SKILL_FLOOR) / (1.0 - SKILL_FLOOR)
    model.home[donors] = receivers
    model.onboarding[donors] = np.round(d.restructure_cost * gap).astype(np.int64)
    model.moves += len(donors)


def process(model: OrgModel) -> None:
    d, sensor = model.design, model.sensor
    work = sensor.read("delivered_work", d.memory, d.sensing_delay)
    count = sensor.read("delivered", d.memory, d.sensing_delay, noisy=False)
    seen = count > 1e-9
    model.belief_fixed[seen] = work[seen] / count[seen, None]


def operations(model: OrgModel) -> None:
    d = model.design
    if model.team_capacity <= 0 or model.fixed_customer_capacity <= 0:
        return
    backlog = model.sensor.read("stream_backlog", d.memory, d.sensing_delay)
    fixed, team = backlog / np.array([model.fixed_customer_capacity, model.team_capacity])
    if fixed + team > 0:
        model.split = float(np.clip(model.split + SPLIT_STEP * (fixed - team) / (fixed + team), 0.0, 1.0))


_LAYERS = {"strategy": strategy, "structure": structure, "process": process, "operations": operations}


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units in proportion to ``shares`` (largest remainder)."""
    shares = np.asarray(shares, dtype=float)
    shares = shares / shares.sum() if shares.sum() > 0 else np.full(len(shares), 1.0 / len(shares))
    exact = total * shares
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts
