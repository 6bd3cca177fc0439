"""The demand environment: customers' demands arriving from a world that changes in pace layers.

Four pace layers change at their own speed, each by slow *drift* and sudden *shocks*:

* ``needs`` (fast): the mix of demand types customers ask for;
* ``technology`` (slower): which capabilities each demand type needs, and how much;
* ``rules`` (slowest): which demand types are regulated and how much compliance work they need;
* ``volume`` (optional): the arrival rate.

A *regime*, after the Cynefin domains, sets how turbulent the world is. The environment draws every
random number from its own generator, so two organisations given environments with the same seed see
exactly the same demands, whatever they do with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

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
        default=None, ge=0.0, le=1.0, description="Drift and shock intensity in [0, 1]; default from regime."
    )
    signal_noise: float | None = Field(
        default=None, ge=0.0, le=2.0, description="Relative s.d. of noise on every signal the organisation "
        "senses, in [0, 2]; default from regime.",
    )
    capabilities: tuple[str, ...] = Field(
        default=DEFAULT_CAPABILITIES, description="Names of the K capabilities; must include 'compliance'."
    )
    demand_types: int = Field(default=8, ge=1, le=100, description="Number of demand types.")
    arrival_rate: float = Field(default=10.0, gt=0.0, le=100_000.0, description="Mean demands per tick.")
    work_per_demand: float = Field(
        default=8.0, gt=0.0, le=1000.0, description="Customer work (work units, compliance not included) a "
        "demand of average size needs, split at random over 1 to 3 capabilities when its type appears "
        "(technology drift and shocks can spread a type over more).",
    )
    size_spread: float = Field(default=0.3, ge=0.0, le=2.0, description="s.d. of log demand size.")
    regulated_share: float = Field(default=0.3, ge=0.0, le=1.0, description="Share of types regulated.")
    deadline: int = Field(default=60, ge=1, le=100_000, description="Ticks after arrival a demand expires.")
    value_decay: float = Field(
        default=0.01, ge=0.0, le=1.0, description="Cost of delay: share of value lost per tick waited."
    )
    layers: dict[Layer, LayerDynamics] = Field(
        default_factory=dict, description="Per-layer drift and random shocks, overriding the regime."
    )
    shocks: tuple[Shock, ...] = Field(default=(), description="Scheduled shocks.")

    @field_validator("capabilities")
    @classmethod
    def _check_capabilities(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        Capabilities(tuple(names))
        return tuple(names)

    @property
    def effective_turbulence(self) -> float:
        return REGIMES[self.regime]["turbulence"] if self.turbulence is None else self.turbulence

    @property
    def effective_signal_noise(self) -> float:
        return REGIMES[self.regime]["signal_noise"] if self.signal_noise is None else self.signal_noise

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
    """The changing world: demand mix, technology templates, rules and volume, with their shocks."""

    def __init__(self, config: EnvironmentConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.capabilities = Capabilities(config.capabilities)
        self.rng = rng
        self.tick = 0
        self._dynamics = config.dynamics()
        n_types = config.demand_types
        self.log_weights = rng.normal(0.0, 0.7, n_types)
        self.work_templates = np.stack([self._fresh_template() for _ in range(n_types)])
        self.regulated = rng.random(n_types) < config.regulated_share
        self.compliance_work = rng.uniform(1.0, 3.0, n_types)
        self.volume = 1.0
        self.shock_log: list[tuple[int, str, float, bool]] = []
        self._scheduled = sorted(config.shocks, key=lambda s: s.tick)

    # --- the state of each layer -------------------------------------------------------------
    @property
    def mix(self) -> np.ndarray:
        """(T,) share of arrivals of each demand type now."""
        w = np.exp(self.log_weights - self.log_weights.max())
        return w / w.sum()

    @property
    def templates(self) -> np.ndarray:
        """(T, K) work per capability a demand of each type needs now, compliance included."""
        t = self.work_templates.copy()
        t[:, self.capabilities.compliance] = self.regulated * self.compliance_work
        return t

    @property
    def arrival_rate(self) -> float:
        return self.config.arrival_rate * self.volume

    def capability_need(self) -> np.ndarray:
        """(K,) share of all work demand needs now, by capability."""
        need = self.mix @ self.templates
        return need / need.sum()

    # --- change ----------------------------------------------------------------------------
    def shock(self, layer: str, magnitude: float, scheduled: bool = True) -> None:
        """Hit one pace layer now with a change of the given magnitude in (0, 1]."""
        if layer not in LAYERS:
            raise OrgsimError(f"unknown layer {layer!r}; allowed: {', '.join(LAYERS)}")
        if not 0.0 < magnitude <= 1.0:
            raise OrgsimError(f"shock magnitude must be in (0, 1], got {magnitude}")
        rng = self.rng
        if layer == "needs":
            target = rng.dirichlet(np.full(len(self.log_weights), 0.5))
            self.log_weights = np.log((1 - magnitude) * self.mix + magnitude * target + 1e-12)
        elif layer == "technology":
            for t in range(len(self.work_templates)):
                self._move_template(t, magnitude)
        elif layer == "rules":
            n_flip = max(1, round(magnitude * len(self.regulated)))
            self._flip_rules(rng.choice(len(self.regulated), size=n_flip, replace=False))
        else:
            self.volume *= 1.0 + magnitude
        self.shock_log.append((self.tick, layer, float(magnitude), scheduled))

    def step(self) -> Arrivals:
        """Advance one tick: shocks due now, random shocks, drift; then draw this tick's arrivals."""
        while self._scheduled and self._scheduled[0].tick <= self.tick:
            s = self._scheduled.pop(0)
            self.shock(s.layer, s.magnitude)
        self._random_change()
        arrivals = self._draw_arrivals()
        self.tick += 1
        return arrivals

    def _random_change(self) -> None:
        rng, dyn = self.rng, self._dynamics
        n_types = len(self.log_weights)
        for layer in LAYERS:
            d = dyn[layer]
            # The draw happens whatever the rate, so a rate of 0 shifts no later draw (and no organisation
            # ever changes this stream).
            if rng.random() < d.shock_rate:
                self.shock(layer, d.shock_magnitude, scheduled=False)
        self.log_weights = self.log_weights + rng.normal(0.0, 1.0, n_types) * dyn["needs"].drift
        moving = np.flatnonzero(rng.random(n_types) < dyn["technology"].drift)
        for t in moving:
            self._move_template(t, TECH_DRIFT_STEP)
        self._flip_rules(np.flatnonzero(rng.random(n_types) < dyn["rules"].drift))
        self.volume *= float(np.exp(rng.normal() * dyn["volume"].drift))

    def _fresh_template(self) -> np.ndarray:
        """Work per capability for a new kind of demand: 1 to 3 customer capabilities."""
        caps = self.capabilities
        template = np.zeros(len(caps))
        n_needed = self.rng.integers(1, 4)
        chosen = self.rng.choice(caps.work, size=min(n_needed, len(caps.work)), replace=False)
        template[chosen] = self.config.work_per_demand * self.rng.dirichlet(np.full(len(chosen), 2.0))
        return template

    def _move_template(self, t: int, step: float) -> None:
        old = self.work_templates[t]
        new = (1 - step) * old + step * self._fresh_template()
        new[new < MIN_WORK_SHARE * new.sum()] = 0.0
        self.work_templates[t] = new * (self.config.work_per_demand / new.sum())

    def _flip_rules(self, types: np.ndarray) -> None:
        if len(types) == 0:
            return
        self.regulated[types] = ~self.regulated[types]
        self.compliance_work[types] = self.rng.uniform(1.0, 3.0, len(types))

    def _draw_arrivals(self) -> Arrivals:
        rng, cfg = self.rng, self.config
        n = rng.poisson(self.arrival_rate)
        types = rng.choice(len(self.log_weights), size=n, p=self.mix)
        size = rng.lognormal(-0.5 * cfg.size_spread**2, cfg.size_spread, n)
        work = self.templates[types] * size[:, None]
        return Arrivals(types=types, size=size, work=work, value=work.sum(axis=1))
