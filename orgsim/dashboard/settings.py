"""What the presenter chose: the world, the two organisations, the run, and how time is shown.

Every choice is validated here, before a model is built: a bad combination becomes a one-line
``OrgsimError`` (shown in the page, never a crash), and a legal but misleading one becomes a note in
plain words (``notes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orgsim.design import RESPONSIVE, OrgDesign, preset, resolve
from orgsim.environment import EnvironmentConfig, Shock
from orgsim.errors import OrgsimError, describe_validation_error
from orgsim.scenario import Organisation, Scenario, load_scenario, validate_scenario

Kind = Literal["siloed", "responsive", "hybrid"]
TimeUnit = Literal["days", "weeks"]

#: Ticks (working days) per unit of time shown.
TICKS_PER_UNIT: dict[str, int] = {"days": 1, "weeks": 5}
KIND_LABELS: dict[str, str] = {"siloed": "Silo'd", "responsive": "Responsive", "hybrid": "Hybrid"}
#: The levers offered as sliders: label, lowest, highest, step. ``cadence.X`` is a re-planning cadence.
LEVERS: dict[str, tuple[str, float, float, float]] = {
    "fluidity": ("Share of people in teams formed around demand", 0.0, 1.0, 0.05),
    "specialisation": ("Specialisation (0 = T-shaped, 1 = single skill)", 0.0, 1.0, 0.05),
    "handoff_delay": ("Wait at each hand-off (days)", 0, 20, 1),
    "sensing_delay": ("Days before planners see a change", 0, 60, 1),
    "cadence.structure": ("Re-organise at most every (days)", 1, 250, 1),
}
#: The world the dashboard opens on when no scenario is picked: drift, few random shocks, so
#: that the shocks the presenter triggers stand out.
WORKSHOP_WORLD = EnvironmentConfig(regime="complex", turbulence=0.2)
WORKSHOP_HORIZON = 500
#: Steps of a hand-off flow a typical demand passes (1 to 3 customer capabilities, then compliance).
TYPICAL_HANDOFFS = 3


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrgChoice(_Frozen):
    """One side of the dashboard: a preset or a hybrid, then any levers moved by hand."""

    kind: Kind = "siloed"
    coupling: float = Field(default=0.5, ge=0.0, le=1.0, description="Hybrid only: 0 = responsive, 1 = silo'd.")
    levers: dict[str, Any] = Field(default_factory=dict, description="Lever overrides, as for design.resolve.")

    def design(self) -> OrgDesign:
        """The organisation design this choice describes."""
        base = self.coupling if self.kind == "hybrid" else self.kind
        try:
            return resolve(base, **self.levers)
        except ValidationError as err:
            raise OrgsimError(describe_validation_error(err, "organisation levers")) from None

    @property
    def label(self) -> str:
        """Short name for cards and legends, e.g. ``Silo'd`` or ``Hybrid 0.40``."""
        base = KIND_LABELS[self.kind] + (f" {self.coupling:.2f}" if self.kind == "hybrid" else "")
        return base + (" (tuned)" if self.levers else "")

    @property
    def noun(self) -> str:
        """How a sentence names it, e.g. "the silo'd organisation"."""
        kind = KIND_LABELS[self.kind].lower() + (f" (coupling {self.coupling:.2f})" if self.kind == "hybrid" else "")
        return f"the {'tuned ' if self.levers else ''}{kind} organisation"

    def lever(self, name: str) -> float:
        """Current value of one of ``LEVERS`` in this design."""
        design = self.design()
        if name.startswith("cadence."):
            return float(getattr(design.cadence, name.removeprefix("cadence.")))
        return float(getattr(design, name))

    def with_kind(self, kind: str, coupling: float | None = None) -> OrgChoice:
        """The same side switched to another preset or hybrid; levers moved by hand are reset."""
        return OrgChoice(kind=kind, coupling=self.coupling if coupling is None else coupling)

    def with_lever(self, name: str, value: float) -> OrgChoice:
        """The same side with one lever of ``LEVERS`` set to ``value``."""
        if name not in LEVERS:
            raise OrgsimError(f"unknown lever {name!r}; allowed: {', '.join(LEVERS)}")
        _, low, high, _ = LEVERS[name]
        if not low <= value <= high:
            raise OrgsimError(f"{LEVERS[name][0]} must be in [{low:g}, {high:g}], got {value:g}")
        levers = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.levers.items()}
        if name.startswith("cadence."):
            levers.setdefault("cadence", {})[name.removeprefix("cadence.")] = int(value)
        else:
            levers[name] = int(value) if isinstance(low, int) else float(value)
        choice = OrgChoice(kind=self.kind, coupling=self.coupling, levers=levers)
        choice.design()  # validate now
        return choice

    @classmethod
    def from_organisation(cls, organisation: Organisation) -> OrgChoice:
        """The choice that describes an organisation of a scenario file."""
        levers = organisation.model_dump(exclude={"preset", "coupling"}, exclude_none=True)
        if organisation.coupling is not None:
            return cls(kind="hybrid", coupling=organisation.coupling, levers=levers)
        kind = "responsive" if preset(organisation.preset or "siloed") == RESPONSIVE else "siloed"
        return cls(kind=kind, levers=levers)


class Settings(_Frozen):
    """Everything the two models are built from, plus how the page shows time."""

    scenario: str = Field(default="", description="Scenario file the world came from ('' = workshop world).")
    environment: EnvironmentConfig = WORKSHOP_WORLD
    left: OrgChoice = OrgChoice(kind="siloed")
    right: OrgChoice = OrgChoice(kind="responsive")
    members: int = Field(default=100, ge=10, le=2000, description="Headcount of each organisation.")
    seed: int = Field(default=0, ge=0, le=2**31, description="Seed: the same demand stream for both sides.")
    horizon: int = Field(default=WORKSHOP_HORIZON, ge=20, le=5000, description="Ticks shown (play stops there).")
    capacity: float = Field(default=1.0, gt=0.0, le=1e6)
    item_rate: float = Field(default=2.0, gt=0.0, le=1e6)
    wip_limit: float = Field(default=2.0, gt=0.0, le=1e6)
    shock_magnitude: float = Field(default=0.7, gt=0.0, le=1.0, description="Size of a shock from the buttons.")
    time_unit: TimeUnit = "weeks"

    @property
    def sides(self) -> tuple[OrgChoice, OrgChoice]:
        return self.left, self.right

    def model_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("members", "seed", "capacity", "item_rate", "wip_limit")}

    def names(self) -> tuple[str, str]:
        """Labels of the two sides, told apart when both have the same design."""
        left, right = self.left.label, self.right.label
        return (f"{left} (left)", f"{right} (right)") if left == right else (left, right)

    def nouns(self) -> tuple[str, str]:
        """The two sides as a sentence names them, told apart when both have the same design."""
        left, right = self.left.noun, self.right.noun
        return (f"{left} on the left", f"{right} on the right") if left == right else (left, right)

    def changed(self, **changes: Any) -> Settings:
        """A validated copy with some fields changed; ``OrgsimError`` (one line) if it is invalid."""
        return _validate({**self.model_dump(), **changes})

    def with_environment(self, **changes: Any) -> Settings:
        """A validated copy with some environment knobs changed (``regime`` resets turbulence to the
        new regime's own level unless ``turbulence`` is given too)."""
        env = self.environment.model_dump()
        if "regime" in changes and "turbulence" not in changes:
            changes = {**changes, "turbulence": None, "signal_noise": None}
        return self.changed(environment={**env, **changes})

    def with_load(self, load: float) -> Settings:
        """A validated copy with the offered load set (an arrival rate the world had is dropped)."""
        return self.with_environment(load=load, arrival_rate=None)

    def with_side(self, side: str, choice: OrgChoice) -> Settings:
        if side not in ("left", "right"):
            raise OrgsimError(f"side must be left or right, got {side!r}")
        return self.model_copy(update={side: choice})

    def same_run(self, other: Settings) -> bool:
        """True if ``other`` builds the same models (it may differ in how time is shown)."""
        ignore = {"time_unit", "shock_magnitude"}
        return self.model_dump(exclude=ignore) == other.model_dump(exclude=ignore)


def _validate(data: dict[str, Any], source: str = "dashboard") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise OrgsimError(describe_validation_error(err, source, root=Settings)) from None


def from_scenario(path: str | Path, base: Settings | None = None) -> Settings:
    """Settings for a scenario file: its world, its first two organisations (left, right), its run.

    Shown time unit and shock size are kept from ``base``. Raises ``OrgsimError`` for a bad file.
    """
    scenario = load_scenario(path)
    orgs = [OrgChoice.from_organisation(o) for o in scenario.organisations.values()]
    if len(orgs) == 1:
        orgs.append(OrgChoice(kind="responsive" if orgs[0].kind == "siloed" else "siloed"))
    base = base or Settings()
    run = scenario.run
    return _validate(
        {
            **base.model_dump(),
            "scenario": str(path),
            "environment": scenario.environment.model_dump(),
            "left": orgs[0].model_dump(),
            "right": orgs[1].model_dump(),
            "members": run.members,
            "seed": run.first_seed,
            "horizon": run.ticks,
            "capacity": run.capacity,
            "item_rate": run.item_rate,
            "wip_limit": run.wip_limit,
        },
        str(path),
    )


def as_scenario(settings: Settings, ticks: int, shocks: Sequence[tuple[int, str, float]] = (), seeds: int = 1
                ) -> Scenario:
    """The page's run as a scenario: its world, with ``shocks`` (tick, layer, magnitude: those triggered by
    hand or by a story) scheduled where they hit; the two sides as organisations ``left`` and ``right``;
    ``ticks`` ticks (no warm-up) on ``seeds`` seeds from the page's seed. Shocks at or after ``ticks`` are
    left out."""
    env = settings.environment
    extra = [Shock(tick=t, layer=layer, magnitude=m) for t, layer, m in shocks if t < ticks]
    world = env.model_copy(update={"shocks": tuple(s for s in env.shocks if s.tick < ticks) + tuple(extra)})
    return validate_scenario({
        "description": "the dashboard's run",
        "run": {"ticks": ticks, "seeds": seeds, "first_seed": settings.seed, "warmup": 0,
                "members": settings.members, "capacity": settings.capacity, "item_rate": settings.item_rate,
                "wip_limit": settings.wip_limit},
        "environment": world.model_dump(),
        "organisations": {side: side_choice.design().model_dump()
                          for side, side_choice in zip(("left", "right"), settings.sides, strict=True)},
    }, "dashboard")


def workshop(base: Settings | None = None) -> Settings:
    """The default settings (workshop world), keeping the shown time unit and shock size of ``base``."""
    base = base or Settings()
    return Settings(time_unit=base.time_unit, shock_magnitude=base.shock_magnitude)


def work_per_tick(settings: Settings) -> float:
    """Work units customers are expected to ask for per tick at the start, compliance included (about
    the value per tick if all were delivered at once: a demand's mean value is its mean customer work)."""
    env, capacity = settings.environment, settings.members * settings.capacity
    return env.rate(capacity) * env.mean_work()


def load_factor(settings: Settings) -> float:
    """Offered load: work customers ask for per tick at the start over the organisations' capacity (the
    environment's ``load``, or what its ``arrival_rate`` implies)."""
    return work_per_tick(settings) / (settings.members * settings.capacity)


def notes(settings: Settings) -> list[str]:
    """Plain-language warnings about legal but misleading combinations (empty when all is well)."""
    out = []
    env = settings.environment
    if settings.left.design() == settings.right.design():
        out.append("Both sides have the same design, so they will move in step. Pick another design for one side.")
    load = load_factor(settings)
    if load > 1.3:
        out.append(
            f"Customers ask for about {load:.1f}x the work {settings.members} people can do: both organisations "
            "will be swamped whatever their design. Lower the load or add people."
        )
    elif load < 0.3:
        out.append(
            f"Customers ask for only {load:.0%} of what {settings.members} people can do: both organisations "
            "idle, and design matters little. Raise the load."
        )
    for side, name in zip(settings.sides, settings.names(), strict=True):
        wait = side.design().handoff_delay * TYPICAL_HANDOFFS
        if side.design().fluidity < 1.0 and wait >= env.deadline:
            out.append(
                f"{name}: a demand handed through {TYPICAL_HANDOFFS} departments waits {wait} days, past its "
                f"{env.deadline}-day deadline, so most handed-off work will expire."
            )
    if env.regime in ("clear", "complicated") and env.effective_turbulence > 0:
        out.append(
            f"A {env.regime} world does not change by itself; turbulence {env.effective_turbulence:.2f} makes it "
            "drift anyway (choose 'complex' for a drifting world)."
        )
    if env.regime == "chaotic" or env.effective_turbulence >= 0.8:
        out.append("Unplanned shocks come often at this turbulence: the shocks you trigger will be hard to tell apart.")
    return out
