"""The organisation model: members serving demand that arrives from a changing world.

Each tick (a working day by default):

1. the **environment** changes (scheduled shocks, random shocks, drift) and new demands arrive;
2. **management** re-plans each layer whose cadence has come round, from what it senses (delayed,
   aggregated over the layer's cadence, noisy): *strategy* picks the demand types served,
   *structure* moves headcount between home units, *process* updates what each demand type is
   believed to need, *operations* points the flexible capacity at the work in front of it;
3. **intake**: each demand is planned from the believed needs of its type. Work the plan includes
   but the demand does not need is waste; work it needs that the plan misses comes back as a
   return on delivery. A share ``fluidity`` of demands is worked by a team, the rest flows through
   the home units in a fixed order with a hand-off at each step;
4. **members** split their time: exploration first, then ``1 - fluidity`` of the rest in their home
   unit and ``fluidity`` wherever the work is, weighted by their skill;
5. **work** flows to demands first-in first-out, at most ``item_rate`` work units per capability per
   demand per tick; a team loses ``coordination_cost`` per extra capability it spans. A finished
   phase is handed off (``handoff_delay`` ticks; with chance ``handoff_error`` part of it must be
   redone). Finished demands are delivered (value decays with waiting) or expire at their deadline;
6. members **learn** by doing (and exploring) and forget what they do not use.

The silo'd and responsive organisations are two settings of the same levers (``orgsim.design``).
"""

from __future__ import annotations

from itertools import takewhile
from typing import Any

import mesa
import numpy as np
import pandas as pd
from pydantic import ValidationError

from orgsim.agents import Member
from orgsim.demands import DemandBook
from orgsim.design import MANAGEMENT_LAYERS, OrgDesign, resolve
from orgsim.environment import Arrivals, DemandEnvironment, EnvironmentConfig
from orgsim.errors import OrgsimError, describe_validation_error
from orgsim.metrics import (
    SUSTAINABLE_UTILISATION,
    MeasureLog,
    adaptation_table,
    overlap,
    rules_alignment,
    summarise,
)
from orgsim.sensing import Sensor

SKILL_FLOOR = 0.05
EPS = 1e-9


class OrgModel(mesa.Model):
    """An organisation of members serving the demand of a changing environment.

    Parameters
    ----------
    design:
        ``"siloed"`` or ``"responsive"`` (presets), a coupling in [0, 1] (0 = responsive,
        1 = silo'd), or an :class:`~orgsim.design.OrgDesign`. Default ``"siloed"``.
    environment:
        An :class:`~orgsim.environment.EnvironmentConfig` or a dict of its fields.
    members:
        Headcount, 2 to 1,000,000.
    capacity:
        Work units each member can give per tick at full proficiency, > 0.
    item_rate:
        Most work units one demand can absorb per capability per tick (a team slot), > 0.
    wip_limit:
        Most demands in the organisation per member, > 0. Demands arriving when it is full are
        refused (value lost), as are demands of types outside the current strategy.
    seed:
        Seed of all randomness, a whole number >= 0 (or None). The environment draws from its own
        stream, so every design given the same seed faces the same demands; the same seed and settings
        give identical results.
    **levers:
        Overrides of single design levers, e.g. ``handoff_delay=5`` or ``cadence={"structure": 21}``.
    """

    def __init__(
        self,
        design: str | float | OrgDesign | None = None,
        environment: EnvironmentConfig | dict[str, Any] | None = None,
        members: int = 100,
        capacity: float = 1.0,
        item_rate: float = 2.0,
        wip_limit: float = 2.0,
        seed: int | None = None,
        **levers: Any,
    ) -> None:
        _check_range("members", members, 2, 1_000_000, integer=True)
        _check_range("capacity", capacity, 1e-9, 1e6)
        _check_range("item_rate", item_rate, 1e-9, 1e6)
        _check_range("wip_limit", wip_limit, 1e-9, 1e6)
        if seed is not None:
            seed = int(seed) if isinstance(seed, np.integer) else seed
            _check_range("seed", seed, 0, np.inf, integer=True)
            seed = int(seed)
        try:
            self.design = resolve(design, **levers)
            env_config = (
                environment
                if isinstance(environment, EnvironmentConfig)
                else EnvironmentConfig.model_validate(environment or {})
            )
        except ValidationError as err:
            raise OrgsimError(describe_validation_error(err)) from None
        super().__init__(seed=seed)
        env_rng, self.org_rng = self.rng.spawn(2)
        self.environment = DemandEnvironment(env_config, env_rng)
        self.capabilities = caps = self.environment.capabilities
        self.item_rate = float(item_rate)
        self.wip_limit = float(wip_limit)
        self.tick = 0

        # Members, housed in home units in proportion to the work demand needs at founding.
        n_caps = len(caps)
        self._profiles = skill_profiles(self.design.specialisation, caps.adjacency())
        self.home = np.repeat(np.arange(n_caps), apportion(members, self.environment.capability_need()))
        self.skills = self._profiles[self.home].copy()
        self.capacity = np.full(members, float(capacity))
        self.onboarding = np.zeros(members, dtype=np.int64)
        self.worked = np.zeros((members, n_caps))
        self.members = [Member(self, i) for i in range(members)]

        # Management starts with a true picture of the world it was founded in.
        env = self.environment
        self.believed_templates = env.templates
        self.served = env.mix >= self.design.strategy_threshold
        self.planned_mix = _normalise(env.mix * self.served)
        workload = env.arrival_rate * env.mix @ env.templates
        self.flex_target = workload.copy()
        design = self.design
        horizon = design.sensing_delay + max(design.cadence.model_dump().values()) + 1
        noise = float(np.hypot(design.sensing_noise, env_config.effective_signal_noise))
        self.sensor = Sensor(
            {"arrivals": env.arrival_rate * env.mix, "workload": workload, "workable": workload,
             "templates": env.templates},
            horizon, noise, self.org_rng,
        )
        self.demands = DemandBook(n_caps)
        self._log = MeasureLog()
        self._adjacency = caps.adjacency()
        self._order = caps.flow_order
        self._work_caps = caps.work
        self._compliance = caps.compliance
        self.running = True

    # --- one tick ------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the organisation and its environment by one tick."""
        t = self.tick
        env = self.environment
        arrivals = env.step()
        self._replan(t)
        workload = self._intake(arrivals, t)
        time = self._allocate_time()
        row = self._work(time, t)
        row["workload"] = workload
        # Shocks of this tick: scheduled and random ones, and any applied by hand since the last tick.
        shocks = sum(1 for _ in takewhile(lambda shock: shock[0] == t, reversed(env.shock_log)))
        self._record(row, arrivals, shocks)
        self.onboarding = np.maximum(self.onboarding - 1, 0)
        self.tick += 1

    def run(self, ticks: int) -> OrgModel:
        """Run ``ticks`` more ticks (>= 0) and return the model."""
        _check_range("ticks", ticks, 0, 10_000_000, integer=True)
        for _ in range(ticks):
            self.step()
        return self

    # --- management ------------------------------------------------------------------------------
    def _replan(self, t: int) -> None:
        d, sensor = self.design, self.sensor
        delay = d.sensing_delay
        self._moves = 0
        due = {layer: t > 0 and t % getattr(d.cadence, layer) == 0 for layer in MANAGEMENT_LAYERS}
        if due["strategy"]:
            share = _normalise(sensor.read("arrivals", d.cadence.strategy, delay))
            self.served = share >= d.strategy_threshold
            self.planned_mix = _normalise(share * self.served)
        if due["structure"]:
            self._restructure(sensor.read("workload", d.cadence.structure, delay))
        if due["process"]:
            self.believed_templates = sensor.read("templates", 1, delay, noisy=False)
        if due["operations"]:
            self.flex_target = sensor.read("workable", d.cadence.operations, delay)
        if d.constraints == "integrated":
            self.believed_templates[:, self._compliance] = self.environment.templates[:, self._compliance]

    def _restructure(self, need: np.ndarray) -> None:
        """Move members from home units above their target headcount to units below it."""
        n_caps = len(self.capabilities)
        target = apportion(len(self.home), _normalise(need))
        excess = np.bincount(self.home, minlength=n_caps) - target
        tolerance = np.maximum(1, target // 5)
        deficit = np.where(-excess > tolerance, -excess, 0)
        if deficit.sum() == 0:
            return
        donors = np.concatenate([
            self.org_rng.permutation(np.flatnonzero(self.home == k))[: excess[k]]
            for k in range(n_caps) if excess[k] > 0
        ])
        donors = self.org_rng.permutation(donors)[: deficit.sum()]
        receivers = np.repeat(np.arange(n_caps), deficit)[: len(donors)]
        self.home[donors] = receivers
        self.skills[donors] = self._profiles[receivers]
        self.onboarding[donors] = self.design.restructure_cost
        self._moves = len(donors)

    # --- demands -------------------------------------------------------------------------------------
    def _intake(self, arrivals: Arrivals, t: int) -> np.ndarray:
        """Accept what strategy serves while WIP is under its limit, and plan each accepted demand
        from the believed needs of its type. Returns the work planned, per capability."""
        slots = max(0, int(self.wip_limit * len(self.home)) - len(self.demands))
        accepted = np.flatnonzero(self.served[arrivals.types])[:slots]
        refused = np.ones(len(arrivals.types), dtype=bool)
        refused[accepted] = False
        self._refused = (int(refused.sum()), float(arrivals.value[refused].sum()))
        n = len(accepted)
        if n == 0:
            return np.zeros(len(self.capabilities))
        types = arrivals.types[accepted]
        true = arrivals.work[accepted]
        planned = self.believed_templates[types] * arrivals.size[accepted, None]
        remaining = np.where(true > 0, np.where(planned > 0, true, 0.0), planned)
        hidden = np.where(planned > 0, 0.0, true)
        waste = np.where(true > 0, 0.0, planned).sum(axis=1)
        total = remaining.sum(axis=1)
        teamed = self.org_rng.random(n) < self.design.fluidity
        self.demands.add(
            type=types,
            arrived=np.full(n, t),
            value=arrivals.value[accepted],
            ready_at=np.full(n, t),
            teamed=teamed,
            failure_share=np.where(total > 0, waste / np.where(total > 0, total, 1.0), 0.0),
            remaining=remaining,
            hidden=hidden,
            planned=remaining.copy(),
        )
        return remaining.sum(axis=0)

    def _flow(self, remaining: np.ndarray, teamed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which capabilities each demand can be worked on now, and the phase of its flow.

        A handed-off demand is in one capability at a time, in flow order; a team works every
        capability at once, except that a compliance *gate* comes after all the other work.
        """
        has = remaining > 0
        in_order = has[:, self._order]
        phase_seq = np.argmax(in_order, axis=1)
        mask_seq = np.zeros_like(has)
        rows = np.flatnonzero(in_order.any(axis=1))
        mask_seq[rows, self._order[phase_seq[rows]]] = True
        mask = np.where(teamed[:, None], has, mask_seq)
        phase = np.where(teamed, 0, phase_seq)
        if self.design.constraints == "gate":
            at_gate = teamed & ~has[:, self._work_caps].any(axis=1) & has[:, self._compliance]
            mask[:, self._compliance] &= ~teamed | at_gate
            phase = np.where(at_gate, 1, phase)
        return mask, phase

    # --- members' time and the work -------------------------------------------------------------
    def _allocate_time(self) -> np.ndarray:
        """(N, K) work time per member and capability, in capacity units."""
        d = self.design
        producing = self.capacity * (self.onboarding == 0) * (1.0 - d.exploration)
        n = len(producing)
        time = np.zeros_like(self.skills)
        time[np.arange(n), self.home] = producing * (1.0 - d.fluidity)
        if d.fluidity > 0:
            fluid = producing * d.fluidity
            fixed_supply = (time * self.skills).sum(axis=0)
            need = self.flex_target
            preference = self.skills**4
            price = np.ones(len(need))
            for _ in range(5):
                share = _normalise_rows(preference * price)
                supply = fixed_supply + (fluid[:, None] * share * self.skills).sum(axis=0)
                price = price * np.sqrt((need + EPS) / (supply + EPS))
            time += fluid[:, None] * _normalise_rows(preference * price)
        return time

    def _work(self, time: np.ndarray, t: int) -> dict[str, float]:
        """Serve demands first-in first-out, then hand off, deliver and expire. Returns measures."""
        d, book = self.design, self.demands
        effective = (time * self.skills).sum(axis=0)
        ready = book.ready_at <= t
        mask, phase_before = self._flow(book.remaining, book.teamed)
        mask &= ready[:, None]
        team_size = np.maximum(mask.sum(axis=1), 1)
        efficiency = np.where(book.teamed, 1.0 / (1.0 + d.coordination_cost * (team_size - 1)), 1.0)
        wanted = np.minimum(book.remaining, self.item_rate) * mask / efficiency[:, None]
        before = np.cumsum(wanted, axis=0) - wanted
        spent = np.clip(effective - before, 0.0, wanted)
        progress = spent * efficiency[:, None]
        book.remaining -= progress
        book.remaining[book.remaining < EPS] = 0.0
        progress_per_item = progress.sum(axis=1)

        # This tick's work is failure demand in the share its demand carried while it was worked.
        failure_share = book.failure_share.copy()
        rework = 0.0
        done = book.remaining.sum(axis=1) <= 0.0
        returned = np.flatnonzero(done & (book.hidden.sum(axis=1) > 0))
        if len(returned):
            extra = book.hidden[returned] * (1.0 + d.rework_fraction)
            book.add_rework(returned, extra)
            book.hidden[returned] = 0.0
            book.ready_at[returned] = t + 1 + d.handoff_delay
            rework += extra.sum()
        _, phase_after = self._flow(book.remaining, book.teamed)
        handoff = ~done & (phase_after != phase_before) & (progress_per_item > 0)
        book.ready_at[handoff] = t + 1 + d.handoff_delay
        lost = np.flatnonzero(handoff & (self.org_rng.random(len(book)) < d.handoff_error))
        if len(lost):
            extra = d.rework_fraction * book.planned[lost] * mask[lost]
            book.add_rework(lost, extra)
            rework += extra.sum()

        completed = done & (book.remaining.sum(axis=1) <= 0.0)
        age = t - book.arrived
        expired = ~completed & (age >= self.environment.config.deadline - 1)
        decay = (1.0 - self.environment.config.value_decay) ** age[completed]
        value = book.value[completed] * decay
        spent_total = spent.sum(axis=0)
        row = {
            "completed": int(completed.sum()),
            "expired": int(expired.sum()),
            "queued": int((progress_per_item <= 0).sum()),
            "value_delivered": float(value.sum()),
            "value_lost_delay": float((book.value[completed] - value).sum()),
            "value_lost_expiry": float(book.value[expired].sum()),
            "lead_time": float((age[completed] + 1).mean()) if completed.any() else np.nan,
            "work_done": float(progress.sum()),
            "failure_demand": float(progress_per_item @ failure_share / max(progress.sum(), EPS)),
            "rework_created": float(rework),
            "coordination_overhead": float((spent.sum() - progress.sum()) / self.capacity.sum()),
            "_effective": effective,
            "_workable": wanted.sum(axis=0),
        }
        book.keep(~(completed | expired))
        self._learn(time, effective, spent_total)
        return row

    def _learn(self, time: np.ndarray, effective: np.ndarray, spent: np.ndarray) -> None:
        """Learning by doing and by exploring; forgetting what goes unused. Sets ``self.worked``."""
        d = self.design
        used = spent / np.where(effective > 0, effective, 1.0)
        self.worked = time * used / self.capacity[:, None]
        active = (self.onboarding == 0)[:, None]
        practice = self.worked
        if d.exploration > 0:
            shortage = np.clip(_normalise(self.flex_target) - _normalise(effective), 0.0, None) + 0.05
            practice = practice + d.exploration * active * _normalise_rows(
                self._adjacency[self.home] * shortage
            )
        self._exploring = practice.sum(axis=1) - self.worked.sum(axis=1)
        practice = np.clip(practice, 0.0, 1.0)
        s = self.skills
        learned = d.learning_rate * practice * (1.0 - s)
        forgotten = d.forgetting_rate * (1.0 - practice) * (s - SKILL_FLOOR)
        change = learned - forgotten
        self.skills = np.clip(s + change * active, SKILL_FLOOR, 1.0)

    # --- measures ------------------------------------------------------------------------------------
    def _record(self, row: dict[str, Any], arrivals: Arrivals, shocks: int) -> None:
        env = self.environment
        effective = row.pop("_effective")
        workable = row.pop("_workable")
        workload = row.pop("workload")
        templates = env.templates
        mix = env.mix
        self.sensor.record(
            arrivals=np.bincount(arrivals.types, minlength=len(mix)).astype(float),
            workload=workload, workable=workable, templates=templates,
        )
        worked = self.worked
        busy = worked.sum(axis=1) + self._exploring
        a_needs = overlap(self.planned_mix, mix)
        a_tech = overlap(effective, mix @ templates)
        a_rules = rules_alignment(mix, self.believed_templates[:, self._compliance],
                                  templates[:, self._compliance])
        total_worked = worked.sum()
        row.update({
            "arrived": len(arrivals.types),
            "refused": self._refused[0],
            "value_lost_refused": self._refused[1],
            "wip": len(self.demands),
            "alignment": (a_needs + a_tech + a_rules) / 3.0,
            "alignment_needs": a_needs,
            "alignment_technology": a_tech,
            "alignment_rules": a_rules,
            "utilisation": float(worked.sum(axis=1).mean()),
            "value_per_capacity": row["value_delivered"] / float(self.capacity.sum()),
            "proficiency": float((worked * self.skills).sum() / total_worked) if total_worked > 0 else 0.0,
            "skill_breadth": float((self.skills.sum(axis=1) / self.skills.max(axis=1)).mean()),
            "overload": float(np.clip(busy - SUSTAINABLE_UTILISATION, 0.0, None).mean()),
            "moves": self._moves,
            "shocks": shocks,
        })
        self._log.record(row)

    # --- results -------------------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        """Per-tick measures so far: one row per tick, one column per measure (see ``MEASURES``)."""
        return self._log.frame()

    def shocks(self) -> pd.DataFrame:
        """Every shock so far: tick, layer, magnitude, and whether it was scheduled or random."""
        return pd.DataFrame(self.environment.shock_log, columns=["tick", "layer", "magnitude", "scheduled"])

    def adaptation(self) -> pd.DataFrame:
        """Recovery of value delivered and alignment after each shock (see ``metrics.adaptation``)."""
        return adaptation_table(self.timeseries(), self.environment.shock_log)

    def summary(self, warmup: int = 50) -> dict[str, float]:
        """Means of every measure after ``warmup`` ticks, and adaptation speed by pace layer."""
        return summarise(self.timeseries(), self.environment.shock_log, warmup)


def skill_profiles(specialisation: float, adjacency: np.ndarray) -> np.ndarray:
    """(K, K) skills of a member hired into each home unit (row): deep at home, broad next to it."""
    n_caps = len(adjacency)
    profiles = np.full((n_caps, n_caps), SKILL_FLOOR)
    profiles[adjacency > 0] = SKILL_FLOOR + 0.5 * (1.0 - specialisation)
    np.fill_diagonal(profiles, 0.95 - 0.15 * (1.0 - specialisation))
    return profiles


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units in proportion to ``shares`` (largest remainder)."""
    shares = _normalise(np.asarray(shares, dtype=float))
    exact = total * shares
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def _normalise(x: np.ndarray) -> np.ndarray:
    s = x.sum()
    return x / s if s > 0 else np.full_like(x, 1.0 / len(x), dtype=float)


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    s = x.sum(axis=1, keepdims=True)
    return np.divide(x, s, out=np.full_like(x, 1.0 / x.shape[1]), where=s > 0)


def _check_range(name: str, value: Any, low: float, high: float, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if integer:
        ok = ok and float(value).is_integer()
    if not ok or not low <= value <= high:
        raise OrgsimError(f"{name} must be {kind} in [{low:g}, {high:g}], got {value!r}")
