"""The demand environment: customers' demands arriving from a world that changes in pace layers.

Four pace layers change at their own speed, each by slow *drift* and sudden *shocks* (after Stewart
Brand: fast layers propose, slow layers dispose):

* ``needs`` (fast): the mix of demand types customers ask for. Demand types are born and die at a
  rate that rises with turbulence (none in a ``clear`` world).
* ``technology`` (slower): which capabilities each demand type needs, and how much. Frontier
  capabilities are announced; some later arrive (new types, and types that move, can need them),
  others never do.
* ``rules`` (slowest): which demand types may be served at all, which are regulated, and how much
  compliance work those need.
* ``volume`` (optional): the arrival rate.

The layers are coupled (``layer_coupling`` > 0): slow layers constrain fast ones (customers cannot ask
for a type the rules forbid; a type is born only where the rules permit it) and sustained change in a
fast layer accumulates into the slower ones (the needs mix moving builds *pressure* that makes
templates move; templates moving builds pressure that makes rules change).

A demand's value is drawn for its type independently of its work; compliance work costs but adds no
customer value. A *regime*, after the Cynefin domains, sets how turbulent the world is. The
environment draws every random number from its own generator, and each scheduled shock from a
generator of its own (keyed by its tick and layer), so two organisations with the same seed see the
same demands, and a run with and without a scheduled shock are identical up to the shock's tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orgsim.capabilities import DEFAULT_CAPABILITIES, Capabilities
from orgsim.errors import OrgsimError

Layer = Literal["needs", "technology", "rules", "volume"]
LAYERS: tuple[str, ...] = ("needs", "technology", "rules", "volume")
Regime = Literal["clear", "complicated", "complex", "chaotic"]

#: Turbulence and signal noise each regime implies unless the scenario sets them.
REGIMES: dict[str, dict[str, float]] = {
    "clear": {"turbulence": 0.0, "signal_noise": 0.0},
    "complicated": {"turbulence": 0.0, "signal_noise": 0.5},
    "complex": {"turbulence": 0.6, "signal_noise": 0.1},
    "chaotic": {"turbulence": 1.0, "signal_noise": 0.2},
}
#: Relative pace of each layer: how strongly turbulence drives its drift and its random shocks.
PACE: dict[str, float] = {"needs": 1.0, "technology": 0.3, "rules": 0.1, "volume": 0.0}
#: Drift per unit of turbulence and pace (see LayerDynamics.drift for the unit of each layer).
DRIFT_SCALE: dict[str, float] = {"needs": 0.05, "technology": 0.02, "rules": 0.01, "volume": 0.02}
SHOCK_RATE_SCALE = 0.02
#: A drifting technology moves a type's template this far towards a fresh one.
TECH_DRIFT_STEP = 0.25
#: After a template moves, capabilities left with less than this share of its work drop out of it.
MIN_WORK_SHARE = 0.05
#: Chance per tick and unit of turbulence that one demand type dies and a new one is born.
TURNOVER_SCALE = 0.02
#: Chance per tick and unit of turbulence that a hidden frontier capability is announced.
ANNOUNCE_SCALE = 0.01
#: Ticks from an announcement until the frontier capability arrives or is abandoned (uniform range).
FRONTIER_LEAD = (40, 120)
#: Chance that an announced frontier capability never arrives (default of ``frontier_fails``).
FRONTIER_FAILS = 0.3
#: Chance that a type born (or a template moved) after a frontier capability arrived needs it
#: (default of ``frontier_uptake``).
FRONTIER_UPTAKE = 0.5
#: Share of rule flips that forbid (or permit again) a type rather than change its regulation.
FORBID_SHARE = 0.3
#: Offered load when neither load nor arrival_rate is given: the silo'd preset then runs at about 76 %
#: utilisation in a clear world (tests/test_mechanisms.py checks it).
DEFAULT_LOAD = 0.7
#: Pressure (accumulated change of a faster layer) that makes one change of the slower layer likely.
PRESSURE_UNIT = {"technology": 0.5, "rules": 2.0}

HIDDEN, ANNOUNCED, ARRIVED = 0, 1, 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shock(_Strict):
    """A change that hits one pace layer at one tick."""

    tick: int = Field(ge=0, description="Tick at which the shock hits (ticks from the start).")
    layer: Layer = Field(description="Pace layer hit: needs, technology, rules or volume.")
    magnitude: float = Field(
        default=0.7, gt=0.0, le=1.0, description="Share of the layer that changes, in (0, 1]."
    )


class LayerDynamics(_Strict):
    """How one pace layer changes by itself (overrides what the regime implies)."""

    drift: float = Field(
        ge=0.0,
        le=1.0,
        description=(
            "Per-tick drift. needs: s.d. of the random walk of each type's log weight; technology: "
            "chance per type and tick that its template moves 25 % towards a fresh one; rules: chance "
            "per type and tick that its regulation flips; volume: s.d. of the log arrival-rate walk."
        ),
    )
    shock_rate: float = Field(ge=0.0, le=1.0, description="Chance per tick of a random shock (1/tick).")
    shock_magnitude: float = Field(ge=0.0, le=1.0, description="Magnitude of random shocks, in [0, 1].")


class EnvironmentConfig(_Strict):
    """Everything that describes the world an organisation works in. Validated on creation."""

    regime: Regime = Field(
        default="complex",
        description="clear (stationary), complicated (stationary, noisy signals), complex (drift and "
        "occasional shocks) or chaotic (frequent large shocks).",
    )
    turbulence: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Drift, shock, turnover and frontier intensity in [0, 1]; "
        "default from regime.",
    )
    signal_noise: float | None = Field(
        default=None, ge=0.0, le=2.0, description="Relative s.d. of noise on every signal the organisation "
        "senses, in [0, 2]; default from regime.",
    )
    capabilities: tuple[str, ...] = Field(
        default=DEFAULT_CAPABILITIES, description="Names of the established capabilities; must include "
        "'compliance'.",
    )
    frontier_capabilities: int = Field(
        default=2, ge=0, le=20, description="Frontier capabilities (named frontier-1, ...) that the technology "
        "layer may announce and bring; nobody needs or has them at founding.",
    )
    frontier_announcements: tuple[int, ...] = Field(
        default=(), description="Ticks at which the next hidden frontier capability is announced, besides "
        "the announcements turbulence brings; it arrives or is abandoned 40-120 ticks later.",
    )
    frontier_fails: float = Field(
        default=FRONTIER_FAILS, ge=0.0, le=1.0, description="Chance that an announced frontier capability "
        "never arrives (a bet on it is wasted).",
    )
    frontier_uptake: float = Field(
        default=FRONTIER_UPTAKE, ge=0.0, le=1.0, description="Chance that a type born, or a template moved, "
        "after a frontier capability arrived needs it.",
    )
    demand_types: int = Field(default=8, ge=1, le=100, description="Demand types alive at any time.")
    load: float | None = Field(
        default=None, gt=0.0, le=10.0, description="Offered customer work over the organisation's capacity "
        "(members x capacity); sets the arrival rate. Default DEFAULT_LOAD (0.7) unless arrival_rate is given.",
    )
    arrival_rate: float | None = Field(
        default=None, gt=0.0, le=100_000.0, description="Mean demands per tick (instead of load)."
    )
    work_per_demand: float = Field(
        default=8.0, gt=0.0, le=1000.0, description="Customer work (work units, compliance not included) a "
        "demand of average size needs, split at random over 1 to 3 capabilities when its type is born "
        "(technology drift and shocks can spread a type over more).",
    )
    size_spread: float = Field(default=0.3, ge=0.0, le=2.0, description="s.d. of log demand size.")
    value_spread: float = Field(
        default=0.5, ge=0.0, le=2.0, description="s.d. of the log value of a demand type (mean value = "
        "work_per_demand value units per demand), drawn independently of its work.",
    )
    wage: float = Field(
        default=0.5, ge=0.0, le=100.0, description="What a unit of capacity costs the organisation per tick, "
        "in value units (a demand's customer work is worth about one value unit a work unit): prices the "
        "cost columns of the organisation's margin.",
    )
    regulated_share: float = Field(default=0.3, ge=0.0, le=1.0, description="Share of types regulated.")
    deadline: int = Field(default=60, ge=1, le=100_000, description="Ticks after arrival a demand expires.")
    promise: int = Field(
        default=20, ge=1, le=100_000, description="Ticks after arrival a customer expects delivery; later, "
        "the customer may chase (failure demand).",
    )
    followup_chance: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Chance that a customer who is failed (refused, chasing a "
        "late demand, given a delivery that misses work, or whose demand expires) comes back with a "
        "follow-up: failure demand.",
    )
    followup_work: float = Field(
        default=1.0, ge=0.0, le=1000.0, description="Work units (front-line capability) a follow-up needs."
    )
    value_decay: float = Field(
        default=0.01, ge=0.0, le=1.0, description="Cost of delay: share of value lost per tick waited."
    )
    layer_coupling: float = Field(
        default=1.0, ge=0.0, le=10.0, description="How strongly pace layers are coupled: 0 = independent "
        "layers; 1 = rules constrain demand and sustained change accumulates into slower layers.",
    )
    layers: dict[Layer, LayerDynamics] = Field(
        default_factory=dict, description="Per-layer drift and random shocks, overriding the regime."
    )
    shocks: tuple[Shock, ...] = Field(default=(), description="Scheduled shocks.")

    @field_validator("capabilities")
    @classmethod
    def _check_capabilities(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        Capabilities(tuple(names))
        if any(n.startswith("frontier-") for n in names):
            raise ValueError("names starting with 'frontier-' are reserved for frontier capabilities")
        return tuple(names)

    @model_validator(mode="after")
    def _one_rate(self) -> EnvironmentConfig:
        if self.load is not None and self.arrival_rate is not None:
            raise ValueError("give either load or arrival_rate, not both")
        return self

    @property
    def effective_turbulence(self) -> float:
        return REGIMES[self.regime]["turbulence"] if self.turbulence is None else self.turbulence

    @property
    def effective_signal_noise(self) -> float:
        return REGIMES[self.regime]["signal_noise"] if self.signal_noise is None else self.signal_noise

    @property
    def all_capabilities(self) -> Capabilities:
        """The established capabilities followed by the frontier ones."""
        names = tuple(self.capabilities) + tuple(f"frontier-{i + 1}" for i in range(self.frontier_capabilities))
        return Capabilities(names, self.frontier_capabilities)

    def mean_work(self) -> float:
        """Expected work units of one demand, compliance included (what load divides by)."""
        return self.work_per_demand + self.regulated_share * 2.0

    def rate(self, total_capacity: float) -> float:
        """Mean demands per tick at volume 1, for an organisation of ``total_capacity`` work units/tick."""
        if self.arrival_rate is not None:
            return self.arrival_rate
        load = DEFAULT_LOAD if self.load is None else self.load
        return load * total_capacity / self.mean_work()

    def dynamics(self) -> dict[str, LayerDynamics]:
        """Drift and random shocks of every layer: the regime's, then any per-layer override."""
        turb = self.effective_turbulence
        derived = {
            layer: LayerDynamics(
                drift=DRIFT_SCALE[layer] * turb * PACE[layer],
                shock_rate=SHOCK_RATE_SCALE * turb**2 * PACE[layer],
                shock_magnitude=0.3 + 0.6 * turb,
            )
            for layer in LAYERS
        }
        derived.update(self.layers)
        return derived


@dataclass(frozen=True)
class Arrivals:
    """The demands that arrive in one tick."""

    types: np.ndarray  # (n,) int demand type
    size: np.ndarray  # (n,) size relative to its type's template (mean 1)
    work: np.ndarray  # (n, K) work units each demand truly needs per capability
    value: np.ndarray  # (n,) value if delivered at once (value units)


class DemandEnvironment:
    """The changing world: demand types and their mix, technology, rules and volume, with their shocks.

    Demand types live in ``2 x demand_types`` slots; ``alive`` marks the ones customers can ask for.
    """

    def __init__(self, config: EnvironmentConfig, rng: np.random.Generator, total_capacity: float = 100.0) -> None:
        self.config = config
        self.capabilities = caps = config.all_capabilities
        self.rng = rng
        self._seed_seq = rng.bit_generator.seed_seq
        self.tick = 0
        self._dynamics = config.dynamics()
        self._turnover = TURNOVER_SCALE * config.effective_turbulence
        self._announce = ANNOUNCE_SCALE * config.effective_turbulence
        self.base_rate = config.rate(total_capacity)
        n_slots = 2 * config.demand_types
        self.generation = np.zeros(n_slots, dtype=np.int64)  # births in each slot so far
        self.alive = np.zeros(n_slots, dtype=bool)
        self.alive[: config.demand_types] = True
        self.log_weights = np.zeros(n_slots)
        self.work_templates = np.zeros((n_slots, len(caps)))
        self.type_value = np.zeros(n_slots)
        self.regulated = np.zeros(n_slots, dtype=bool)
        self.permitted = np.ones(n_slots, dtype=bool)
        self.compliance_work = np.zeros(n_slots)
        self.frontier_state = np.full(len(caps), -1)  # -1: not a frontier capability
        self.frontier_state[caps.frontier_indices] = HIDDEN
        self.frontier_due = np.full(len(caps), -1)
        for t in range(config.demand_types):
            self._bear(t, rng, weight=rng.normal(0.0, 0.7))
        self.volume = 1.0
        self.pressure = {"technology": 0.0, "rules": 0.0}
        self.births: list[tuple[int, int]] = []  # (tick, slot)
        self.shock_log: list[tuple[int, str, float, bool]] = []
        self._scheduled = sorted(config.shocks, key=lambda s: s.tick)
        self._shock_counts: dict[tuple[int, str], int] = {}
        self._last_mix = self.mix

    # --- the state of each layer -------------------------------------------------------------
    @property
    def open(self) -> np.ndarray:
        """(T,) types customers can ask for now: alive and, where layers are coupled, permitted."""
        return self.alive & (self.permitted | (self.config.layer_coupling <= 0))

    @property
    def mix(self) -> np.ndarray:
        """(T,) share of arrivals of each demand type slot now (0 for types that cannot be asked for)."""
        w = np.where(self.open, np.exp(self.log_weights - self.log_weights[self.open].max()), 0.0)
        return w / w.sum()

    @property
    def templates(self) -> np.ndarray:
        """(T, K) work per capability a demand of each type needs now, compliance included."""
        t = self.work_templates.copy()
        t[:, self.capabilities.compliance] = self.regulated * self.compliance_work
        return t

    @property
    def arrival_rate(self) -> float:
        return self.base_rate * self.volume

    @property
    def arrived_frontier(self) -> np.ndarray:
        """(K,) True for frontier capabilities that have arrived."""
        return self.frontier_state == ARRIVED

    @property
    def announced_frontier(self) -> np.ndarray:
        """(K,) True for frontier capabilities announced and not yet arrived (they may never)."""
        return self.frontier_state == ANNOUNCED

    def capability_need(self) -> np.ndarray:
        """(K,) share of all work demand needs now, by capability."""
        need = self.mix @ self.templates
        return need / need.sum()

    # --- change ----------------------------------------------------------------------------
    def shock(self, layer: str, magnitude: float, scheduled: bool = True) -> None:
        """Hit one pace layer now with a change of the given magnitude in (0, 1].

        A scheduled shock (or one applied by hand) draws from a random stream of its own, keyed by its
        tick and layer, so it leaves the environment's own stream untouched.
        """
        if layer not in LAYERS:
            raise OrgsimError(f"unknown layer {layer!r}; allowed: {', '.join(LAYERS)}")
        if not 0.0 < magnitude <= 1.0:
            raise OrgsimError(f"shock magnitude must be in (0, 1], got {magnitude}")
        rng = self._shock_rng(layer) if scheduled else self.rng
        if layer == "needs":
            target = rng.dirichlet(np.full(len(self.log_weights), 0.5))
            self.log_weights = np.log((1 - magnitude) * self.mix + magnitude * target + 1e-12)
        elif layer == "technology":
            for t in np.flatnonzero(self.alive):
                self._move_template(t, magnitude, rng)
        elif layer == "rules":
            alive = np.flatnonzero(self.alive)
            n_flip = max(1, round(magnitude * len(alive)))
            self._flip_rules(rng.choice(alive, size=n_flip, replace=False), rng)
        else:
            self.volume *= 1.0 + magnitude
        self.shock_log.append((self.tick, layer, float(magnitude), scheduled))

    def _shock_rng(self, layer: str) -> np.random.Generator:
        key = (self.tick, layer)
        k = self._shock_counts.get(key, 0)
        self._shock_counts[key] = k + 1
        seq = np.random.SeedSequence(
            self._seed_seq.entropy, spawn_key=(*self._seed_seq.spawn_key, 7919, self.tick, LAYERS.index(layer), k)
        )
        return np.random.default_rng(seq)

    def step(self) -> Arrivals:
        """Advance one tick: shocks due now, random change; then draw this tick's arrivals."""
        while self._scheduled and self._scheduled[0].tick <= self.tick:
            s = self._scheduled.pop(0)
            self.shock(s.layer, s.magnitude)
        self._random_change()
        arrivals = self._draw_arrivals()
        self.tick += 1
        return arrivals

    def _random_change(self) -> None:
        rng, dyn, cfg = self.rng, self._dynamics, self.config
        n_slots = len(self.log_weights)
        for layer in LAYERS:
            # The draw happens whatever the rate, so a rate of 0 shifts no later draw.
            if rng.random() < dyn[layer].shock_rate:
                self.shock(layer, dyn[layer].shock_magnitude, scheduled=False)
        self.log_weights = self.log_weights + rng.normal(0.0, 1.0, n_slots) * dyn["needs"].drift
        # Turnover: one type dies and a new one is born in a free slot.
        u_turnover, u_announce = rng.random(2)
        if u_turnover < self._turnover and self.alive.sum() > 1:
            self.alive[rng.choice(np.flatnonzero(self.alive))] = False
            slot = int(rng.choice(np.flatnonzero(~self.alive)))
            self._bear(slot, rng, weight=float(self.log_weights[self.alive].mean()))
        self._frontier_change(u_announce, rng)
        # Sustained change of a faster layer builds pressure on the slower one.
        mix = self.mix
        coupling = cfg.layer_coupling
        self.pressure["technology"] += coupling * 0.5 * float(np.abs(mix - self._last_mix).sum())
        self._last_mix = mix
        p_tech = dyn["technology"].drift + self.pressure["technology"] / PRESSURE_UNIT["technology"] * 0.01
        moving = np.flatnonzero((rng.random(n_slots) < p_tech) & self.alive)
        for t in moving:
            self._move_template(t, TECH_DRIFT_STEP, rng)
        if len(moving):
            self.pressure["technology"] *= 0.5
            self.pressure["rules"] += coupling * TECH_DRIFT_STEP * len(moving)
        p_rules = dyn["rules"].drift + self.pressure["rules"] / PRESSURE_UNIT["rules"] * 0.001
        flipping = np.flatnonzero((rng.random(n_slots) < p_rules) & self.alive)
        self._flip_rules(flipping, rng)
        if len(flipping):
            self.pressure["rules"] *= 0.5
        self.volume *= float(np.exp(rng.normal() * dyn["volume"].drift))

    def _frontier_change(self, u_announce: float, rng: np.random.Generator) -> None:
        hidden = np.flatnonzero(self.frontier_state == HIDDEN)
        scheduled = self.tick in self.config.frontier_announcements
        if len(hidden) and (u_announce < self._announce or scheduled):
            k = int(hidden[0])
            self.frontier_state[k] = ANNOUNCED
            self.frontier_due[k] = self.tick + int(rng.integers(*FRONTIER_LEAD))
        for k in np.flatnonzero((self.frontier_state == ANNOUNCED) & (self.frontier_due <= self.tick)):
            self.frontier_state[k] = HIDDEN if rng.random() < self.config.frontier_fails else ARRIVED

    def _bear(self, slot: int, rng: np.random.Generator, weight: float) -> None:
        """A new demand type in ``slot``: a fresh template, a value of its own, rules of the day."""
        cfg = self.config
        self.alive[slot] = True
        self.generation[slot] += 1
        self.log_weights[slot] = weight
        self.work_templates[slot] = self._fresh_template(rng)
        self.type_value[slot] = cfg.work_per_demand * rng.lognormal(-0.5 * cfg.value_spread**2, cfg.value_spread)
        self.regulated[slot] = rng.random() < cfg.regulated_share
        self.compliance_work[slot] = rng.uniform(1.0, 3.0)
        self.permitted[slot] = True
        if self.tick > 0:
            self.births.append((self.tick, slot))

    def _fresh_template(self, rng: np.random.Generator) -> np.ndarray:
        """Work per capability for a new kind of demand: 1 to 3 customer capabilities, one of them an
        arrived frontier capability with chance ``frontier_uptake``."""
        caps = self.capabilities
        template = np.zeros(len(caps))
        n_needed = int(rng.integers(1, 4))
        pool = caps.established
        chosen = rng.choice(pool, size=min(n_needed, len(pool)), replace=False)
        arrived = np.flatnonzero(self.arrived_frontier)
        if len(arrived) and rng.random() < self.config.frontier_uptake:
            chosen[0] = rng.choice(arrived)
        template[chosen] = self.config.work_per_demand * rng.dirichlet(np.full(len(chosen), 2.0))
        return template

    def _move_template(self, t: int, step: float, rng: np.random.Generator) -> None:
        old = self.work_templates[t]
        new = (1 - step) * old + step * self._fresh_template(rng)
        new[new < MIN_WORK_SHARE * new.sum()] = 0.0
        self.work_templates[t] = new * (self.config.work_per_demand / new.sum())

    def _flip_rules(self, types: np.ndarray, rng: np.random.Generator) -> None:
        if len(types) == 0:
            return
        forbid = rng.random(len(types)) < FORBID_SHARE
        work = rng.uniform(1.0, 3.0, len(types))
        for t, f, w in zip(types, forbid, work, strict=True):
            if f:
                # Keep at least one type that customers can ask for.
                if self.permitted[t] and (self.alive & self.permitted).sum() <= 1:
                    continue
                self.permitted[t] = not self.permitted[t]
            else:
                self.regulated[t] = not self.regulated[t]
                self.compliance_work[t] = w

    def _draw_arrivals(self) -> Arrivals:
        rng, cfg = self.rng, self.config
        n = rng.poisson(self.arrival_rate)
        types = rng.choice(len(self.log_weights), size=n, p=self.mix)
        size = rng.lognormal(-0.5 * cfg.size_spread**2, cfg.size_spread, n)
        work = self.templates[types] * size[:, None]
        return Arrivals(types=types, size=size, work=work, value=self.type_value[types] * size)
