"""The organisation model: members serving demand that arrives from a changing world.

Each tick (a working day by default), in this order:

1. the **environment** changes (scheduled shocks, random shocks, turnover of demand types, frontier
   capabilities, coupled drift) and new demands arrive (``orgsim.environment``);
2. **management** re-plans each layer whose cadence has come round, from what it senses, and pays
   for the meetings (``orgsim.planning``, ``orgsim.sensing``);
3. **intake** refuses, routes, probes and plans the demands that arrived, follow-ups of failed
   customers included (``orgsim.intake``, ``orgsim.failure_demand``);
4. **teams** form and dissolve around the demands of the team stream (``orgsim.teams``);
5. **work**: teams and departments work, hand off, and find hidden work (``orgsim.work``);
6. **delivery**: finished demands are delivered or returned; late ones are chased and old ones expire,
   failing their customers (``orgsim.work``, ``orgsim.failure_demand``);
7. members **learn** by doing, from team-mates and by exploring, and forget (``orgsim.learning``).

The silo'd and responsive organisations are two settings of the same levers (``orgsim.design``).
"""

from __future__ import annotations

from itertools import takewhile
from typing import Any, Literal

import mesa
import numpy as np
import pandas as pd
from pydantic import ValidationError

from orgsim import planning, teams
from orgsim.agents import Member
from orgsim.compat import mesa_seed_kwargs
from orgsim.demands import TEAM, DemandBook
from orgsim.design import OrgDesign, resolve
from orgsim.environment import DemandEnvironment, EnvironmentConfig
from orgsim.errors import OrgsimError, describe_validation_error
from orgsim.failure_demand import FollowUps
from orgsim.intake import GATE_CHECK, intake
from orgsim.learning import SKILL_FLOOR, group_best, scouting, update_skills
from orgsim.metrics import (
    SUSTAINABLE_UTILISATION,
    MeasureLog,
    adaptation_table,
    overlap,
    rules_alignment,
    summarise,
)
from orgsim.planning import apportion
from orgsim.rows import any_positive, row_max, row_sum
from orgsim.sensing import Sensor
from orgsim.work import deliver, do_work, hand_over, phase_of

Engine = Literal["vectorised", "agents"]


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
        Most work units one demand can absorb in a department per tick, > 0.
    wip_limit:
        Most demands in the organisation per member, > 0. Demands arriving when it is full are
        refused (value lost), as are demands of types outside the current strategy.
    seed:
        Seed of all randomness, a whole number >= 0 (or None). The environment draws from its own
        stream, so every design given the same seed faces the same demands; the same seed and settings
        give identical results.
    engine:
        ``"vectorised"`` (default) or ``"agents"``: the plain per-agent reference implementation of team
        assembly and work (``orgsim.reference``; small sizes only).
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
        engine: Engine = "vectorised",
        **levers: Any,
    ) -> None:
        _check_range("members", members, 2, 1_000_000, integer=True)
        _check_range("capacity", capacity, 1e-9, 1e6)
        _check_range("item_rate", item_rate, 1e-9, 1e6)
        _check_range("wip_limit", wip_limit, 1e-9, 1e6)
        if engine not in ("vectorised", "agents"):
            raise OrgsimError(f"engine must be 'vectorised' or 'agents', got {engine!r}")
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
        super().__init__(**mesa_seed_kwargs(seed))
        env_rng, self.org_rng = self.rng.spawn(2)
        self.environment = env = DemandEnvironment(env_config, env_rng, total_capacity=members * float(capacity))
        self.capabilities = caps = env.capabilities
        self.engine = engine
        self.item_rate = float(item_rate)
        self.wip_limit = float(wip_limit)
        self.flow_order = caps.flow_order
        self.tick = 0
        design = self.design
        n_caps, n_types = len(caps), len(env.alive)

        # Members, hired into departments in proportion to the work demand needs at founding; a share
        # ``fluidity`` of them (never the compliance staff of a gate) work in teams instead.
        self._adjacency = caps.adjacency()
        profiles = skill_profiles(design.specialisation, self._adjacency, caps.frontier_indices)
        founding_work = env.mix @ env.templates
        if design.constraints == "gate":
            founding_work[caps.compliance] += GATE_CHECK
        self.home = np.repeat(np.arange(n_caps), apportion(members, founding_work))
        self.skills = profiles[self.home].copy()
        self.capacity = np.full(members, float(capacity))
        self.onboarding = np.zeros(members, dtype=np.int64)
        self.worked = np.zeros((members, n_caps))
        self.fluid = np.zeros(members, dtype=bool)
        gate = design.constraints == "gate"
        candidates = np.flatnonzero(self.home != caps.compliance) if gate else np.arange(members)
        n_fluid = min(round(design.fluidity * members), len(candidates))
        self.fluid[self.org_rng.permutation(candidates)[:n_fluid]] = True
        self.team = np.full(members, teams.NO_TEAM, dtype=np.int64)
        self.members = [Member(self, i) for i in range(members)]

        # Management starts with a true picture of the world it was founded in.
        self.served = env.open.copy()
        self.known_generation = env.generation.copy()
        self.belief_fixed = env.templates.copy()
        self.belief_team = env.templates.copy()
        self.uncertain = np.zeros(n_types, dtype=bool)
        self.routine = np.zeros((n_caps, n_types))
        self.team_routine = np.zeros(n_types)
        self._practised_generation = env.generation.copy()
        self.split = self.team_capacity / max(self.team_capacity + self.fixed_customer_capacity, 1e-12)
        self.delivered_work = np.zeros((n_types, n_caps))
        self.delivered_count = np.zeros(n_types)
        self.moves = 0
        noise = float(np.hypot(design.sensing_noise, env_config.effective_signal_noise))
        self.sensor = Sensor(
            {"arrivals": env.arrival_rate * env.mix,
             "department_work": founding_work * env.arrival_rate * (1 - self.split),
             "delivered_work": env.templates * (env.mix * env.arrival_rate)[:, None],
             "delivered": env.mix * env.arrival_rate, "stream_backlog": np.zeros(2)},
            design.sensing_delay + design.memory + 1, noise, self.org_rng,
        )
        self.demands = DemandBook(n_caps)
        self.followups = FollowUps(env_config.followup_chance, env_config.followup_work, caps, self.org_rng)
        self._log = MeasureLog()
        self.running = True

    @property
    def team_capacity(self) -> float:
        """Capacity of the fluid pool (work units a tick)."""
        return float(self.capacity[self.fluid].sum())

    def department_capacity(self) -> np.ndarray:
        """(K,) work units a tick each fixed department's productive members give in its capability."""
        staff = ~self.fluid & (self.onboarding == 0)
        weights = self.capacity[staff] * self.skills[staff, self.home[staff]]
        return np.bincount(self.home[staff], weights=weights, minlength=self.skills.shape[1])

    @property
    def fixed_customer_capacity(self) -> float:
        """Capacity of the fixed departments other than compliance (work units a tick)."""
        return float(self.capacity[~self.fluid & (self.home != self.capabilities.compliance)].sum())

    # --- one tick ------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the organisation and its environment by one tick (see the module docstring)."""
        t = self.tick
        env, d = self.environment, self.design
        arrivals = env.step()
        self._forget_dead_types()
        self.moves = 0
        meetings = planning.replan(self, t)
        row = intake(self, arrivals, t)
        churn, handover_rework = self._assemble(t)
        available = self.capacity * (self.onboarding == 0) * max(0.0, 1.0 - d.planning_cost * meetings)
        scouting = self._scouts()
        produce = available * ~any_positive(scouting)
        worked = self._engine_work(t, produce)
        progress, rework_share = worked.pop("_progress"), worked.pop("_rework_share")
        rework_work = float(progress @ rework_share)
        row["queued"] = float((progress <= 0).sum())
        delivered = deliver(self, t)
        worked["rework_created"] += delivered.pop("rework_created") + handover_rework
        row.update(worked)
        row.update(delivered)
        exploring = self._learn(scouting * available[:, None])
        shocks = sum(1 for _ in takewhile(lambda shock: shock[0] == t, reversed(env.shock_log)))
        row.update(self._costs(coordination_share=row["coordination_overhead"], meetings=meetings))
        row.update({
            "internal_rework": rework_work / max(row["work_done"], 1e-9),
            "planning_overhead": min(1.0, d.planning_cost * meetings),
            "onboarding_loss": float((self.onboarding > 0).mean()),
            "team_churn": churn,
            "shocks": shocks,
            "moves": self.moves,
        })
        self._record(row, arrivals.types, exploring)
        self.onboarding = np.maximum(self.onboarding - 1, 0)
        self.tick += 1

    def _costs(self, coordination_share: float, meetings: int) -> dict[str, float]:
        """This tick's wage bill (``wage`` x capacity) split by where the time went (value units)."""
        wage, total = self.environment.config.wage, float(self.capacity.sum())
        onboarding = float(self.capacity[self.onboarding > 0].sum())
        replanning = (total - onboarding) * min(1.0, self.design.planning_cost * meetings)
        coordination = coordination_share * total
        return {
            "cost_capacity": wage * (total - onboarding - replanning - coordination),
            "cost_coordination": wage * coordination,
            "cost_replanning": wage * replanning,
            "cost_restructuring": wage * onboarding,
        }

    def _forget_dead_types(self) -> None:
        """Routine is practice with a type's work: a type born in a dead type's slot starts with none."""
        reborn = self.environment.generation != self._practised_generation
        if reborn.any():
            self.routine[:, reborn] = 0.0
            self.team_routine[reborn] = 0.0
            self._practised_generation = self.environment.generation.copy()

    def run(self, ticks: int) -> OrgModel:
        """Run ``ticks`` more ticks (>= 0) and return the model."""
        _check_range("ticks", ticks, 0, 10_000_000, integer=True)
        for _ in range(ticks):
            self.step()
        return self

    # --- teams and work (vectorised, or one agent at a time) ----------------------------------
    def _assemble(self, t: int) -> tuple[float, float]:
        """Members leave and join teams (``orgsim.teams``); demands their whole team left are handed over
        (``orgsim.work.hand_over``). Returns the share of members who moved and the rework created."""
        if self.engine == "agents":
            from orgsim.reference import assemble

            return assemble(self, t)
        d, book = self.design, self.demands
        before = self.team.copy()
        rework = 0.0
        cover = teams.cover_bits(self.skills, d.team_cover)
        is_team = book.stream == TEAM
        left_bits = teams.work_bits(self._team_work(book.remaining))
        if self.team.max(initial=-1) >= 0:
            rows = book.rows(self.team)
            # Skill in the demand's remaining work, needed only by members who cover nothing left.
            on_left = np.zeros(len(self.team))
            if len(book):
                idle = np.flatnonzero((rows >= 0) & ((cover & left_bits[rows]) == 0))
                on_left[idle] = row_sum(self.skills[idle] * (book.remaining[rows[idle]] > 0))
            out = teams.leavers(self.team, cover, book.uid, left_bits, is_team, on_left, rows=rows,
                                waited=book.stalled >= d.patience)
            self.team[out] = teams.NO_TEAM
            if out.any():
                staffed = rows >= 0
                before_n = np.bincount(rows[staffed], minlength=len(book))
                after_n = np.bincount(rows[staffed & ~out], minlength=len(book))
                emptied = np.flatnonzero((before_n > 0) & (after_n == 0) & is_team & (left_bits != 0)
                                         & (book.ready_at <= t))
                rework = hand_over(self, t, emptied)
        free = self.fluid & (self.team == teams.NO_TEAM) & (self.onboarding == 0)
        ready = is_team & (book.ready_at <= t) & (left_bits != 0)
        asking = np.flatnonzero(ready)
        if len(asking) and free.any():
            uncovered = left_bits[asking] & ~self._covered_bits(cover)[asking]
            strength = np.zeros(len(self.team))
            strength[free] = row_sum(self.skills[free])
            members, which = teams.recruit(cover, strength, free, uncovered)
            self.team[members] = book.uid[asking[which]]
            free[members] = False
            headcount = np.bincount(book.rows(self.team[self.team >= 0]), minlength=len(book))
            alone = asking[(headcount[asking] == 0) & (book.stalled[asking] >= d.patience)]
            if len(alone) and free.any():
                members, which = teams.start_alone(self.skills, free, self._team_work(book.remaining[alone]))
                self.team[members] = book.uid[alone[which]]
        if len(book):
            book.stalled = teams.waiting(book.stalled, ready, (self._covered_bits(cover) & left_bits) != 0)
        return float((self.team != before).mean()), rework

    def _covered_bits(self, cover: np.ndarray) -> np.ndarray:
        """(D,) bit mask per demand of the capabilities its team-mates cover (``cover``: per member)."""
        in_team = np.flatnonzero(self.team >= 0)
        covered = np.zeros(len(self.demands), dtype=np.int64)
        if len(in_team):
            rows = self.demands.rows(self.team[in_team])
            held = rows >= 0
            np.bitwise_or.at(covered, rows[held], cover[in_team[held]])
        return covered

    def _team_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Members in a team whose demand is still held, and the book row of that demand."""
        members = np.flatnonzero(self.team >= 0)
        rows = self.demands.rows(self.team[members])
        held = rows >= 0
        return members[held], rows[held]

    def _team_work(self, remaining: np.ndarray) -> np.ndarray:
        """The part of ``remaining`` a team works on (all of it, but compliance with a gate)."""
        if self.design.constraints != "gate":
            return remaining
        out = remaining.copy()
        out[:, self.capabilities.compliance] = 0.0
        return out

    def _engine_work(self, t: int, produce: np.ndarray) -> dict[str, Any]:
        if self.engine == "agents":
            from orgsim.reference import work

            return work(self, t, produce)
        return do_work(self, t, produce)

    # --- learning ------------------------------------------------------------------------------
    def _scouts(self) -> np.ndarray:
        """(N, K) this tick's scouting (``orgsim.learning``): 1 where a scout explores."""
        d, env = self.design, self.environment
        if d.exploration <= 0:
            return np.zeros_like(self.skills)
        n_members = len(self.home)
        exact = d.exploration * n_members
        n_scouts = int(exact) + int(self.org_rng.random() < exact - int(exact))
        need = self._believed_need()
        covered = np.count_nonzero(self.skills >= d.team_cover, axis=0)
        goal = np.maximum(need, 1.0 / len(need)) * n_members
        frontier = np.flatnonzero((env.announced_frontier | env.arrived_frontier) & (covered < goal))
        skills = np.where(self.skills >= d.team_cover, -1.0, self.skills)  # scouts widen cover
        if len(frontier):
            targets = frontier
        else:
            supply = (self.skills * self.capacity[:, None]).sum(axis=0)
            shortage = need - supply / supply.sum()
            short = np.flatnonzero(shortage > 0)
            targets = short[np.argsort(-shortage[short], kind="stable")]
        return scouting(skills, self.home, self._adjacency, targets, n_scouts)

    def _believed_need(self) -> np.ndarray:
        """(K,) share of work the organisation believes its demand needs by capability: the mix of
        arrivals it sensed over its memory times what it believes each type needs (no oracle)."""
        d = self.design
        arrivals = self.sensor.read("arrivals", d.memory, d.sensing_delay, noisy=False)
        need = arrivals @ (self.split * self.belief_team + (1 - self.split) * self.belief_fixed)
        total = need.sum()
        return need / total if total > 0 else np.full(len(need), 1.0 / len(need))

    def _learn(self, explore: np.ndarray) -> np.ndarray:
        """Learning by doing and exploring, transfer, forgetting (``orgsim.learning``). ``explore`` (N, K)
        is this tick's scouting time in capacity units. Returns the (N,) share of capacity spent exploring."""
        d = self.design
        exploring = explore @ np.ones(explore.shape[1]) / self.capacity  # one capability a scout: exact
        practice = self.worked + explore / self.capacity[:, None]
        book = self.demands
        # Groups for knowledge transfer: each team, and each department (ids above every demand's uid).
        group = np.where(self.fluid, self.team, book.next_uid + self.home)
        transfer_mask = np.zeros_like(self.skills)
        fixed = np.flatnonzero(~self.fluid)
        transfer_mask[fixed, self.home[fixed]] = 1.0
        in_team, rows = self._team_rows()
        transfer_mask[in_team] = book.remaining[rows] > 0
        best = group_best(self.skills, group)
        self.skills = update_skills(self.skills, practice, self.onboarding == 0, d.learning_rate, d.forgetting_rate,
                                    d.knowledge_transfer, best, transfer_mask)
        return exploring

    # --- measures ------------------------------------------------------------------------------------
    def _record(self, row: dict[str, Any], arrival_types: np.ndarray, exploring: np.ndarray) -> None:
        env, book = self.environment, self.demands
        mix, templates = env.mix, env.templates
        compliance = self.capabilities.compliance
        fixed_left = np.where((book.stream != TEAM)[:, None], book.remaining, 0.0)
        self.sensor.record(
            arrivals=np.bincount(arrival_types, minlength=len(mix)).astype(float),
            department_work=self._department_inflow(),
            delivered_work=self.delivered_work,
            delivered=self.delivered_count,
            stream_backlog=np.array([
                np.delete(fixed_left, compliance, axis=1).sum(),
                np.where((book.stream == TEAM)[:, None], book.remaining, 0.0).sum(),
            ]),
        )
        worked = self.worked
        belief = self.split * self.belief_team + (1 - self.split) * self.belief_fixed
        a_needs = float(mix @ (self.served & (env.generation == self.known_generation)))
        a_tech = overlap(self._capacity_by_capability(), mix @ templates)
        a_rules = rules_alignment(mix, belief[:, compliance], templates[:, compliance])
        total_worked = worked.sum()
        in_team = self.team[self.team >= 0]
        n_teams = int(np.count_nonzero(np.bincount(in_team - in_team.min()))) if len(in_team) else 0
        member_work = row_sum(worked)
        busy = member_work + exploring
        row.update({
            "wip": len(book),
            "failure_demand": row["arrived_failure"] / row["arrived"] if row["arrived"] > 0 else 0.0,
            "alignment": (a_needs + a_tech + a_rules) / 3.0,
            "alignment_needs": a_needs,
            "alignment_technology": a_tech,
            "alignment_rules": a_rules,
            "utilisation": float(member_work.mean()),
            "value_per_capacity": row["value_delivered"] / float(self.capacity.sum()),
            "proficiency": float((worked * self.skills).sum() / total_worked) if total_worked > 0 else 0.0,
            "skill_breadth": float((row_sum(self.skills) / row_max(self.skills)).mean()),
            "overload": float(np.clip(busy - SUSTAINABLE_UTILISATION, 0.0, None).mean()),
            "teams": float(n_teams),
            "team_size": float(len(in_team) / n_teams) if n_teams else 0.0,
        })
        self._log.record(row)

    def _department_inflow(self) -> np.ndarray:
        """(K,) work that reached each department this tick: the work of the fixed-stream demands that
        entered its queue (from intake, from another department, or from a team handing over)."""
        book = self.demands
        phase = np.where(book.stream == TEAM, -1, phase_of(book.remaining, self.flow_order))
        entered = np.flatnonzero((phase >= 0) & (phase != book.phase))
        book.phase = phase
        return np.bincount(phase[entered], weights=book.remaining[entered, phase[entered]],
                           minlength=book.remaining.shape[1])

    def _capacity_by_capability(self) -> np.ndarray:
        """(K,) work units a tick members could give each capability: departments in their own, team
        members in every capability they cover."""
        d = self.design
        fixed = ~self.fluid
        at_home = self.capacity * self.skills[np.arange(len(self.home)), self.home]
        out = np.bincount(self.home[fixed], weights=at_home[fixed], minlength=self.skills.shape[1])
        skills = self.skills[self.fluid]
        covered = (skills >= d.team_cover) * skills
        share = covered / np.maximum(row_sum(covered)[:, None], 1e-12)
        return out + (share * skills * self.capacity[self.fluid, None]).sum(axis=0)

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


def skill_profiles(specialisation: float, adjacency: np.ndarray, frontier: np.ndarray) -> np.ndarray:
    """(K, K) skills of a member hired into each department (row): deep at home, broad next to it.

    Nobody is hired with a frontier capability: it stays at the floor until learnt.
    """
    n_caps = len(adjacency)
    profiles = np.full((n_caps, n_caps), SKILL_FLOOR)
    profiles[adjacency > 0] = SKILL_FLOOR + 0.5 * (1.0 - specialisation)
    np.fill_diagonal(profiles, 0.95 - 0.15 * (1.0 - specialisation))
    profiles[:, frontier] = SKILL_FLOOR
    return profiles


def _check_range(name: str, value: Any, low: float, high: float, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if integer:
        ok = ok and float(value).is_integer()
    if not ok or not low <= value <= high:
        raise OrgsimError(f"{name} must be {kind} in [{low:g}, {high:g}], got {value!r}")
