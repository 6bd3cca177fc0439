"""Organisation designs: one set of levers, two archetypes, and the spectrum between them.

Silo'd and responsive organisations run on the same mechanics (``orgsim.model``) and differ only in
the values of these levers. ``preset("siloed")`` and ``preset("responsive")`` are the archetypes;
``from_coupling(c)`` moves every lever from the responsive preset (c = 0) to the silo'd one (c = 1).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orgsim.errors import OrgsimError, describe_validation_error

MANAGEMENT_LAYERS: tuple[str, ...] = ("operations", "process", "structure", "strategy")


class Cadence(BaseModel):
    """Ticks between re-plans of each management layer (1 = every tick from tick 1; founding plans hold at 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operations: int = Field(ge=1, le=10_000, description="Where flexible capacity goes (ticks).")
    process: int = Field(ge=1, le=10_000, description="What each demand type is believed to need (ticks).")
    structure: int = Field(ge=1, le=10_000, description="Headcount of each home unit (ticks).")
    strategy: int = Field(ge=1, le=10_000, description="Which demand types are served (ticks).")


class OrgDesign(BaseModel):
    """The design levers of an organisation. Every combination is a valid organisation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specialisation: float = Field(
        ge=0.0, le=1.0, description="0 = T-shaped generalists, 1 = single-skill cogs (profile of hires)."
    )
    fluidity: float = Field(
        ge=0.0, le=1.0, description="Share of capacity (and of demands) that assembles in teams around "
        "demand; the rest stays in fixed home units and work is handed off between them.",
    )
    team_cover: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Skill at which a member covers a capability for a team: a "
        "team recruits for the capabilities no member covers (team assembly)."
    )
    patience: int = Field(
        default=5, ge=0, le=1000, description="Ticks a team demand waits for someone who covers its work "
        "before the most skilled free member starts it anyway (0 = at once: nobody waits for cover)."
    )
    handoff_delay: int = Field(ge=0, le=1000, description="Ticks a demand waits at each hand-off.")
    handoff_error: float = Field(ge=0.0, le=1.0, description="Chance that a hand-off loses information.")
    rework_fraction: float = Field(
        ge=0.0, le=2.0, description="Share of a phase's planned work redone after a lost hand-off; on a "
        "return, the extra share of the missed work done on top of it."
    )
    sensing_delay: int = Field(ge=0, le=1000, description="Ticks before what happens reaches planners.")
    sensing_noise: float = Field(ge=0.0, le=2.0, description="Relative s.d. of the planners' sensing error.")
    cadence: Cadence = Field(description="Re-planning cadence of each management layer.")
    memory: int = Field(
        default=20, ge=1, le=10_000, description="Ticks a planning layer looks back when it re-plans (the "
        "window it averages what it senses over), separate from how often it re-plans."
    )
    planning_cost: float = Field(
        default=0.01, ge=0.0, le=0.5, description="Share of every member's capacity one re-plan of one layer "
        "costs in its tick (meetings)."
    )
    probing: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Chance that a demand of a type the organisation is unsure "
        "of is probed first: a small early piece of work that reveals the type's needs before committing."
    )
    learning_rate: float = Field(
        ge=0.0, le=1.0, description="Skill gained per tick of full-time work, as a share of the gap to 1."
    )
    forgetting_rate: float = Field(
        ge=0.0, le=1.0, description="Skill lost per tick of not using a capability, as a share above 0.05."
    )
    knowledge_transfer: float = Field(
        default=0.02, ge=0.0, le=1.0, description="Share of the gap to the best team-mate's skill closed per "
        "tick in each capability the team (or department) works on."
    )
    standardisation: float = Field(
        default=0.8, ge=0.0, le=1.0, description="How far routine (repeating the same work: a department's, "
        "or the team stream's way of working with a type) can cut hand-off error, error x (1 - standardisation x "
        "routine), and a team's coordination cost in the same proportion."
    )
    exploration: float = Field(
        ge=0.0, le=0.9, description="Share of capacity spent learning adjacent and frontier capabilities, "
        "not producing."
    )
    constraints: Literal["gate", "integrated"] = Field(
        description="gate: compliance staff form a separate unit every demand passes last, which finds "
        "missed compliance work there (as rework); integrated: compliance skill sits in the team, which "
        "finds missed compliance work while it works."
    )
    coordination_cost: float = Field(
        ge=0.0, le=2.0, description="Efficiency lost to communication per extra team member: a team of n "
        "works at 1/(1 + c(n - 1)) (each member keeps n - 1 communication paths)."
    )
    restructure_cost: int = Field(
        ge=0, le=1000, description="Ticks before a member moved to another department is productive, for "
        "a full skill gap (scaled by the gap); the member keeps its skills and learns the new work by doing."
    )
    strategy_threshold: float = Field(
        ge=0.0, le=1.0, description="A demand type is served only if its sensed share of demand is at least "
        "this when strategy re-plans (types new since then are not served)."
    )


SILOED = OrgDesign(
    specialisation=1.0,
    fluidity=0.0,
    handoff_delay=2,
    handoff_error=0.1,
    rework_fraction=0.5,
    sensing_delay=10,
    sensing_noise=0.1,
    cadence=Cadence(operations=5, process=21, structure=63, strategy=250),
    memory=40,
    probing=0.0,
    learning_rate=0.01,
    forgetting_rate=0.002,
    exploration=0.0,
    constraints="gate",
    coordination_cost=0.1,
    restructure_cost=20,
    strategy_threshold=0.03,
)
RESPONSIVE = OrgDesign(
    specialisation=0.3,
    fluidity=1.0,
    handoff_delay=2,
    handoff_error=0.1,
    rework_fraction=0.5,
    sensing_delay=0,
    sensing_noise=0.1,
    cadence=Cadence(operations=1, process=5, structure=10, strategy=21),
    memory=10,
    probing=0.5,
    learning_rate=0.01,
    forgetting_rate=0.002,
    exploration=0.05,
    constraints="integrated",
    coordination_cost=0.1,
    restructure_cost=20,
    strategy_threshold=0.03,
)
PRESETS: dict[str, OrgDesign] = {"siloed": SILOED, "responsive": RESPONSIVE}
_ALIASES = {"silo'd": "siloed", "silo": "siloed", "machine": "siloed", "agile": "responsive"}


def preset(name: str) -> OrgDesign:
    """The archetype called ``name``: ``"siloed"`` (alias ``"machine"``) or ``"responsive"``."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in PRESETS:
        raise OrgsimError(f"unknown organisation preset {name!r}; allowed: {', '.join(PRESETS)}")
    return PRESETS[key]


def from_coupling(coupling: float) -> OrgDesign:
    """A design between the responsive preset (``coupling=0``) and the silo'd one (``coupling=1``).

    Numeric levers move linearly, cadences geometrically (so 1 -> 250 ticks passes through 16 at
    the midpoint), and constraint handling switches from integrated to gate at 0.5.
    """
    if not 0.0 <= coupling <= 1.0:
        raise OrgsimError(f"coupling must be in [0, 1], got {coupling}")
    lo, hi = RESPONSIVE.model_dump(), SILOED.model_dump()
    mixed: dict = {}
    for name, low in lo.items():
        high = hi[name]
        if name == "cadence":
            mixed[name] = {
                layer: round(float(np.exp(np.log(low[layer]) + coupling * np.log(high[layer] / low[layer]))))
                for layer in low
            }
        elif name == "constraints":
            mixed[name] = high if coupling >= 0.5 else low
        elif isinstance(low, int):
            mixed[name] = round(low + coupling * (high - low))
        else:
            mixed[name] = low + coupling * (high - low)
    return OrgDesign(**mixed)


def resolve(design: str | float | OrgDesign | None = None, **overrides) -> OrgDesign:
    """Turn a preset name, a coupling value or a design into a design, then apply lever overrides."""
    if design is None:
        design = "siloed"
    if isinstance(design, OrgDesign):
        base = design
    elif isinstance(design, str):
        base = preset(design)
    else:
        base = from_coupling(float(design))
    if not overrides:
        return base
    merged = base.model_dump()
    for key, value in overrides.items():
        if key == "cadence" and isinstance(value, dict):
            merged["cadence"] = {**merged["cadence"], **value}
        else:
            merged[key] = value
    try:
        return OrgDesign.model_validate(merged)
    except ValidationError as err:
        raise OrgsimError(describe_validation_error(err, root=OrgDesign)) from None
